import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../config/run-config.js';
import { createModel, EmaModel, type HeadSpec, type NetName } from '../models/index.js';
import { labeledLossEntry } from '../losses/index.js';
import type { Classifier } from '../models/model.js';
import type { Algorithm, StepLoss, StepPseudoLabels, TrainBatch } from '../algorithms/algorithm.js';
import { registry } from '../algorithms/index.js';
import { sgdUpdate } from '../ops/sgd.js';
import { toInputTensor, type SslBatch } from '../pipeline/index.js';
import { learningRateAt, type LrSchedule } from './lr-schedule.js';

/** The run's learning-rate schedule from its config. */
export function lrScheduleOf(config: RunConfig): LrSchedule {
  return { lr: config.lr, kind: config.lrSchedule, warmup: config.lrWarmup, milestones: config.lrMilestones, decay: config.lrDecay };
}

/** The head `--head` (resolved from the loss) and the labeled loss's bias init ask for. */
export function headSpecOf(config: RunConfig, numClasses: number): HeadSpec {
  switch (config.head) {
    case 'cosine':
      return { kind: 'cosine' };
    case 'tde':
      return { kind: 'tde', alpha: config.tdeAlpha };
    default:
      return { kind: 'linear', biasInit: labeledLossEntry(config.labeledLoss).biasInit?.(numClasses) };
  }
}

/**
 * A freshly initialised model of the run's architecture: `--net`, the head `--head` and the loss
 * ask for, or the one the base learner needs (BBN's branches, a decoupled stage-2 head). Training,
 * resume and `ssl eval` all build through here, so a checkpoint always finds its variables.
 */
export function createRunModel(config: RunConfig, input: Pick<InputSpec, 'numClasses' | 'inputChannels'>): Classifier {
  const needs = registry.learnerHooks(config).model;
  return createModel(config.net as NetName, {
    numClasses: input.numClasses,
    inputChannels: input.inputChannels,
    seed: config.seed,
    head: needs.head ?? headSpecOf(config, input.numClasses),
    bbn: needs.bbn,
    auxHeads: needs.auxHeads?.map((h) => (h.outputs === 'classes' ? { name: h.name, outputs: input.numClasses, predictsClasses: true } : { name: h.name, outputs: h.outputs })),
    reportedHead: needs.reportedHead ?? null,
  });
}

