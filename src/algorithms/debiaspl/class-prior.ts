import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../../ops/stop-gradient.js';

/**
 * DebiasPL's p̂ (frank-xwang/debiased-pseudo-labeling `main_DebiasPL.py`): a running estimate of the
 * mean predicted class distribution, and the debiased logits it gives.
 */

/**
 * The batch's mean predicted distribution [C] = mean over the BATCH axis of softmax(z): the
 * official `probs.mean(dim=0)`. (USB's first port took the mean over every element, a scalar,
 * which leaves p̂ uniform: USB#80.)
 *
 * @param logits [B, C] weak-view logits, raw (no debiasing); gradient is stopped. Caller owns the result.
 */
export function meanPrediction(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.softmax(stopGradient(logits)), 0) as tf.Tensor1D);
}

/**
 * The official `update_qhat`: p̂ ← m · p̂ + (1 − m) · mean, per class. Returns a new array.
 * @param prior p̂ [C]. @param mean this batch's mean prediction [C]. @param momentum m.
 */
export function updateClassPrior(prior: Float32Array, mean: ArrayLike<number>, momentum: number): Float32Array {
  if (mean.length !== prior.length) throw new Error(`updateClassPrior: mean has ${mean.length} classes, p̂ ${prior.length}`);
  return Float32Array.from(prior, (p, c) => momentum * p + (1 - momentum) * mean[c]!);
}

/**
 * The official `causal_inference` logits z − τ · log p̂, whose softmax is the debiased pseudo-label.
 * @param logits [B, C] (borrowed). @param prior p̂ [C] > 0. @param tau τ. Caller owns the result.
 */
export function debiasedLogits(logits: tf.Tensor2D, prior: Float32Array, tau: number): tf.Tensor2D {
  return tf.tidy(() => tf.sub(logits, tf.mul(tf.log(tf.tensor1d(prior)), tau)) as tf.Tensor2D);
}
