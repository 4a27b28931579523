import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { assertClassCounts, logPrior } from './class-weights.js';

/** z + τ · log π, broadcast over the batch. @returns [B, C], owned by the caller. */
export function addLogPrior(logits: tf.Tensor2D, classCounts: readonly number[], tau: number): tf.Tensor2D {
  return tf.tidy(() => tf.add(logits, tf.mul(tf.tensor1d(logPrior(classCounts)), tau)) as tf.Tensor2D);
}

/**
 * Balanced Softmax (Ren et al., BalancedMetaSoftmax): CE(z + log n_c, y), mean over the batch.
 * log n_c and log π_c differ by a constant, so this equals {@link logitAdjusted} at τ = 1.
 * Inference uses the raw logits z.
 *
 * @param classCounts labeled n_c, [C], all > 0. @returns a scalar the caller owns.
 */
export function balancedSoftmax(logits: tf.Tensor2D, labels: tf.Tensor1D, classCounts: readonly number[]): tf.Scalar {
  const counts = assertClassCounts('balancedSoftmax', classCounts, logits.shape[1]);
  return tf.tidy(() => tf.mean(softmaxCrossEntropy(tf.add(logits, tf.tensor1d(counts.map(Math.log))) as tf.Tensor2D, labels)) as tf.Scalar);
}

/** Options of {@link logitAdjusted}. */
export interface LogitAdjustedOptions {
  /** τ, the strength of the adjustment (google-research/logit_adjustment: 1). */
  readonly tau?: number;
}

/**
 * Logit-adjusted loss (Menon et al., google-research/logit_adjustment), loss mode:
 * CE(z + τ · log π, y), mean over the batch. The post-hoc mode is an inference-time adjustment.
 *
 * @param classCounts labeled n_c, [C], all > 0. @returns a scalar the caller owns.
 */
export function logitAdjusted(logits: tf.Tensor2D, labels: tf.Tensor1D, classCounts: readonly number[], opts: LogitAdjustedOptions = {}): tf.Scalar {
  const counts = assertClassCounts('logitAdjusted', classCounts, logits.shape[1]);
  return tf.tidy(() => tf.mean(softmaxCrossEntropy(addLogPrior(logits, counts, opts.tau ?? 1), labels)) as tf.Scalar);
}
