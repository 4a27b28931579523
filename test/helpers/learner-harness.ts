import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomSslBatch } from '../../src/bench/random-batch.js';
import { resolveRunConfig, type RunConfig } from '../../src/config/run-config.js';
import { createTrainingState, trainStep, type StepResult, type TrainingState } from '../../src/train/training-state.js';
import { buildAlgorithm } from '../../src/run/build-algorithm.js';
import { registry, type Composition } from '../../src/algorithms/index.js';
import type { SslBatch } from '../../src/pipeline/index.js';
import { selectBackend } from '../../src/backend/select.js';
import { testBackend } from './cli.js';

/**
 * Activates the end-to-end tests' backend (torch where the addon is built, else cpu) and returns
 * its name: a real training step on the cpu backend takes seconds, on torch milliseconds.
 */
export async function useTestBackend(): Promise<'torch' | 'cpu'> {
  const name = await testBackend();
  await selectBackend(name, 1);
  return name;
}

/** Labeled counts the harness's learners are built with (4 classes, imbalanced). */
export const HARNESS_COUNTS = [40, 20, 10, 5] as const;

/** A learner in a real training state (cnn-small on 8×8 grey images, 4 classes), stepped on random batches. */
export interface LearnerHarness {
  readonly config: RunConfig;
  readonly state: TrainingState;
  /** One trainer step on the random batch of `seed`. */
  step(step: number, seed?: number): StepResult;
  /** A second training state of the same config (fresh weights), e.g. to restore into. */
  twin(): TrainingState;
  dispose(): void;
}

/** Builds the harness for `composition` with `values` over small defaults (batch 8 labeled, 16 unlabeled). */
export function learnerHarness(composition: Composition | string, values: Record<string, unknown> = {}): LearnerHarness {
  const config = resolveRunConfig(composition, [{ source: 'test', values: { net: 'cnn-small', labeledBatch: 8, unlabeledRatio: 2, iterations: 100, ...values } }]);
  const input = { numClasses: 4, inputChannels: 1, mean: [0.5], std: [0.25] };
  const build = (): TrainingState =>
    createTrainingState(config, input, (m) => buildAlgorithm(config, { numClasses: 4, featureDim: m.featureDim, labeledClassCounts: [...HARNESS_COUNTS], numUnlabeled: 200 }));
  const state = build();
  const twins: TrainingState[] = [];
  const strongViews = registry.learnerHooks(config).unlabeledViews.strong;
  const batch = (seed: number): SslBatch => {
    const b = randomSslBatch({ labeled: 8, unlabeled: 16, height: 8, width: 8, channels: 1, numClasses: 4 }, seed);
    // Strong views 2..K: other random images of the same shape (pixels do not matter to these checks).
    const extra = Array.from({ length: strongViews - 1 }, (_, k) => randomSslBatch({ labeled: 0, unlabeled: 16, height: 8, width: 8, channels: 1, numClasses: 4 }, seed + 1000 * (k + 1)).strongImages);
    return extra.length > 0 ? { ...b, extraStrongImages: extra } : b;
  };
  return {
    config,
    state,
    step: (step, seed = step) => trainStep(state, batch(seed), step),
    twin: () => {
      const t = build();
      twins.push(t);
      return t;
    },
    dispose: () => {
      state.dispose();
      for (const t of twins) t.dispose();
    },
  };
}

/**
 * Steps a learner and checks that the tensor count stays flat after the first step (the first
 * may create lasting state), returning the count before and after.
 */
export function tensorsOverSteps(h: LearnerHarness, steps: number): { readonly afterFirst: number; readonly afterLast: number } {
  h.step(0);
  const afterFirst = tf.memory().numTensors;
  for (let s = 1; s < steps; s++) h.step(s);
  return { afterFirst, afterLast: tf.memory().numTensors };
}

/** The algorithm state as a checkpoint stores it: JSON meta (round-tripped) and the typed arrays. */
export function checkpointed(state: TrainingState): { json: Record<string, unknown>; arrays: Record<string, Float32Array | Int32Array> } {
  const s = state.algorithm.state();
  return { json: JSON.parse(JSON.stringify(s.json)) as Record<string, unknown>, arrays: s.arrays };
}

/**
 * Restores `saved` (the learner's checkpointed state) into a fresh twin and checks the twin holds
 * the same state and the same prior estimates: what a resumed run depends on.
 */
export function expectTwinRestores(h: LearnerHarness, saved: ReturnType<typeof checkpointed>): void {
  const twin = h.twin();
  twin.algorithm.restore(saved);
  expect(checkpointed(twin)).toEqual(saved);
  expect(twin.algorithm.priorEstimates!()).toEqual(h.state.algorithm.priorEstimates!());
}

/** A fresh temporary run folder. */
export function tmpRuns(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}
