import * as tf from '@tensorflow/tfjs-core';

/**
 * DASO's semantic alignment loss over ALL unlabeled samples (no mask):
 * L_align = −Σ_i Σ_k q_ik · log softmax_k(strongLogits_i) / B, with strongLogits = cos(z_strong, c)/T_proto
 * and q the semantic pseudo-label of the weak view (a fixed target: no gradient through it).
 *
 * @param strongSimilarityLogits [B, C] (gradient flows). @param target q [B, C] (no gradient).
 * @returns scalar, caller owns it.
 */
export function semanticAlignmentLoss(strongSimilarityLogits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const batch = strongSimilarityLogits.shape[0];
    const perSample = tf.sum(tf.mul(target, tf.logSoftmax(strongSimilarityLogits)), 1);
    return tf.div(tf.neg(tf.sum(perSample)), batch) as tf.Scalar;
  });
}
