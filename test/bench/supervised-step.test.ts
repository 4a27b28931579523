import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomSslBatch } from '../../src/bench/random-batch.js';
import { createSupervisedStep } from '../../src/bench/supervised-step.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { createTrainingState, trainStep } from '../../src/train/trainer.js';
import { useCpuBackend } from '../helpers/tf-cpu.js';

const tiny = { labeled: 4, unlabeled: 0, height: 8, width: 8, channels: 3, numClasses: 10 };

describe('randomSslBatch', () => {
  it('is deterministic per seed and has the requested shapes', () => {
    const a = randomSslBatch({ ...tiny, unlabeled: 2 }, 7);
    const b = randomSslBatch({ ...tiny, unlabeled: 2 }, 7);
    const c = randomSslBatch({ ...tiny, unlabeled: 2 }, 8);
    expect(a).toEqual(b);
    expect(a.labeledImages).not.toEqual(c.labeledImages);
    expect(a.labeledImages.length).toBe(4 * 8 * 8 * 3);
    expect(a.weakImages.length).toBe(2 * 8 * 8 * 3);
    expect(a.strongImages.length).toBe(2 * 8 * 8 * 3);
    expect(a.labeledLabels.every((y) => y >= 0 && y < 10)).toBe(true);
    expect(new Set(a.labeledImages).size).toBeGreaterThan(100);
  });
});

describe('createSupervisedStep through the trainer step', () => {
  beforeAll(useCpuBackend);

  it('trains on the labeled images only, reports lossLabeled, no pseudo-labels, leaks nothing', () => {
    const config = resolveRunConfig('fixmatch', [{ source: 'test', values: { net: 'cnn-small', labeledBatch: 4 } }]);
    const built = createTrainingState(config, { numClasses: 10, inputChannels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    const state = { ...built, algorithm: createSupervisedStep() };
    try {
      const batch = randomSslBatch(tiny, 1);
      const w0 = state.params[0].dataSync().slice();
      const emaBefore = state.ema.model.params[0].variable.dataSync().slice();
      const before = tf.memory().numTensors;
      const first = trainStep(state, batch, 0);
      const second = trainStep(state, batch, 1);
      expect(tf.memory().numTensors).toBe(before);
      expect(Object.keys(first.terms)).toEqual(['lossLabeled']);
      // 10 classes, near-uniform logits at init: CE ≈ ln 10.
      expect(first.terms.lossLabeled).toBeGreaterThan(0.5);
      expect(first.terms.lossLabeled).toBeLessThan(10);
      expect(Number.isFinite(second.terms.lossLabeled)).toBe(true);
      expect(first.pseudoLabels.final).toHaveLength(0);
      expect(first.pseudoLabels.confident).toHaveLength(0);
      expect(state.params[0].dataSync()).not.toEqual(w0);
      // EMA at step 1 has decay 1/2: it moved too.
      expect(state.ema.model.params[0].variable.dataSync()).not.toEqual(emaBefore);
    } finally {
      state.dispose();
    }
  });
});
