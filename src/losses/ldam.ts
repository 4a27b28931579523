import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { assertClassCounts } from './class-weights.js';
import { weightedMean } from './cross-entropy.js';

/** Options of {@link ldam}. */
export interface LdamOptions {
  /** Largest margin, that of the rarest class (kaidic/LDAM-DRW: 0.5). */
  readonly maxMargin?: number;
  /** Logit scale s (kaidic/LDAM-DRW: 30). */
  readonly scale?: number;
  /** Per-class weights (DRW: class-balanced weights from the first LR decay); absent = unweighted. */
  readonly weights?: readonly number[];
}

/** LDAM margins m_c ∝ n_c^{−1/4}, scaled so the largest is `maxMargin`. */
export function ldamMargins(classCounts: readonly number[], maxMargin: number): number[] {
  const raw = classCounts.map((n) => 1 / Math.sqrt(Math.sqrt(n)));
  const max = Math.max(...raw);
  return raw.map((m) => (m * maxMargin) / max);
}

/**
 * LDAM loss (Cao et al., kaidic/LDAM-DRW `losses.py`): subtract m_y from the true-class logit
 * only, scale every logit by s, softmax CE. Unweighted: mean over the batch; with `weights`
 * (DRW): PyTorch's weighted mean Σ w_y CE_i / Σ w_y, as the official `F.cross_entropy(weight=)`.
 * Meant for a normed (cosine) classifier, whose logits lie in [−1, 1].
 *
 * @param classCounts labeled n_c, [C], all > 0. @returns a scalar the caller owns.
 */
export function ldam(logits: tf.Tensor2D, labels: tf.Tensor1D, classCounts: readonly number[], opts: LdamOptions = {}): tf.Scalar {
  const numClasses = logits.shape[1];
  const counts = assertClassCounts('ldam', classCounts, numClasses);
  const margins = ldamMargins(counts, opts.maxMargin ?? 0.5);
  return tf.tidy(() => {
    const y = tf.cast(labels, 'int32') as tf.Tensor1D;
    const shift = tf.mul(tf.cast(tf.oneHot(y, numClasses), 'float32'), tf.expandDims(tf.gather(tf.tensor1d(margins), y), 1));
    const ce = softmaxCrossEntropy(tf.mul(tf.sub(logits, shift), opts.scale ?? 30) as tf.Tensor2D, y);
    return opts.weights ? weightedMean(ce, y, opts.weights) : (tf.mean(ce) as tf.Scalar);
  });
}
