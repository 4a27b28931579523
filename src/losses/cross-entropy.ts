import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { assertClassCounts, inverseFrequencyWeights, logInverseWeights } from './class-weights.js';

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

/** Options of {@link weightedCrossEntropy}. */
export interface WeightedCrossEntropyOptions {
  /** `inverse-frequency`: w_c = (n_min / n_c)^power; `log-inverse`: w_c = 1 − log(π_c / π_max). Default inverse-frequency. */
  readonly form?: 'inverse-frequency' | 'log-inverse';
  /** Exponent of the inverse-frequency form (1; ½ is "square-root"). Ignored by log-inverse. */
  readonly power?: number;
}

/**
 * Class-weighted softmax cross-entropy, PyTorch's `F.cross_entropy(weight=w)`:
 * L = Σ_i w_{y_i} · CE_i / Σ_i w_{y_i} (denominator: the batch's summed weights, not B).
 * The two weightings the literature calls "weighted softmax" are both offered, by name.
 *
 * @param classCounts labeled n_c, [C], all > 0. @returns a scalar the caller owns.
 */
export function weightedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, classCounts: readonly number[], opts: WeightedCrossEntropyOptions = {}): tf.Scalar {
  const counts = assertClassCounts('weightedCrossEntropy', classCounts, logits.shape[1]);
  const w = (opts.form ?? 'inverse-frequency') === 'log-inverse' ? logInverseWeights(counts) : inverseFrequencyWeights(counts, opts.power ?? 1);
  return tf.tidy(() => weightedMean(softmaxCrossEntropy(logits, labels), labels, w));
}

/**
 * Σ_i w_{y_i} · loss_i / Σ_i w_{y_i}: PyTorch's weighted-mean reduction (LDAM-DRW's DRW, BagofTricks).
 * @param perSample [B] (borrowed). @param weights per class, [C].
 */
export function weightedMean(perSample: tf.Tensor1D, labels: tf.Tensor1D, weights: readonly number[]): tf.Scalar {
  return tf.tidy(() => {
    const w = tf.gather(tf.tensor1d([...weights]), tf.cast(labels, 'int32'));
    return tf.div(tf.sum(tf.mul(perSample, w)), tf.sum(w)) as tf.Scalar;
  });
}
