import * as tf from '@tensorflow/tfjs-core';

/**
 * DASO's pseudo-label blending p̂ = (1 − v_{k'})·p + v_{k'}·q with k' = argmax p (the LINEAR
 * prediction picks the weight; ytaek-oh/daso daso_model.py `current_pl_dist[pred_class]`).
 *
 * @param probs linear p [B, C] (borrowed). @param semantic q [B, C] (borrowed).
 * @param weights v [C] per class (distribution-aware), or one number for the fixed ablation.
 * @returns p̂ [B, C], owned by the caller.
 */
export function blendPseudoLabels(probs: tf.Tensor2D, semantic: tf.Tensor2D, weights: tf.Tensor1D | number): tf.Tensor2D {
  return tf.tidy(() => {
    const v =
      typeof weights === 'number'
        ? tf.scalar(weights)
        : tf.reshape(tf.gather(weights, tf.argMax(probs, 1)), [-1, 1]);
    return tf.add(tf.mul(tf.sub(1, v), probs), tf.mul(v, semantic)) as tf.Tensor2D;
  });
}