/** Shape and normalisation of the images a training state is built for. */
export interface InputSpec {
  readonly numClasses: number;
  readonly inputChannels: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Model, EMA model, optimizer state and algorithm of a run; `dispose()` frees their tensors. */
export interface TrainingState {
  readonly config: RunConfig;
  readonly input: InputSpec;
  readonly model: Classifier;
  readonly ema: EmaModel;
  readonly params: tf.Variable[];
  readonly velocity: tf.Variable[];
  readonly algorithm: Algorithm;
  /** The variables the EMA follows; undefined = all. */
  readonly emaVariables?: ReadonlySet<string>;
  dispose(): void;
}

/**
 * Builds what a training step needs, seeded by `config.seed`. `makeAlgorithm` gets the model's
 * feature width (the composition root builds the algorithm from the registry); the state owns
 * the algorithm it returns.
 */
export function createTrainingState(config: RunConfig, input: InputSpec, makeAlgorithm: (model: { readonly featureDim: number }) => Algorithm): TrainingState {
  const build = (): Classifier => createRunModel(config, input);
  const model = build();
  const ema = new EmaModel(model, build, config.emaDecay);
  let algorithm: Algorithm;
  try {
    algorithm = makeAlgorithm(model);
  } catch (err) {
    ema.dispose();
    model.dispose();
    throw err;
  }
  // A decoupled stage 2 trains the head alone: the frozen backbone gets no gradient and no update.
  const trains = algorithm.trains;
  const trained = model.params.filter((p) => !trains || trains({ name: p.name, inHead: model.headVariables.has(p.name) }));
  const params = trained.map((p) => p.variable);
  // With a frozen backbone the EMA follows only what can change: the trained parameters and the head's buffers.
  const emaVariables = trains ? new Set([...trained.map((p) => p.name), ...model.buffers.filter((b) => model.headVariables.has(b.name)).map((b) => b.name)]) : undefined;
  // tf.variable copies its initial value: free the zeros it was made from.
  const velocity = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  return {
    config,
    input,
    model,
    ema,
    params,
    velocity,
    algorithm,
    emaVariables,
    dispose() {
      algorithm.dispose();
      ema.dispose();
      model.dispose();
      velocity.forEach((v) => v.dispose());
    },
  };
}

/** What one step hands back: logged scalars and, for learners that make them, pseudo-labels. */
export interface StepResult {
  readonly terms: Record<string, number>;
  readonly pseudoLabels?: StepPseudoLabels;
}

/** A segment of the run with its own LR schedule and EMA warm-up: a generation of re-training (CReST). */
export interface StepSegment {
  /** Its first step. */
  readonly start: number;
  /** The step after its last one. */
  readonly end: number;
}

/**
 * One optimisation step of the trainer (what `ssl bench` times): batch tensors, `prepare`, loss and
 * gradients in one tape, SGD, EMA update, pseudo-labels read back, `afterStep`. Every tensor it
 * makes is freed before it returns. In a `segment` (default the whole run) the LR schedule and the
 * EMA warm-up count from its start, as after DASO's `_rebuild_lr_scheduler` and new `EMAModel`.
 */
export function trainStep(state: TrainingState, batch: SslBatch, step: number, segment: StepSegment = { start: 0, end: state.config.iterations }): StepResult {
  const { model, ema, params, velocity, algorithm, config, input: dataset } = state;
  const { height: h, width: w, channels: c } = batch;
  const nl = batch.labeledLabels.length;
  const nu = batch.unlabeledLabels.length;
  const view = (images: Uint8Array): tf.Tensor4D => toInputTensor(images, images.length > 0 ? nu : 0, h, w, c, dataset.mean, dataset.std);
  const tensors: TrainBatch = {
    labeledImages: toInputTensor(batch.labeledImages, nl, h, w, c, dataset.mean, dataset.std),
    labeledLabels: tf.tensor1d(batch.labeledLabels, 'int32'),
    weakImages: toInputTensor(batch.weakImages, nu, h, w, c, dataset.mean, dataset.std),
    strongImages: view(batch.strongImages),
    ...(batch.extraWeakImages?.length ? { extraWeakImages: batch.extraWeakImages.map(view) } : {}),
    ...(batch.extraStrongImages?.length ? { extraStrongImages: batch.extraStrongImages.map(view) } : {}),
    unlabeledPositions: batch.unlabeledPositions,
  };
  const ctx = { step, iterations: config.iterations, model, ema: ema.model };
  const lr = learningRateAt(step - segment.start, segment.end - segment.start, lrScheduleOf(config));
  let out: StepLoss | undefined;
  try {
    algorithm.prepare(tensors, ctx);
    const { value, grads } = tf.variableGrads(() => {
      out = algorithm.loss(tensors, ctx);
      keepAll(out);
      return out.total;
    }, params);
    sgdUpdate(
      params,
      params.map((p) => grads[p.name]),
      velocity,
      { lr, momentum: config.momentum, weightDecay: config.weightDecay, nesterov: config.nesterov },
    );
    value.dispose();
    tf.dispose(grads);
    ema.update(model, step - segment.start, state.emaVariables);
    const loss = out as StepLoss | undefined;
    if (!loss) throw new Error('trainStep: the algorithm returned no loss');
    const terms: Record<string, number> = {};
    for (const [k, t] of Object.entries(loss.terms)) terms[k] = (t.dataSync() as Float32Array)[0];
    terms.lr = lr;
    const pseudoLabels = loss.pseudoLabels ? readPseudoLabels(loss.pseudoLabels) : undefined;
    algorithm.afterStep(pseudoLabels, ctx);
    return { terms, pseudoLabels };
  } finally {
    if (out) disposeAll(out);
    tf.dispose(tensors as unknown as tf.TensorContainer);
  }
}

/**
 * Starts the model over (a new generation of CReST): the student gets a fresh initialisation drawn
 * from `seed`, the SGD momentum is zeroed and the EMA model becomes a copy of the student, as
 * DASO's `_rebuild_models` and `_rebuild_optimizer` build new ones. Variables keep their identity,
 * so nothing that holds them (optimizer lists, checkpoint names) changes.
 */
export function reinitialiseModel(state: TrainingState, seed: number): void {
  const fresh = createRunModel({ ...state.config, seed }, state.input);
  try {
    copyVariables(fresh, state.model);
    copyVariables(state.model, state.ema.model);
    tf.tidy(() => state.velocity.forEach((v) => v.assign(tf.zerosLike(v))));
  } finally {
    fresh.dispose();
  }
}

/** Copies every parameter and buffer of `from` into `to` (same architecture) through host memory. */
function copyVariables(from: Classifier, to: Classifier): void {
  const src = [...from.params, ...from.buffers];
  const dst = [...to.params, ...to.buffers];
  if (src.length !== dst.length) throw new Error(`copyVariables: ${src.length} variables into ${dst.length}`);
  tf.tidy(() => {
    dst.forEach((d, i) => {
      if (d.name !== src[i].name) throw new Error(`copyVariables: variable ${i} is ${src[i].name}, expected ${d.name}`);
      // A host copy: `assign(src)` would share storage, which in-place fused updates must never see.
      d.variable.assign(tf.tensor(src[i].variable.dataSync(), src[i].variable.shape, src[i].variable.dtype));
    });
  });
}

function readPseudoLabels(pl: NonNullable<StepLoss['pseudoLabels']>): StepPseudoLabels {
  const sources: Record<string, Int32Array> = {};
  for (const [name, t] of Object.entries(pl.sources)) sources[name] = Int32Array.from(t.dataSync());
  const mask = pl.mask.dataSync() as Float32Array;
  return { sources, confident: Uint8Array.from(mask, (m) => (m > 0 ? 1 : 0)) };
}

function stepTensors(out: StepLoss): tf.Tensor[] {
  const pl = out.pseudoLabels;
  return [out.total, ...Object.values(out.terms), ...(pl ? [...Object.values(pl.sources), pl.mask] : [])];
}

function keepAll(out: StepLoss): void {
  for (const t of stepTensors(out)) tf.keep(t);
}

function disposeAll(out: StepLoss): void {
  // `total` is also returned from the tape, which disposes its own copy; dispose is idempotent.
  for (const t of new Set(stepTensors(out))) t.dispose();
}
