import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';

/**
 * Softmax cross-entropy, mean over the batch: L = Σ_i (logsumexp(z_i) − z_i[y_i]) / B.
 *
 * @param logits [B, C] float32 (borrowed). @param labels [B] int32 (borrowed).
 * @param _classCounts unused; the argument keeps every labeled loss's signature.
 * @returns a scalar the caller owns. Reduction: mean over B (denominator B).
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, _classCounts?: readonly number[]): tf.Scalar {
  return tf.tidy(() => tf.mean(softmaxCrossEntropy(logits, labels)) as tf.Scalar);
}
