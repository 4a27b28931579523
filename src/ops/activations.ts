import * as tf from '@tensorflow/tfjs-core';

/** LeakyReLU with slope `alpha` for x < 0 (WRN-28-2 and cnn-small use 0.1). Caller owns the result. */
export function leakyRelu<T extends tf.Tensor>(x: T, alpha: number): T {
  return tf.leakyRelu(x, alpha);
}
