import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend } from '../helpers/tf-cpu.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { createTrainingState } from '../../src/train/training-state.js';
import { buildAlgorithm } from '../../src/run/build-algorithm.js';

beforeAll(useCpuBackend);

describe('createTrainingState', () => {
  it('dispose() frees every tensor it made (models, EMA, momentum)', () => {
    const before = tf.memory().numTensors;
    for (const algorithm of ['fixmatch', 'daso', 'supervised'] as const) {
      const config = resolveRunConfig(algorithm, [{ source: 'test', values: { net: 'cnn-small' } }]);
      const state = createTrainingState(config, { numClasses: 4, inputChannels: 1, mean: [0.5], std: [0.25] }, (m) =>
        buildAlgorithm(config, { numClasses: 4, featureDim: m.featureDim, labeledClassCounts: [8, 4, 2, 1], numUnlabeled: 20 }),
      );
      expect(state.velocity).toHaveLength(state.params.length);
      state.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
