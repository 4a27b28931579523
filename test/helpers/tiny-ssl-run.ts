import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Composition } from '../../src/algorithms/index.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { runExperiment, type ExperimentResult } from '../../src/run/run-experiment.js';
import { syntheticDataset } from './synthetic-dataset.js';

/** A logged `train` event (every 50 steps): the step's loss terms. */
export interface TrainEvent {
  readonly step: number;
  readonly lossLabeled: number;
  readonly lossUnlabeled: number;
  readonly [term: string]: number;
}

/**
 * A tiny semi-supervised run on the 4-class synthetic images through the real config resolution
 * and runner: 20 labeled images of the head class (γ_l = 4), 30 unlabeled per class, batches of
 * 8 + 16. `values` override anything (the add-on's own options, `iterations`). `tensorCounts`:
 * tf.memory().numTensors after each step from the fifth on (flat when nothing leaks).
 */
export async function tinySslRun(
  composition: Pick<Composition, 'algorithm' | 'with'>,
  backend: string,
  runId: string,
  values: Record<string, unknown> = {},
): Promise<{ result: ExperimentResult; trainEvents: TrainEvent[]; events: Array<Record<string, unknown>>; tensorCounts: number[] }> {
  const outDir = mkdtempSync(path.join(tmpdir(), `ssl-${runId}-`));
  const config = resolveRunConfig({ algorithm: composition.algorithm, with: [...composition.with] }, [
    {
      source: 'test',
      values: {
        net: 'cnn-small', backend, n1: 20, m1: 30, gammaL: 4, gammaU: 1, validationPerClass: 5, iterations: 50, evalEvery: 50,
        checkpointEvery: 50, labeledBatch: 8, unlabeledRatio: 2, plWindow: 25, workers: 0, progress: 'none', outDir, selection: 'last',
        runId, ...values,
      },
    },
  ]);
  const tensorCounts: number[] = [];
  const result = await runExperiment(config, {
    log: () => {},
    dataset: syntheticDataset({ trainPerClass: 60, testPerClass: 20 }),
    onStep: (step) => {
      if (step >= 4) tensorCounts.push(tf.memory().numTensors);
    },
  });
  const events = readFileSync(path.join(result.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const trainEvents = events.filter((e) => e.type === 'train') as unknown as TrainEvent[];
  return { result, trainEvents, events, tensorCounts };
}
