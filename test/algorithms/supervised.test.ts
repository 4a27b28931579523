import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomSslBatch } from '../../src/bench/random-batch.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { createTrainingState, trainStep } from '../../src/train/training-state.js';
import { buildAlgorithm } from '../../src/run/build-algorithm.js';
import { useCpuBackend } from '../helpers/tf-cpu.js';

const tiny = { labeled: 4, unlabeled: 0, height: 8, width: 8, channels: 3, numClasses: 10 };

describe('the supervised learner through the trainer step', () => {
  beforeAll(useCpuBackend);

  it('trains on the labeled images only, reports lossLabeled, no pseudo-labels, leaks nothing', () => {
    const config = resolveRunConfig('supervised', [{ source: 'test', values: { net: 'cnn-small', labeledBatch: 4 } }]);
    const state = createTrainingState(config, { numClasses: 10, inputChannels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }, (m) =>
      buildAlgorithm(config, { numClasses: 10, featureDim: m.featureDim, labeledClassCounts: new Array(10).fill(1), numUnlabeled: 0 }),
    );
    expect(state.algorithm.usesUnlabeled).toBe(false);
    try {
      const batch = randomSslBatch(tiny, 1);
      const w0 = state.params[0].dataSync().slice();
      const emaBefore = state.ema.model.params[0].variable.dataSync().slice();
      const before = tf.memory().numTensors;
      const first = trainStep(state, batch, 0);
      const second = trainStep(state, batch, 1);
      expect(tf.memory().numTensors).toBe(before);
      expect(Object.keys(first.terms)).toEqual(['lossLabeled', 'lr']);
      expect(first.terms.lr).toBe(0.03);
      // 10 classes, near-uniform logits at init: CE ≈ ln 10.
      expect(first.terms.lossLabeled).toBeGreaterThan(0.5);
      expect(first.terms.lossLabeled).toBeLessThan(10);
      expect(Number.isFinite(second.terms.lossLabeled)).toBe(true);
      expect(first.pseudoLabels).toBeUndefined();
      expect(state.params[0].dataSync()).not.toEqual(w0);
      // EMA at step 1 has decay 1/2: it moved too.
      expect(state.ema.model.params[0].variable.dataSync()).not.toEqual(emaBefore);
    } finally {
      state.dispose();
    }
  });
});
