import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { expectParity, torchSkipReason, waveTensor } from './helpers.js';

const x = (): tf.Tensor => waveTensor([2, 3, 4]);
const w = (shape: number[]): tf.Tensor => waveTensor(shape, 5);

/** Values and the gradient of sum(op(x) · w) with respect to x. */
async function withGrad(op: (t: tf.Tensor) => tf.Tensor, input: () => tf.Tensor = x): Promise<void> {
  await expectParity(() => op(input()));
  await expectParity(() => tf.grad((t: tf.Tensor) => {
    const y = op(t);
    return tf.sum(tf.mul(y, w(y.shape)));
  })(input()), 5e-5);
}

describe.skipIf(torchSkipReason !== null)('torch shape and data-movement kernels match cpu', () => {
  it('reshape (also -1) and expandDims, squeeze', async () => {
    await withGrad((t) => tf.reshape(t, [4, -1]));
    await withGrad((t) => tf.expandDims(t, 1));
    await withGrad((t) => tf.squeeze(tf.reshape(t, [2, 1, 12])));
    // tf.expandDims runs Reshape; the ExpandDims kernel exists for direct runKernel callers.
    await expectParity(() => [-1, 0, 2].map((dim) => tf.engine().runKernel('ExpandDims', { input: x() }, { dim }) as tf.Tensor));
  });
  it('transpose', async () => {
    await withGrad((t) => tf.transpose(t, [2, 0, 1]));
    await withGrad((t) => tf.transpose(t));
  });
  it('slice (sizes with -1)', async () => {
    await withGrad((t) => tf.slice(t, [0, 1, 1], [2, -1, 2]));
    await withGrad((t) => tf.slice(t, [1, 0, 0], [1, 3, 4]));
  });
  it('stridedSlice: strides, negative strides, masks (tfjs has no gradient)', async () => {
    await expectParity(() => [
      tf.stridedSlice(x(), [0, 0, 0], [2, 3, 4], [1, 2, 2]),
      tf.stridedSlice(x(), [1, 2, 3], [0, 0, 0], [-1, -1, -2]),
      tf.stridedSlice(x(), [0, 1], [0, 2], [1, 1], 1, 0, 0, 0, 2),
      tf.stridedSlice(x(), [0, 0, 0], [1, 3, 4], [1, 1, 1], 0, 0, 0, 1),
    ]);
  });
  it('concat, stack, unstack, split', async () => {
    await expectParity(() => [
      tf.concat([x(), w([2, 3, 4])], 1),
      tf.concat([x(), w([2, 3, 2])], -1),
      tf.concat([tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3], 'int32')]),
      tf.stack([x(), w([2, 3, 4])], 1),
      ...tf.unstack(x(), 2),
      ...tf.split(x(), 2, 2),
      ...tf.split(x(), [1, -1], 1),
    ]);
    await expectParity(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(tf.concat([a, b], 1), w([2, 6, 4])))([x(), w([2, 3, 4])]));
    await withGrad((t) => tf.stack(tf.unstack(t, 1), 0));
    await withGrad((t) => tf.split(t, [1, 3], 2)[1]);
  });
  it('pad (constant) and mirrorPad (reflect, symmetric)', async () => {
    await withGrad((t) => tf.pad(t, [[0, 0], [1, 2], [2, 1]], 0.5));
    await withGrad((t) => tf.mirrorPad(t, [[0, 0], [2, 1], [1, 3]], 'reflect'));
    await withGrad((t) => tf.mirrorPad(t, [[1, 1], [2, 1], [0, 3]], 'symmetric'));
  });
  it('tile, reverse, broadcastTo', async () => {
    await withGrad((t) => tf.tile(t, [1, 2, 3]));
    await withGrad((t) => tf.reverse(t, [0, 2]));
    await withGrad((t) => tf.broadcastTo(t, [2, 2, 3, 4]));
  });
  it('oneHot (out-of-range rows are off), custom on/off, float dtype', async () => {
    const idx = (): tf.Tensor1D => tf.tensor1d([0, 2, 1, -1, 5], 'int32');
    await expectParity(() => [tf.oneHot(idx(), 3), tf.oneHot(idx(), 4, 2, -1), tf.oneHot(idx(), 3, 1, 0, 'float32')]);
  });
  it('gather along axes 0 and 1; gradient (unsortedSegmentSum)', async () => {
    const idx = (): tf.Tensor => tf.tensor1d([2, 0, 2], 'int32');
    await withGrad((t) => tf.gather(t, tf.tensor1d([1, 0, 1], 'int32'), 0));
    await withGrad((t) => tf.gather(t, idx(), 1));
    await withGrad((t) => tf.gather(t, tf.tensor2d([0, 3, 3, 1], [2, 2], 'int32'), 2));
    await expectParity(() => tf.unsortedSegmentSum(x(), tf.tensor1d([1, 1], 'int32'), 3));
  });
  it('matMul with transposes and batches; gradients', async () => {
    await expectParity(() => [
      tf.matMul(waveTensor([3, 4]), w([4, 2])),
      tf.matMul(waveTensor([4, 3]), w([4, 2]), true, false),
      tf.matMul(waveTensor([3, 4]), w([2, 4]), false, true),
      tf.matMul(waveTensor([2, 3, 4]), w([2, 4, 5])),
    ]);
    await expectParity(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true))([waveTensor([3, 4]), w([2, 4])]), 5e-5);
  });
  it('range, linspace, einsum', async () => {
    await expectParity(() => [
      tf.range(0, 5),
      tf.range(1, 2, 0.25),
      tf.range(5, 0, -2, 'int32'),
      tf.range(0, -3),
      tf.linspace(-1, 1, 5),
      tf.einsum('ij,jk->ik', waveTensor([2, 3]), w([3, 2])),
    ]);
  });
});
