import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { expectParity, torchSkipReason, waveTensor } from './helpers.js';

describe.skipIf(torchSkipReason !== null)('smoke', () => {
  it('add', async () => {
    await expectParity(() => tf.add(waveTensor([2, 3]), waveTensor([3], 1)));
  });
  it('grad', async () => {
    await expectParity(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, x)))(waveTensor([2, 3])));
  });
});
