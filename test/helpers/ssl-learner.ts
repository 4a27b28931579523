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
import type { Composition } from '../../src/algorithms/index.js';
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
  const batch = randomSslBatch({ ...SHAPE, unlabeled: SHAPE.labeled * config.unlabeledRatio }, 7);
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
        checkpointEvery: 50, labeledBatch: 16, plWindow: 25, workers: 0, progress: 'none', outDir, selection: 'last', runId: 'tiny', emaDecay: 0.9,
        ...values,
      },
    },
  ]);
  const result = await runExperiment(config, { log: () => {}, dataset: syntheticDataset() });
  const events = readFileSync(path.join(result.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { result, train: events.filter((e) => e.type === 'train') as Array<Record<string, number>> };
}
