import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { leakyRelu } from '../../../src/ops/activations.js';
import { batchNormInference, batchNormTrain, type TrainActivation } from '../../../src/ops/batch-norm.js';
import { conv2d } from '../../../src/ops/conv.js';
import { softCrossEntropy, softmaxCrossEntropy } from '../../../src/ops/cross-entropy.js';
import { emaUpdate } from '../../../src/ops/ema.js';
import { FAST_KERNELS } from '../../../src/ops/fast-kernels.js';
import { sgdUpdate } from '../../../src/ops/sgd.js';
import { expectParity, torchSkipReason, waveTensor } from './helpers.js';

/** Kernel names one call of `f` runs on the active backend. */
async function kernelsOf(f: () => tf.TensorContainer): Promise<string[]> {
  const info = await tf.profile(() => tf.tidy(() => f() as tf.Tensor));
  tf.dispose(info.result as tf.TensorContainer);
  return info.kernelNames;
}

/** batchNormTrain (with `activation`, or none) against the cpu composite: y, mean, variance and the three gradients, NHWC and NC. */
async function expectBatchNormTrainParity(activation: TrainActivation | null): Promise<void> {
  for (const shape of [
    [3, 4, 5, 6],
    [7, 6],
  ]) {
    const c = shape[shape.length - 1];
    const x = (): tf.Tensor4D | tf.Tensor2D => tf.add(tf.mul(waveTensor(shape), 2), 0.3) as tf.Tensor4D;
    const gamma = (): tf.Tensor1D => tf.add(waveTensor([c], 1), 1) as tf.Tensor1D;
    const beta = (): tf.Tensor1D => waveTensor([c], 2) as tf.Tensor1D;
    await expectParity(() => {
      const r = batchNormTrain(x(), gamma(), beta(), 1e-5, activation);
      return [r.y, r.mean, r.variance];
    }, 2e-5);
    await expectParity(
      () =>
        tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const r = batchNormTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, activation);
          return tf.sum(tf.mul(r.y, waveTensor(shape, 5)));
        })([x(), gamma(), beta()]),
      1e-4,
    );
  }
  await tf.setBackend('torch');
}

