import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Classifier } from '../../src/models/model.js';
import { randomSslBatch, type BenchBatchShape } from '../../src/bench/random-batch.js';
import { resolveRunConfig, type RunConfig } from '../../src/config/run-config.js';
import { createTrainingState, trainStep, type StepResult } from '../../src/train/training-state.js';
import { buildAlgorithm } from '../../src/run/build-algorithm.js';
import { runExperiment, type ExperimentResult } from '../../src/run/run-experiment.js';
import { registry, type AddOn, type Algorithm, type Composition, type StepContext, type TrainBatch } from '../../src/algorithms/index.js';
import { selectBackend } from '../../src/backend/select.js';
import { syntheticDataset } from './synthetic-dataset.js';
import { testBackend } from './cli.js';

/** Selects the fastest test backend (torch where built, else cpu) for the trainer-step tests. */
export async function useTrainingBackend(): Promise<void> {
  await selectBackend(await testBackend(), 1);
}

/**
 * A parameter-free "model" whose input images [B, 1, 1, C] ARE the logits (and the features), times
 * `scale`, so a learner's loss can be checked against hand-computed numbers (a different scale
 * tells the EMA model from the student). Both `forward` modes are the same.
 */
export function logitModel(numClasses: number, scale = 1): Classifier {
  const reshape = (x: tf.Tensor4D): tf.Tensor2D => tf.tidy(() => tf.mul(tf.reshape(x, [x.shape[0], numClasses]), scale) as tf.Tensor2D);
  return {
    net: 'logits',
    numClasses,
    featureDim: numClasses,
    params: [],
    buffers: [],
    headVariables: new Set(),
    forward: (x) => ({ features: reshape(x), logits: reshape(x) }),
    head: (f) => f.clone(),
    auxHeads: [],
    auxLogits: (name) => {
      throw new Error(`logitModel has no auxiliary head '${name}'`);
    },
    reportedHead: null,
    dispose() {},
  };
}

/** Rows of logits as a [B, 1, 1, C] image batch for {@link logitModel}. */
export function logitImages(rows: number[][]): tf.Tensor4D {
  return tf.tensor4d(rows.flat(), [rows.length, 1, 1, rows[0].length]);
}

const SHAPE: BenchBatchShape = { labeled: 4, unlabeled: 6, height: 8, width: 8, channels: 1, numClasses: 4 };

/**
 * Trains a composition for `steps` steps through the real trainer step (registry, add-on chain,
 * SGD, EMA, pseudo-label read-back) on one random batch of 8x8 grey images, 4 classes. Returns
 * each step's result and the tensor count before and after (flat when nothing leaks).
 */
export function trainRandomSteps(
  composition: Composition,
  values: Record<string, unknown>,
  steps: number,
): { results: StepResult[]; tensorsBefore: number; tensorsAfter: number; config: RunConfig } {
  const config = resolveRunConfig(composition, [{ source: 'test', values: { net: 'cnn-small', labeledBatch: SHAPE.labeled, unlabeledRatio: 1, iterations: steps, ...values } }]);
  const random = randomSslBatch({ ...SHAPE, unlabeled: SHAPE.labeled * config.unlabeledRatio }, 7);
  // The views the learner asks for (MeanTeacher: two weak), each a copy of the random one.
  const views = registry.learnerHooks(config).unlabeledViews;
  const batch = {
    ...random,
    strongImages: views.strong > 0 ? random.strongImages : new Uint8Array(0),
    extraWeakImages: Array.from({ length: views.weak - 1 }, () => random.weakImages),
    extraStrongImages: Array.from({ length: Math.max(0, views.strong - 1) }, () => random.strongImages),
  };
  const state = createTrainingState(config, { numClasses: SHAPE.numClasses, inputChannels: 1, mean: [0.5], std: [0.25] }, (m) =>
    buildAlgorithm(config, { numClasses: SHAPE.numClasses, featureDim: m.featureDim, labeledClassCounts: [8, 4, 2, 1], numUnlabeled: 32 }),
  );
  try {
    const tensorsBefore = tf.memory().numTensors;
    const results: StepResult[] = [];
    for (let step = 0; step < steps; step++) results.push(trainStep(state, batch, step));
    return { results, tensorsBefore, tensorsAfter: tf.memory().numTensors, config };
  } finally {
    state.dispose();
  }
}

