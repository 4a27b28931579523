import * as tf from '@tensorflow/tfjs-core';
import type { SpatialPadding } from './conv.js';

/** BatchNorm's evaluation-mode parameters: running statistics, scale and shift. */
export interface BatchNormParams {
  readonly gamma: tf.Tensor1D;
  readonly beta: tf.Tensor1D;
  readonly runningMean: tf.Tensor1D;
  readonly runningVar: tf.Tensor1D;
  readonly eps: number;
}

/**
 * A bias-free conv followed by evaluation-mode BatchNorm as one conv with a bias:
 * BN(conv(x, W)) = conv(x, W·s) + (β − μ·s) with s = γ / √(σ² + ε) per output channel.
 * `filter` is [kh, kw, Cin, Cout]; the caller owns both results.
 */
export function foldBatchNorm(filter: tf.Tensor4D, bn: BatchNormParams): { readonly filter: tf.Tensor4D; readonly bias: tf.Tensor1D } {
  return tf.tidy(() => {
    const scale = tf.div(bn.gamma, tf.sqrt(tf.add(bn.runningVar, bn.eps))) as tf.Tensor1D;
    return { filter: tf.mul(filter, scale) as tf.Tensor4D, bias: tf.sub(bn.beta, tf.mul(bn.runningMean, scale)) as tf.Tensor1D };
  });
}

/** The activation after a folded conv. */
export type FoldedActivation = 'leakyrelu' | 'relu' | 'linear';

/**
 * conv → BatchNorm (running statistics) → activation, the inference pass of a conv block, as one
 * fused conv with the BatchNorm folded into its filter and bias: on the torch backend one oneDNN
 * convolution with bias and the activation in place, instead of three passes over the output.
 * Same values as the unfolded pass up to float rounding. Caller owns the result.
 */
export function convBatchNormInference(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  pad: SpatialPadding,
  bn: BatchNormParams,
  activation: FoldedActivation,
  leakyreluAlpha: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const folded = foldBatchNorm(filter, bn);
    const [top, bottom, left, right] = pad;
    return tf.fused.conv2d({
      x,
      filter: folded.filter,
      strides: stride,
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      bias: folded.bias,
      activation,
      leakyreluAlpha,
    });
  });
}
