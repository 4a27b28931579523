import * as tf from '@tensorflow/tfjs-core';

/**
 * Pairwise cosine similarity between rows of a [B, D] and rows of b [K, D] -> [B, K], as PyTorch's
 * `F.cosine_similarity` (1.13): a·b / sqrt(max(‖a‖²·‖b‖², eps²)), eps = 1e-8. A zero row (a class
 * whose prototype queue is still empty) gives similarity 0.
 * Borrows a and b; caller owns the result.
 */
export function cosineSimilarity(a: tf.Tensor2D, b: tf.Tensor2D, eps = 1e-8): tf.Tensor2D {
  return tf.tidy(() => {
    const dot = tf.matMul(a, b, false, true);
    const na = tf.sum(tf.square(a), 1, true);
    const nb = tf.sum(tf.square(b), 1, true);
    const denom = tf.sqrt(tf.maximum(tf.matMul(na, nb, false, true), eps * eps));
    return tf.div(dot, denom) as tf.Tensor2D;
  });
}
