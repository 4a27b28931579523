import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { defineAddOn, registry } from '../../src/algorithms/index.js';
import { option } from '../../src/options/option-spec.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath } from '../../src/train/run-checkpoint.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { testBackend } from '../helpers/cli.js';

/**
 * A method added through the registry alone: this file and one `registry.register` call. It
 * sharpens the pseudo-label target with a temperature, adds a (zero-weight by default) loss term,
 * contributes a pseudo-label source, and keeps a checkpointed counter of the steps it saw.
 */
const toyOptions = {
  toyTemperature: option(z.number().positive(), 0.5, 'sharpening temperature of the toy add-on'),
  toyLossWeight: option(z.number().min(0), 0, 'weight of the toy loss term'),
} as const;

const toyMethod = defineAddOn({
  name: 'toy',
  kind: 'add-on',
  summary: 'a test add-on: sharpened targets, a logged loss term, a pseudo-label source',
  paper: '-',
  code: '-',
  defaultBase: 'fixmatch',
  sections: [toyOptions],
  chartMarkers: () => [{ step: 10, label: 'toy marker' }],
  create: (values) => {
    let seen = 0;
    return {
      name: 'toy',
      sources: ['toy'],
      transformTarget: (target) => {
        const p = tf.pow(target, 1 / values.toyTemperature);
        return tf.div(p, tf.sum(p, 1, true)) as tf.Tensor2D;
      },
      lossTerms: (view) => ({ lossToy: tf.mul(tf.mean(tf.square(view.logitsStrong)), values.toyLossWeight) as tf.Scalar }),
      pseudoLabelSources: (view) => ({ toy: tf.argMax(view.probs, 1) as tf.Tensor1D }),
      afterStep: () => {
        seen++;
      },
      state: () => ({ json: { seen }, arrays: { seen: Int32Array.of(seen) } }),
      restore: (s) => {
        seen = (s.arrays.seen as Int32Array)[0];
      },
    };
  },
});
registry.register(toyMethod);

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  backend = await testBackend();
});

describe('an add-on registered from outside src/', () => {
  it('is listed, validated and composed like a built-in', () => {
    expect(registry.names()).toContain('toy');
    expect(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['toy'] }, [{ source: 'test', values: { toyTemperature: 0 } }])).toThrow(/toyTemperature \(--toy-temperature\)/);
    expect(() => resolveRunConfig('fixmatch', [{ source: 'test', values: { toyTemperature: 0.3 } }])).toThrow(/does not apply to fixmatch.*add --with toy/);
    expect(resolveRunConfig('toy', []).with).toEqual(['toy']);
  });

  it('runs `fixmatch --with toy` end to end on tiny data: learns, logs its term and source, checkpoints its state', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-toy-'));
    const config = resolveRunConfig({ algorithm: 'fixmatch', with: ['toy'] }, [
      {
        source: 'test',
        values: {
          net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 1, validationPerClass: 10, iterations: 60, evalEvery: 20,
          checkpointEvery: 20, labeledBatch: 16, unlabeledRatio: 2, plWindow: 20, workers: 0, progress: 'none', outDir, selection: 'last',
          runId: 'toy', toyLossWeight: 0.01,
        },
      },
    ]);
    const result = await runExperiment(config, { log: () => {}, dataset: syntheticDataset() });
    expect(result.summary.algorithm).toBe('fixmatch+toy');
    // Chance is 25% on 4 classes.
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
    expect(Object.keys(result.summary.pseudoLabels?.sources ?? {}).sort()).toEqual(['final', 'linear', 'toy']);
    const events = readFileSync(path.join(result.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const trainEvents = events.filter((e) => e.type === 'train');
    expect(trainEvents.length).toBeGreaterThan(0);
    expect(trainEvents.every((e) => Number.isFinite(e.lossToy) && e.lossToy > 0)).toBe(true);
    const ckpt = await loadCheckpoint(checkpointPath(result.runDir));
    expect(Array.from(ckpt.arrays['algorithm/toy/seen'])).toEqual([60]);
    expect((ckpt.meta.config as { with: string[] }).with).toEqual(['toy']);
  });
});
