import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { Rng } from '../util/rng.js';
import { assertClassCounts } from './class-weights.js';

/** Options of {@link equalization}. */
export interface EqualizationOptions {
  /** γ, probability that a rare class's negative term is dropped (Tan et al.: 0.9). */
  readonly gamma?: number;
  /** λ, frequency threshold on n_k / N below which a class counts as rare (0.005). */
  readonly lambda?: number;
  /** Seed of the Bernoulli draws β (one per sample and class); the caller varies it per step. */
  readonly seed?: number;
}

/**
 * Softmax equalization loss (Tan et al., CVPR 2020, the image-classification form):
 * p_y = e^{z_y} / Σ_k w̃_k e^{z_k}, w̃_k = 1 − β·T_λ(f_k)·(1 − [k = y]), β ~ Bernoulli(γ) per
 * sample and class, T_λ(f) = 1 when the class frequency f_k = n_k / N < λ. A dropped class is
 * excluded from the softmax's denominator (its logit set to −1e9); loss = −log p_y, mean over the
 * batch. With λ below every frequency, it is plain cross-entropy.
 *
 * @param classCounts labeled n_c, [C], all > 0. @returns a scalar the caller owns.
 */
export function equalization(logits: tf.Tensor2D, labels: tf.Tensor1D, classCounts: readonly number[], opts: EqualizationOptions = {}): tf.Scalar {
  const [batch, numClasses] = logits.shape;
  const counts = assertClassCounts('equalization', classCounts, numClasses);
  const gamma = opts.gamma ?? 0.9;
  const lambda = opts.lambda ?? 0.005;
  const total = counts.reduce((s, n) => s + n, 0);
  const rare = counts.map((n) => (n / total < lambda ? 1 : 0));
  const rng = new Rng(opts.seed ?? 0);
  const beta = new Float32Array(batch * numClasses);
  for (let i = 0; i < beta.length; i++) beta[i] = rng.float() < gamma ? 1 : 0;
  return tf.tidy(() => {
    const y = tf.cast(labels, 'int32') as tf.Tensor1D;
    const negative = tf.sub(1, tf.cast(tf.oneHot(y, numClasses), 'float32'));
    const dropped = tf.mul(tf.mul(tf.tensor2d(beta, [batch, numClasses]), tf.tensor1d(rare)), negative);
    return tf.mean(softmaxCrossEntropy(tf.sub(logits, tf.mul(dropped, 1e9)) as tf.Tensor2D, y)) as tf.Scalar;
  });
}
