import * as tf from '@tensorflow/tfjs-core';

/**
 * MixMatch's sharpening: Sharpen(p, T)_k = p_k^(1/T) / Σ_j p_j^(1/T) (Berthelot et al. 2019,
 * eq. 7; ytaek-oh/daso mixmatch.py and remixmatch.py `pt = p**(1/T); pt / pt.sum(1)`).
 * T < 1 sharpens, T = 1 is the identity, T → 0 approaches one-hot.
 *
 * @param probs [B, C] probabilities (borrowed). @param temperature T > 0.
 * @returns [B, C] probabilities, owned by the caller.
 */
export function sharpen(probs: tf.Tensor2D, temperature: number): tf.Tensor2D {
  if (!(temperature > 0)) throw new Error(`sharpen: temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const p = tf.pow(probs, 1 / temperature);
    return tf.div(p, tf.sum(p, 1, true)) as tf.Tensor2D;
  });
}

/**
 * MixMatch's label guess: the K views' predicted distributions averaged, then sharpened,
 * q = Sharpen((1/K) Σ_k p_k, T) (mixmatch.py: `p = (p1 + p2) / 2`, then `sharpen`).
 *
 * @param viewProbs K tensors [B, C] of probabilities, one per augmented view (borrowed).
 * @returns the average [B, C] and the sharpened guess [B, C], both owned by the caller.
 */
export function guessLabels(viewProbs: readonly tf.Tensor2D[], temperature: number): { mean: tf.Tensor2D; guess: tf.Tensor2D } {
  if (viewProbs.length === 0) throw new Error('guessLabels: viewProbs is empty');
  return tf.tidy(() => {
    const mean = (viewProbs.length === 1 ? viewProbs[0].clone() : tf.div(tf.addN(viewProbs as tf.Tensor2D[]), viewProbs.length)) as tf.Tensor2D;
    return { mean, guess: sharpen(mean, temperature) };
  });
}
