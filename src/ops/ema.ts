import * as tf from '@tensorflow/tfjs-core';
import { FAST_KERNELS, hasFastKernel, runFastKernel } from './fast-kernels.js';

/**
 * Exponential moving average in place: target = decay·target + (1 − decay)·source.
 * Used for the EMA model's parameters and BatchNorm statistics.
 *
 * @param target variables updated in place. @param source tensors in the same order (borrowed).
 */
export function emaUpdate(target: readonly tf.Variable[], source: readonly tf.Tensor[], decay: number): void {
  const fused = hasFastKernel(FAST_KERNELS.emaUpdate);
  tf.tidy(() => {
    for (let i = 0; i < target.length; i++) {
      const next = fused
        ? runFastKernel(FAST_KERNELS.emaUpdate, { target: target[i], source: source[i] }, { decay })[0]
        : tf.add(tf.mul(target[i], decay), tf.mul(source[i], 1 - decay));
      target[i].assign(next);
    }
  });
}
