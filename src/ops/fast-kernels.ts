import * as tf from '@tensorflow/tfjs-core';

/**
 * Names of the fused kernels a backend may provide (today the torch backend, src/backend/torch/fused.ts).
 * Our ops run them when the active backend registers them and fall back to tfjs composites
 * otherwise, with the same results up to float rounding.
 *
 * Inputs and attributes:
 * - Conv2D: {x [B,H,W,Ci], filter [kh,kw,Ci,Co]}, {strides [sh,sw], pad [top,bottom,left,right]} -> y.
 * - BatchNormTrain: {x [..,C], gamma [C], beta [C]}, {eps} -> [y, mean [C], biased variance [C], invstd [C]].
 * - BatchNormActTrain: {x [..,C], gamma [C], beta [C]}, {eps, activation 'relu'|'leakyrelu', alpha} -> [z = act(BatchNormTrain's y), mean, biased variance, invstd].
 * - LeakyRelu: {x}, {alpha} -> y.
 * - SoftmaxCrossEntropy: {logits [B,C], labels [B] int32} -> [loss [B], logProbs [B,C]].
 * - SoftCrossEntropy: {logits [B,C], targets [B,C]} -> [loss [B], logProbs [B,C]].
 * - SgdUpdate: {param, grad, velocity}, {lr, momentum, weightDecay, nesterov} -> [param', velocity'].
 * - EmaUpdate: {target, source}, {decay} -> decay·target + (1 − decay)·source.
 */
export const FAST_KERNELS = {
  conv2d: 'SslConv2D',
  batchNormTrain: 'SslBatchNormTrain',
  batchNormActTrain: 'SslBatchNormActTrain',
  leakyRelu: 'SslLeakyRelu',
  softmaxCrossEntropy: 'SslSoftmaxCrossEntropy',
  softCrossEntropy: 'SslSoftCrossEntropy',
  sgdUpdate: 'SslSgdUpdate',
  emaUpdate: 'SslEmaUpdate',
} as const;

/** True when the active backend registers fused kernel `name` (a value of FAST_KERNELS). */
export function hasFastKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Runs a fused kernel with several outputs; the caller owns them. */
export function runFastKernel(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, number | boolean | string | number[]>,
): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? out : [out as tf.Tensor];
}
