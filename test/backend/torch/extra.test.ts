import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { expectParity, torchSkipReason, waveTensor } from './helpers.js';

describe.skipIf(torchSkipReason !== null)('torch less common kernels match cpu', () => {
  it('gatherND, scatterND, tensorScatterUpdate (tfjs has no gatherND gradient)', async () => {
    const idx = (): tf.Tensor => tf.tensor2d([1, 2, 0, 1, 1, 0], [3, 2], 'int32');
    await expectParity(() => [
      tf.gatherND(waveTensor([2, 3, 4]), idx()),
      tf.gatherND(waveTensor([2, 3, 4]), tf.tensor2d([1, 0], [2, 1], 'int32')),
      tf.scatterND(idx(), waveTensor([3, 4], 1), [2, 3, 4]),
      tf.scatterND(tf.tensor2d([0, 0], [2, 1], 'int32'), tf.tensor1d([2, 3]), [3]),
      tf.tensorScatterUpdate(waveTensor([2, 3]), tf.tensor2d([0, 2, 1, 0], [2, 2], 'int32'), tf.tensor1d([7, 8])),
    ]);
  });

  it('depthwiseConv2d (multiplier 2, same/valid, stride 2): values and gradients', async () => {
    for (const [stride, pad] of [
      [1, 'same'],
      [2, 'valid'],
      [1, 'valid'],
    ] as Array<[number, 'same' | 'valid']>) {
      const x = (): tf.Tensor4D => waveTensor([2, 6, 6, 3]) as tf.Tensor4D;
      const f = (): tf.Tensor4D => waveTensor([3, 3, 3, 2], 1) as tf.Tensor4D;
      await expectParity(() => tf.depthwiseConv2d(x(), f(), stride, pad), 2e-5);
      await expectParity(
        () =>
          tf.grads((a: tf.Tensor, w: tf.Tensor) => {
            const y = tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, stride, pad);
            return tf.sum(tf.mul(y, waveTensor(y.shape, 3)));
          })([x(), f()]),
        5e-5,
      );
    }
  });

  it('fused.conv2d with bias and activations', async () => {
    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const) {
      await expectParity(
        () =>
          tf.fused.conv2d({
            x: waveTensor([1, 5, 5, 2]) as tf.Tensor4D,
            filter: waveTensor([3, 3, 2, 3], 1) as tf.Tensor4D,
            strides: 1,
            pad: 'same',
            bias: waveTensor([3], 2),
            activation,
            leakyreluAlpha: 0.3,
          }),
        2e-5,
      );
    }
    // The one-call path (bias inside the convolution, activation in place): with and without bias,
    // strided, explicit symmetric padding as the folded BatchNorm convs of evaluation use.
    for (const [activation, withBias, strides, pad] of [
      ['leakyrelu', true, 2, 'valid'],
      ['relu', false, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]],
      ['linear', true, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]],
      ['leakyrelu', false, 1, 'same'],
    ] as Array<['leakyrelu' | 'relu' | 'linear', boolean, number, 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]]]>) {
      await expectParity(
        () =>
          tf.fused.conv2d({
            x: waveTensor([2, 6, 6, 3]) as tf.Tensor4D,
            filter: waveTensor([3, 3, 3, 4], 1) as tf.Tensor4D,
            strides,
            pad,
            ...(withBias ? { bias: waveTensor([4], 2) } : {}),
            activation,
            leakyreluAlpha: 0.1,
          }),
        2e-5,
      );
    }
  });

  it('bincount, denseBincount (1-D, 2-D binary and weighted), searchSorted, lowerBound/upperBound', async () => {
    const x = (): tf.Tensor1D => tf.tensor1d([1, 1, 3, 7, 0, 2, 3, 3], 'int32');
    await expectParity(() => [
      tf.bincount(x(), tf.tensor1d([], 'float32'), 5),
      tf.bincount(x(), tf.tensor1d([0.5, 1, 2, 3, 4, 5, 6, 7]), 5),
      tf.denseBincount(x(), tf.tensor1d([], 'int32'), 4),
      tf.denseBincount(tf.tensor2d([1, 1, 3, 0, 2, 5], [2, 3], 'int32'), tf.tensor2d([], [0, 0], 'float32'), 4, true),
      tf.denseBincount(tf.tensor2d([1, 1, 3, 0, 2, 5], [2, 3], 'int32'), tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), 4),
      tf.searchSorted(tf.tensor1d([1, 3, 3, 7]), tf.tensor1d([0, 3, 4, 8]), 'left'),
      tf.upperBound(tf.tensor1d([1, 3, 3, 7]), tf.tensor1d([0, 3, 4, 8])),
      tf.lowerBound(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([2, 6], [2, 1])),
    ]);
  });

  it('diag, bandPart, bitwiseAnd, flipLeftRight', async () => {
    await expectParity(() => [
      tf.diag(tf.tensor1d([1, 2, 3])),
      tf.diag(tf.tensor2d([1, 2, 3, 4], [2, 2])),
      tf.linalg.bandPart(waveTensor([4, 5]), 1, 2),
      tf.linalg.bandPart(waveTensor([2, 4, 3]), -1, 0),
      tf.linalg.bandPart(waveTensor([4, 4]), 0, -1),
      tf.bitwiseAnd(tf.tensor1d([12, 5, 7], 'int32'), tf.tensor1d([10, 3, 0], 'int32')),
      tf.image.flipLeftRight(waveTensor([2, 3, 4, 2]) as tf.Tensor4D),
    ]);
  });
});
