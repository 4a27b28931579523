import * as tf from '@tensorflow/tfjs-core';
import { FAST_KERNELS, hasFastKernel, runFastKernel } from './fast-kernels.js';

/** Result of batch normalisation in training mode. The caller owns all three tensors. */
export interface BatchNormTrainResult {
  /** Normalised, scaled and shifted input, same shape as x. */
  readonly y: tf.Tensor4D | tf.Tensor2D;
  /** Per-channel batch mean [C] (no gradient needed by callers). */
  readonly mean: tf.Tensor1D;
  /** Per-channel biased batch variance [C] (divide by N·H·W, as the normalisation uses). */
  readonly variance: tf.Tensor1D;
}

/**
 * Batch normalisation in training mode over all axes but the last (NHWC or NC).
 * y = (x − mean) / sqrt(var + eps) · gamma + beta with batch statistics.
 *
 * Gradients flow to x, gamma and beta (not through mean and variance: callers only feed them to
 * the running statistics). Backends that provide a fused kernel (the torch backend: ATen's
 * native_batch_norm and its backward) run it; elsewhere this is the tfjs composite.
 */
export function batchNormTrain(
  x: tf.Tensor4D | tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): BatchNormTrainResult {
  if (hasFastKernel(FAST_KERNELS.batchNormTrain)) {
    const [y, mean, variance, invstd] = runFastKernel(FAST_KERNELS.batchNormTrain, { x, gamma, beta }, { eps });
    invstd.dispose();
    return { y: y as tf.Tensor4D | tf.Tensor2D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  return tf.tidy(() => {
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    const { mean, variance } = tf.moments(x, axes);
    const y = tf.batchNorm(x, mean, variance, beta, gamma, eps) as tf.Tensor4D | tf.Tensor2D;
    return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  });
}

/** Batch normalisation with running statistics (evaluation mode). Caller owns the result. */
export function batchNormInference<T extends tf.Tensor4D | tf.Tensor2D>(
  x: T,
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): T {
  return tf.batchNorm(x, runningMean, runningVar, beta, gamma, eps) as T;
}
