import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { foldBatchNorm } from '../../src/ops/fold-batch-norm.js';
import { createModel } from '../../src/models/create-model.js';
import { withBatchNormFolding } from '../../src/models/layers.js';
import { predict } from '../../src/train/evaluate.js';
import { classificationMetrics } from '../../src/eval/metrics.js';
import { createTrainingState, trainStep } from '../../src/train/training-state.js';
import { buildAlgorithm } from '../../src/run/build-algorithm.js';
import { resolveRunConfig } from '../../src/config/run-config.js';
import { iterateEvalBatches } from '../../src/pipeline/index.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { useTestBackend } from '../helpers/learner-harness.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('foldBatchNorm', () => {
  it('scales each output channel of the filter by γ/√(σ²+ε) and makes the bias β − μ·γ/√(σ²+ε)', () => {
    // 1x1 conv, 1 input channel, 2 output channels: W = [2, 3]; σ² + ε = 4 → s = γ / 2 = [0.5, 1].
    const folded = tf.tidy(() =>
      foldBatchNorm(tf.tensor4d([2, 3], [1, 1, 1, 2]), {
        gamma: tf.tensor1d([1, 2]),
        beta: tf.tensor1d([0.5, -1]),
        runningMean: tf.tensor1d([1, 0]),
        runningVar: tf.tensor1d([3, 3]),
        eps: 1,
      }),
    );
    expect(Array.from(folded.filter.dataSync())).toEqual([1, 3]);
    expect(Array.from(folded.bias.dataSync())).toEqual([0, -1]);
    folded.filter.dispose();
    folded.bias.dispose();
  });
});

describe('evaluation with BatchNorm folded into the convs', () => {
  it('a trained tiny cnn-small: the same predictions and accuracy as the unfolded pass, logits within float rounding, no tensor left', async () => {
    const data = syntheticDataset({ size: 12, trainPerClass: 40, testPerClass: 30 });
    const config = resolveRunConfig('supervised', [{ source: 'test', values: { net: 'cnn-small', labeledBatch: 16, iterations: 40, lr: 0.05 } }]);
    const input = { numClasses: 4, inputChannels: 1, mean: data.mean, std: data.std };
    const state = createTrainingState(config, input, (m) => buildAlgorithm(config, { numClasses: 4, featureDim: m.featureDim, labeledClassCounts: [40, 40, 40, 40], numUnlabeled: 0 }));
    try {
      const before = tf.memory().numTensors;
      let step = 0;
      for (let epoch = 0; epoch < 4; epoch++) {
        for (const b of iterateEvalBatches(data.train, null, 16)) {
          trainStep(state, { step, labeledImages: b.images, labeledLabels: b.labels, weakImages: new Uint8Array(0), strongImages: new Uint8Array(0), unlabeledLabels: new Int32Array(0), unlabeledIndices: new Int32Array(0), unlabeledPositions: new Int32Array(0), height: 12, width: 12, channels: 1 }, step);
          step++;
        }
      }
      const afterTraining = tf.memory().numTensors;
      // After training (its tapes closed) an evaluation pass really runs folded: fused convs, no batch norm.
      const probe = tf.zeros([2, 12, 12, 1]) as tf.Tensor4D;
      const profiled = await tf.profile(() => tf.tidy(() => state.ema.model.forward(probe, false).logits));
      const kernels = profiled.kernels.map((k) => k.name);
      tf.dispose([probe, profiled.result as tf.Tensor]);
      expect(kernels.filter((k) => k === 'FusedConv2D')).toHaveLength(5);
      expect(kernels).not.toContain('FusedBatchNorm');
      for (const model of [state.model, state.ema.model]) {
        const folded = predict(model, data.test, null, data);
        const unfolded = withBatchNormFolding(false, () => predict(model, data.test, null, data));
        expect(Array.from(folded.predictions)).toEqual(Array.from(unfolded.predictions));
        const top1 = classificationMetrics(folded.predictions, folded.labels, 4).top1;
        expect(top1).toBe(classificationMetrics(unfolded.predictions, unfolded.labels, 4).top1);
        let maxDiff = 0;
        for (let i = 0; i < folded.logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(folded.logits[i]! - unfolded.logits[i]!));
        expect(maxDiff).toBeLessThan(1e-4);
      }
      // It learned (4 classes, chance 25%), so the comparison is on a model with real statistics.
      expect(classificationMetrics(predict(state.model, data.test, null, data).predictions, data.test.labels, 4).top1).toBeGreaterThan(0.6);
      expect(tf.memory().numTensors).toBe(afterTraining);
      expect(afterTraining).toBe(before);
    } finally {
      state.dispose();
    }
  }, 120_000);

  it('wrn-28-2 and resnet-32 with moved running statistics: folded and unfolded forwards agree', () => {
    for (const net of ['wrn-28-2', 'resnet-32']) {
      const model = createModel(net, { numClasses: 3, inputChannels: 3, seed: 1 });
      try {
        const x = tf.randomNormal([4, 8, 8, 3], 0.3, 1.2, 'float32', 7) as tf.Tensor4D;
        // Training forwards move every BatchNorm's running mean and variance away from 0 and 1.
        for (let i = 0; i < 3; i++) tf.tidy(() => void model.forward(x, true));
        const out = tf.tidy(() => {
          const a = model.forward(x, false).logits;
          const b = withBatchNormFolding(false, () => model.forward(x, false).logits);
          return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(1e-6, tf.max(tf.abs(b)).dataSync()[0]!);
        });
        expect(out).toBeLessThan(1e-4);
        x.dispose();
      } finally {
        model.dispose();
      }
    }
  }, 120_000);
  it('an eval-mode forward under a gradient tape stays unfolded and differentiable (LeakyReLU included)', () => {
    const model = createModel('cnn-small', { numClasses: 3, inputChannels: 1, seed: 2 });
    try {
      const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
      const { value, grads } = tf.variableGrads(() => tf.sum(model.forward(x, false).logits) as tf.Scalar);
      const reference = withBatchNormFolding(false, () => tf.tidy(() => tf.sum(model.forward(x, false).logits).dataSync()[0]!));
      expect(value.dataSync()[0]).toBe(reference);
      const conv1 = Object.keys(grads).find((k) => grads[k]!.shape.length === 4);
      expect(conv1).toBeDefined();
      expect(tf.tidy(() => tf.sum(tf.abs(grads[conv1!]!)).dataSync()[0]!)).toBeGreaterThan(0);
      tf.dispose([x, value, ...Object.values(grads)]);
    } finally {
      model.dispose();
    }
  });
});
