import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { expectParity, torchSkipReason, waveTensor } from './helpers.js';

const x = (): tf.Tensor => waveTensor([2, 3, 4]);

describe.skipIf(torchSkipReason !== null)('torch reduction kernels match cpu', () => {
  type Reduce = (t: tf.Tensor, axis?: number | number[], keepDims?: boolean) => tf.Tensor;
  const reductions: Array<[string, Reduce]> = [
    ['sum', tf.sum],
    ['mean', tf.mean],
    ['max', tf.max],
    ['min', tf.min],
    ['prod', tf.prod],
  ];
  for (const [name, op] of reductions) {
    it(`${name}: all axes, one axis, two axes, keepDims; gradient`, async () => {
      await expectParity(() => [op(x()), op(x(), 1), op(x(), [0, 2]), op(x(), -1, true), op(x(), [1, 2], true)]);
      // tfjs's Prod gradient calls a chained method that tfjs-core alone does not install.
      if (name !== 'prod') await expectParity(() => tf.grad((t: tf.Tensor) => op(t, [0, 2]))(x()), 5e-5);
    });
  }

  it('sum and prod of int32 stay int32; sum of bool is int32', async () => {
    const ints = (): tf.Tensor => tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
    await expectParity(() => [tf.sum(ints(), 1), tf.prod(ints(), 0), tf.sum(tf.greater(x(), 0)), tf.max(ints(), 1)]);
  });

  it('all / any', async () => {
    const b = (): tf.Tensor => tf.greater(x(), -0.5);
    await expectParity(() => [tf.all(b()), tf.any(b(), 1), tf.all(b(), [0, 2], true), tf.any(tf.greater(x(), 5))]);
  });

  it('argMax / argMin (int32, first index on ties)', async () => {
    const ties = (): tf.Tensor => tf.tensor2d([1, 3, 3, 0, 0, -1], [2, 3]);
    await expectParity(() => [tf.argMax(x(), 1), tf.argMin(x(), -1), tf.argMax(ties(), 1), tf.argMin(ties(), 1), tf.argMax(x())]);
  });

  it('softmax and logSoftmax: values and gradients', async () => {
    const logits = (): tf.Tensor => tf.mul(waveTensor([3, 5]), 4);
    await expectParity(() => [tf.softmax(logits()), tf.logSoftmax(logits()), tf.softmax(waveTensor([2, 2, 3]))]);
    const w = (): tf.Tensor => waveTensor([3, 5], 7);
    await expectParity(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), w())))(logits()), 5e-5);
    await expectParity(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(t), w())))(logits()), 5e-5);
  });

  it('moments, norm, logSumExp (composites of the above)', async () => {
    await expectParity(() => {
      const m = tf.moments(x(), [0, 1]);
      return [m.mean, m.variance, tf.norm(x()), tf.norm(x(), 2, 1), tf.logSumExp(x(), 1)];
    });
  });

  it('cumsum: plain, exclusive, reverse; gradient', async () => {
    await expectParity(() => [
      tf.cumsum(x(), 1),
      tf.cumsum(x(), 2, true),
      tf.cumsum(x(), 2, false, true),
      tf.cumsum(x(), 0, true, true),
      tf.cumsum(tf.tensor1d([1, 2, 3], 'int32')),
    ]);
    // tfjs's Cumsum gradient only handles the last axis.
    await expectParity(() => tf.grad((t: tf.Tensor) => tf.cumsum(t, 2, true, true))(x()));
  });

  it('topk: values and int32 indices', async () => {
    await expectParity(() => {
      const r = tf.topk(waveTensor([3, 6]), 2);
      return [r.values, r.indices];
    });
  });
});