describe.skipIf(torchSkipReason !== null)('fused ops on torch match the cpu composites', () => {
  it('batchNormTrain (training mode): y, mean, variance and gradients, NHWC and NC', async () => {
    await expectBatchNormTrainParity(null);
    const names = await kernelsOf(() => batchNormTrain(waveTensor([2, 3, 3, 4]) as tf.Tensor4D, tf.ones([4]), tf.zeros([4]), 1e-5).y);
    expect(names).toContain(FAST_KERNELS.batchNormTrain);
  });

  it('batchNormTrain with ReLU / LeakyReLU fused: z, mean, variance and gradients, NHWC and NC, one kernel each way', async () => {
    for (const activation of [{ kind: 'leakyrelu', alpha: 0.1 }, { kind: 'relu' }] as const) await expectBatchNormTrainParity(activation);
    // The same values as batch norm then the activation, computed separately on this backend.
    const [fusedY, plainY] = tf.tidy(() => {
      const x = tf.add(tf.mul(waveTensor([2, 3, 3, 4]), 2), 0.3) as tf.Tensor4D;
      const fused = batchNormTrain(x, tf.ones([4]), tf.zeros([4]), 1e-5, { kind: 'leakyrelu', alpha: 0.1 });
      return [fused.y.dataSync(), leakyRelu(batchNormTrain(x, tf.ones([4]), tf.zeros([4]), 1e-5).y, 0.1).dataSync()];
    });
    expect(Array.from(fusedY)).toEqual(Array.from(plainY));
    const names = await kernelsOf(() => batchNormTrain(waveTensor([2, 3, 3, 4]) as tf.Tensor4D, tf.ones([4]), tf.zeros([4]), 1e-5, { kind: 'relu' }).y);
    expect(names).toEqual([FAST_KERNELS.batchNormActTrain]);
    expect(() => batchNormTrain(waveTensor([2, 4]) as tf.Tensor2D, tf.ones([4]), tf.zeros([4]), 1e-5, { kind: 'leakyrelu', alpha: 0 })).toThrow(/slope must be > 0/);
  });

  it('batchNormInference (eval mode) and its gradients', async () => {
    const stats = () => ({
      mean: waveTensor([6], 1) as tf.Tensor1D,
      variance: tf.add(tf.abs(waveTensor([6], 2)), 0.2) as tf.Tensor1D,
      gamma: waveTensor([6], 3) as tf.Tensor1D,
      beta: waveTensor([6], 4) as tf.Tensor1D,
    });
    await expectParity(() => {
      const s = stats();
      return batchNormInference(waveTensor([3, 4, 5, 6]) as tf.Tensor4D, s.mean, s.variance, s.gamma, s.beta, 1e-5);
    });
    await expectParity(() => {
      const s = stats();
      return tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.mul(batchNormInference(a as tf.Tensor4D, s.mean, s.variance, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5), waveTensor([3, 4, 5, 6], 7)),
      )([waveTensor([3, 4, 5, 6]), s.gamma, s.beta]);
    }, 5e-5);
  });

  it('leakyRelu: values and gradient, one fused kernel each way', async () => {
    const x = (): tf.Tensor => waveTensor([2, 3, 4, 5]);
    await expectParity(() => leakyRelu(x(), 0.1));
    await expectParity(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(leakyRelu(t, 0.1), waveTensor([2, 3, 4, 5], 3))))(x()));
    await tf.setBackend('torch');
    expect(await kernelsOf(() => tf.grad((t: tf.Tensor) => tf.sum(leakyRelu(t, 0.1)))(x()))).toContain('SslLeakyReluBackward');
  });

  it('tf.relu gradient: one threshold_backward on torch, tfjs composite elsewhere, same values', async () => {
    // Exact zeros included: both give gradient 0 at x = 0.
    const x = (): tf.Tensor => tf.tensor4d([-2, -0.5, 0, 0.25, 1, 3, 0, -1, 2, -3, 0.5, 0], [2, 2, 1, 3]);
    const upstream = (): tf.Tensor => tf.tensor4d([1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12], [2, 2, 1, 3]);
    const grad = (t: tf.Tensor): tf.Tensor => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.relu(u), upstream())))(t);
    await expectParity(() => grad(x()));
    await tf.setBackend('torch');
    expect(Array.from(tf.tidy(() => grad(x())).dataSync())).toEqual([0, 0, 0, -4, 5, -6, 0, 0, 9, 0, 11, 0]);
    const names = await kernelsOf(() => tf.grad((t: tf.Tensor) => tf.sum(tf.relu(t)))(x()));
    expect(names).toContain('SslReluBackward');
    expect(names).not.toContain('Step');
    await tf.setBackend('cpu');
    expect(await kernelsOf(() => tf.grad((t: tf.Tensor) => tf.sum(tf.relu(t)))(x()))).toContain('Step');
  });

  it('tf.mean gradient: dy / count broadcast in one kernel on torch, same values', async () => {
    const x = (): tf.Tensor => waveTensor([2, 3, 4, 5]);
    for (const [axes, keep] of [
      [[1, 2], false],
      [[0, 3], true],
      [[1], false],
    ] as Array<[number[], boolean]>) {
      await expectParity(() =>
        tf.grad((t: tf.Tensor) => {
          const m = tf.mean(t, axes, keep);
          return tf.sum(tf.mul(m, waveTensor(m.shape, 4)));
        })(x()),
      );
    }
    await tf.setBackend('torch');
    const names = await kernelsOf(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mean(t, [1, 2])))(x()));
    expect(names).toContain('SslMeanBackward');
    expect(names).not.toContain('RealDiv');
  });

  it('softmaxCrossEntropy: per-sample loss and logits gradient', async () => {
    const logits = (): tf.Tensor2D => tf.mul(waveTensor([5, 4]), 3) as tf.Tensor2D;
    const labels = (): tf.Tensor1D => tf.tensor1d([0, 3, 1, 1, 2], 'int32');
    await expectParity(() => softmaxCrossEntropy(logits(), labels()));
    await expectParity(() => tf.grad((z: tf.Tensor) => tf.sum(tf.mul(softmaxCrossEntropy(z as tf.Tensor2D, labels()), tf.tensor1d([1, 0.5, 0, 2, 1]))))(logits()));
  });

  it('softCrossEntropy: loss and gradients for logits and targets', async () => {
    const logits = (): tf.Tensor2D => tf.mul(waveTensor([3, 4]), 3) as tf.Tensor2D;
    const targets = (): tf.Tensor2D => tf.softmax(waveTensor([3, 4], 8)) as tf.Tensor2D;
    await expectParity(() => softCrossEntropy(logits(), targets()));
    await expectParity(() =>
      tf.grads((z: tf.Tensor, q: tf.Tensor) => tf.mul(softCrossEntropy(z as tf.Tensor2D, q as tf.Tensor2D), tf.tensor1d([1, 2, 3])))([logits(), targets()]),
    );
  });

  it('conv2d op with explicit padding: values and both gradients, symmetric and asymmetric', async () => {
    for (const [stride, pad] of [
      [1, [1, 1, 1, 1]],
      [2, [1, 1, 1, 1]],
      [2, [0, 1, 0, 1]],
      [1, [0, 0, 0, 0]],
      [2, [2, 0, 1, 2]],
    ] as Array<[number, [number, number, number, number]]>) {
      const x = (): tf.Tensor4D => waveTensor([2, 8, 7, 3]) as tf.Tensor4D;
      const f = (): tf.Tensor4D => waveTensor([3, 3, 3, 4], 1) as tf.Tensor4D;
      await expectParity(() => conv2d(x(), f(), stride, pad), 2e-5);
      await expectParity(
        () =>
          tf.grads((a: tf.Tensor, w: tf.Tensor) => {
            const y = conv2d(a as tf.Tensor4D, w as tf.Tensor4D, stride, pad);
            return tf.sum(tf.mul(y, waveTensor(y.shape, 2)));
          })([x(), f()]),
        5e-5,
      );
    }
    await tf.setBackend('torch');
    const names = await kernelsOf(() =>
      tf.grads((a: tf.Tensor, w: tf.Tensor) => tf.sum(conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, [1, 1, 1, 1])))([
        waveTensor([1, 4, 4, 2]) as tf.Tensor4D,
        waveTensor([3, 3, 2, 2]) as tf.Tensor4D,
      ]),
    );
    expect(names.filter((n) => n === 'SslConv2DBackward')).toHaveLength(1);
  });

  it('conv2d op: only the filter gradient when the input needs none (first layer)', async () => {
    const f = (): tf.Tensor4D => waveTensor([3, 3, 2, 3], 1) as tf.Tensor4D;
    const grad = (): tf.Tensor => {
      const x = waveTensor([2, 5, 5, 2]) as tf.Tensor4D;
      return tf.grad((w: tf.Tensor) => tf.sum(tf.mul(conv2d(x, w as tf.Tensor4D, 2, [1, 0, 1, 0]), waveTensor([2, 2, 2, 3], 2))))(f());
    };
    await expectParity(grad, 5e-5);
    await tf.setBackend('torch');
    const before = tf.memory().numTensors;
    const names = await kernelsOf(grad);
    expect(names).toContain('SslConv2DBackpropFilter');
    expect(names).not.toContain('SslConv2DBackward');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('sgdUpdate (PyTorch semantics, plain and nesterov, weight decay) and emaUpdate', async () => {
    for (const nesterov of [false, true]) {
      await expectParity(() => {
        const p = tf.variable(waveTensor([3, 4]));
        const v = tf.variable(tf.zeros([3, 4]));
        const q = tf.variable(waveTensor([5], 1));
        const u = tf.variable(tf.zeros([5]));
        for (let step = 0; step < 3; step++) {
          const g = [tf.mul(waveTensor([3, 4], step + 2), 0.5), waveTensor([5], step + 7)];
          sgdUpdate([p, q], g, [v, u], { lr: 0.03, momentum: 0.9, weightDecay: 5e-4, nesterov });
          tf.dispose(g);
        }
        const out = [p, v, q, u].map((t) => tf.clone(t));
        tf.dispose([p, v, q, u]);
        return out;
      });
    }
    await expectParity(() => {
      const t = tf.variable(waveTensor([2, 3]));
      const s = waveTensor([2, 3], 4);
      emaUpdate([t], [s], 0.999);
      emaUpdate([t], [s], 0.5);
      const out = tf.clone(t);
      t.dispose();
      return out;
    }, 1e-6);
  });
});
