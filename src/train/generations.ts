/**
 * The trainer's side of boundaries and generations (src/algorithms/boundary.ts): the labeled set
 * and sampler of a generation, the predictions boundary work reads, and what a generation's start
 * records. The unlabeled ground truth is used here for the record only, never handed to a method.
 */
import type { BoundaryContext, Generation } from '../algorithms/boundary.js';
import type { Dataset } from '../data/image-set.js';
import type { LongTailSplit } from '../data/longtail.js';
import { ConcatenatedSampler, OffsetSampler, SamplerStream, createLabeledSampler, type BatchSampler, type LabeledSamplerName } from '../data/samplers.js';
import { deriveSeed } from '../util/rng.js';
import type { Classifier } from '../models/model.js';
import { predict } from './evaluate.js';

/** `deriveSeed` streams of a generation's labeled sampler and model initialisation. */
const GENERATION_SAMPLER_STREAM = 5;
const GENERATION_INIT_STREAM = 6;

/** The seed of generation g's fresh model (g ≥ 1; generation 0 is the run's own initialisation). */
export function generationInitSeed(seed: number, generation: number): number {
  return deriveSeed(seed, GENERATION_INIT_STREAM, generation);
}

/** The labeled images of a generation: the labeled split, then its additions with their pseudo-labels. */
export interface LabeledSet {
  /** Indices into the training set. */
  readonly indices: Int32Array;
  /** Labels trained on, position by position. */
  readonly labels: Int32Array;
}

/** The labeled split plus a generation's additions (positions into the unlabeled split). */
export function labeledSetOf(split: LongTailSplit, dataset: Dataset, generation: Generation | null): LabeledSet {
  const base = Int32Array.from(split.labeled, (i) => dataset.train.labels[i]);
  const add = generation?.additions;
  if (!add || add.positions.length === 0) return { indices: split.labeled, labels: base };
  const indices = new Int32Array(split.labeled.length + add.positions.length);
  const labels = new Int32Array(indices.length);
  indices.set(split.labeled);
  labels.set(base);
  add.positions.forEach((p, j) => {
    if (!(p >= 0 && p < split.unlabeled.length)) throw new Error(`labeledSetOf: addition ${j} is at unlabeled position ${p}, outside 0..${split.unlabeled.length - 1}`);
    indices[split.labeled.length + j] = split.unlabeled[p];
    labels[split.labeled.length + j] = add.labels[j];
  });
  return { indices, labels };
}

/**
 * The labeled sampler of a generation. Generation 0 (and a run without generations) draws as the
 * run always did; generation g ≥ 1 draws from its own seed with its step 0 at the generation's
 * start, as DASO's new loader over the rebuilt labeled set.
 */
export function generationSampler(
  names: readonly LabeledSamplerName[],
  labels: Int32Array,
  seed: number,
  batchSize: number,
  iterations: number,
  generation: Generation | null,
): BatchSampler {
  const g = generation?.index ?? 0;
  const own = g === 0 ? seed : deriveSeed(seed, GENERATION_SAMPLER_STREAM, g);
  const length = generation && g > 0 ? generation.end - generation.start : iterations;
  const samplers = names.map((name, i) => createLabeledSampler(name, labels, own, { iterations: length, batchSize }, i === 0 ? SamplerStream.labeled : SamplerStream.labeledSecond + i - 1));
  const sampler = samplers.length === 1 ? samplers[0] : new ConcatenatedSampler(samplers);
  return generation && g > 0 ? new OffsetSampler(sampler, generation.start) : sampler;
}

/** A boundary's view of the run: the EMA model's predictions, each computed once on request. */
export function boundaryContext(
  model: Classifier,
  dataset: Dataset,
  split: LongTailSplit,
  step: number,
  iterations: number,
  log: (line: string) => void,
): BoundaryContext {
  let unlabeled: Float32Array | undefined;
  let validation: { probs: Float32Array; labels: Int32Array } | null | undefined;
  return {
    step,
    iterations,
    unlabeledProbs: () => (unlabeled ??= predict(model, dataset.train, split.unlabeled, dataset).probs),
    validationProbs: () => {
      if (validation === undefined) {
        if (split.validation.length === 0) validation = null;
        else {
          const v = predict(model, dataset.train, split.validation, dataset);
          validation = { probs: v.probs, labels: v.labels };
        }
      }
      return validation;
    },
    log,
  };
}

/** What the run records of a generation's start (events.jsonl `generation`, summary.json `generations`). */
export interface GenerationRecord {
  /** 0-based. */
  readonly index: number;
  readonly startStep: number;
  readonly endStep: number;
  /** [C] pseudo-labeled samples added per (pseudo-)class. */
  readonly addedPerClass: number[];
  /** [C] labeled images per class the generation trains on (split + additions). */
  readonly labeledPerClass: number[];
  /** [C] fraction of each class's additions whose true label is the class; null where none were added. */
  readonly addedPrecision: Array<number | null>;
}

/** The record of a generation, its additions scored against the unlabeled ground truth. */
export function generationRecord(generation: Generation, set: LabeledSet, split: LongTailSplit, dataset: Dataset): GenerationRecord {
  const C = dataset.numClasses;
  const added = new Array<number>(C).fill(0);
  const correct = new Array<number>(C).fill(0);
  const { positions, labels } = generation.additions;
  for (let j = 0; j < positions.length; j++) {
    added[labels[j]]++;
    if (dataset.train.labels[split.unlabeled[positions[j]]] === labels[j]) correct[labels[j]]++;
  }
  const labeledPerClass = new Array<number>(C).fill(0);
  for (const y of set.labels) labeledPerClass[y]++;
  return {
    index: generation.index,
    startStep: generation.start,
    endStep: generation.end,
    addedPerClass: added,
    labeledPerClass,
    addedPrecision: added.map((n, k) => (n === 0 ? null : correct[k] / n)),
  };
}