/**
 * A tiny end-to-end run of a composition on the 4-class synthetic dataset (as the toy add-on test
 * does): 100 steps, train events at steps 50 and 100. Returns the result and the train events.
 */
export async function tinySyntheticRun(
  composition: Composition,
  values: Record<string, unknown>,
  backend: string,
): Promise<{ result: ExperimentResult; train: Array<Record<string, number>> }> {
  const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-learner-'));
  const config = resolveRunConfig(composition, [
    {
      source: 'test',
      values: {
        net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 1, validationPerClass: 10, iterations: 100, evalEvery: 50,
        checkpointEvery: 50, labeledBatch: 16, unlabeledRatio: 1, plWindow: 25, workers: 0, progress: 'none', outDir, selection: 'last', runId: 'tiny', emaDecay: 0.9,
        ...values,
      },
    },
  ]);
  const result = await runExperiment(config, { log: () => {}, dataset: syntheticDataset() });
  const events = readFileSync(path.join(result.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { result, train: events.filter((e) => e.type === 'train') as Array<Record<string, number>> };
}

/**
 * An add-on that records which chain points a learner calls, in order, and changes nothing:
 * identity logits and targets, unit weights, the given thresholds, no terms or sources.
 */
export function recordingAddOn(threshold = 0.5): { addOn: AddOn; calls: string[] } {
  const calls: string[] = [];
  const addOn: AddOn = {
    name: 'recorder',
    prepare: () => void calls.push('prepare'),
    adjustLabeledLogits: (z) => (calls.push('adjustLabeledLogits'), z),
    labeledWeights: (labels) => (calls.push('labeledWeights'), tf.ones([labels.shape[0]]) as tf.Tensor1D),
    adjustUnlabeledLogits: (z) => (calls.push('adjustUnlabeledLogits'), z),
    transformTarget: (t) => (calls.push('transformTarget'), t),
    thresholds: (t) => (calls.push('thresholds'), tf.fill([t.shape[0]], threshold) as tf.Tensor1D),
    unlabeledWeights: (t) => (calls.push('unlabeledWeights'), tf.ones([t.shape[0]]) as tf.Tensor1D),
    lossTerms: () => (calls.push('lossTerms'), {}),
    pseudoLabelSources: () => (calls.push('pseudoLabelSources'), {}),
    afterStep: () => void calls.push('afterStep'),
    priorEstimate: () => (calls.push('priorEstimate'), [0.5, 0.5]),
    state: () => (calls.push('state'), { json: {}, arrays: {} }),
    restore: () => void calls.push('restore'),
  };
  return { addOn, calls };
}

/**
 * Drives one step of `learner` by hand (prepare, loss, afterStep on the read-back pseudo-labels),
 * then priorEstimates, state and restore; returns the loss's numbers. Leaves no tensor behind.
 */
export function driveStep(learner: Algorithm, batch: TrainBatch, ctx: StepContext): {
  total: number;
  terms: Record<string, number>;
  sources: Record<string, number[]>;
  mask: number[];
} {
  learner.prepare(batch, ctx);
  const read = (t: tf.Tensor): number[] => Array.from(t.dataSync());
  const out = tf.tidy(() => {
    const l = learner.loss(batch, ctx);
    return {
      total: read(l.total)[0],
      terms: Object.fromEntries(Object.entries(l.terms).map(([k, v]) => [k, read(v)[0]])),
      sources: Object.fromEntries(Object.entries(l.pseudoLabels?.sources ?? {}).map(([k, v]) => [k, read(v)])),
      mask: l.pseudoLabels ? read(l.pseudoLabels.mask) : [],
    };
  });
  const sources = Object.fromEntries(Object.entries(out.sources).map(([k, v]) => [k, Int32Array.from(v)]));
  learner.afterStep({ sources, confident: Uint8Array.from(out.mask) }, ctx);
  learner.priorEstimates?.();
  learner.restore(learner.state());
  return out;
}
