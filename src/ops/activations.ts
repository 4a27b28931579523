import * as tf from '@tensorflow/tfjs-core';
import { FAST_KERNELS, hasFastKernel, runFastKernel } from './fast-kernels.js';

/**
 * LeakyReLU with slope `alpha` for x < 0 (WRN-28-2 and cnn-small use 0.1). Caller owns the result.
 * On backends with the fused kernel the gradient is one op (tfjs's takes three).
 */
export function leakyRelu<T extends tf.Tensor>(x: T, alpha: number): T {
  if (hasFastKernel(FAST_KERNELS.leakyRelu)) return runFastKernel(FAST_KERNELS.leakyRelu, { x }, { alpha })[0] as T;
  return tf.leakyRelu(x, alpha);
}
