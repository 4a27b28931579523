import * as tf from '@tensorflow/tfjs-core';
import { FAST_KERNELS, hasFastKernel, runFastKernel } from './fast-kernels.js';
import { leakyRelu } from './activations.js';

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
  activation: TrainActivation | null = null,
): BatchNormTrainResult {
  if (activation !== null) return batchNormActTrain(x, gamma, beta, eps, activation);
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

/** An activation applied to batch norm's output in the same call: ReLU, or LeakyReLU with slope alpha > 0. */
export type TrainActivation = { readonly kind: 'relu' } | { readonly kind: 'leakyrelu'; readonly alpha: number };

/**
 * act(batch norm) in training mode; `y` is the activation's output. On the torch backend one
 * ATen batch norm with the activation in place on its output, and one backward through both from
 * the activation's output (whose sign is the normalised value's for a slope > 0): one tensor per
 * layer fewer kept for the backward pass. Elsewhere the composite, with the same values.
 */
function batchNormActTrain(x: tf.Tensor4D | tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, activation: TrainActivation): BatchNormTrainResult {
  const alpha = activation.kind === 'leakyrelu' ? activation.alpha : 0;
  if (activation.kind === 'leakyrelu' && !(alpha > 0)) throw new Error(`batchNormTrain: the LeakyReLU slope must be > 0, got ${alpha}`);
  if (hasFastKernel(FAST_KERNELS.batchNormActTrain)) {
    const [y, mean, variance, invstd] = runFastKernel(FAST_KERNELS.batchNormActTrain, { x, gamma, beta }, { eps, activation: activation.kind, alpha });
    invstd.dispose();
    return { y: y as tf.Tensor4D | tf.Tensor2D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const { y, mean, variance } = batchNormTrain(x, gamma, beta, eps);
  const z = tf.tidy(() => (activation.kind === 'relu' ? tf.relu(y) : leakyRelu(y, alpha)));
  y.dispose();
  return { y: z, mean, variance };
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
