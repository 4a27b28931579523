import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { assertClassCounts, logPrior } from './class-weights.js';

/** Options of {@link lade}. */
export interface LadeOptions {
  /** α, weight of the LADE regulariser (hyperconnect/LADE: 0.1 on CIFAR-100, 0.05 on ImageNet-LT). */
  readonly alpha?: number;
  /** λ, weight of the squared second term (0.01 on CIFAR-100, 0.5 on ImageNet-LT). */
  readonly lambda?: number;
}

/**
 * LADE (Hong et al., CVPR 2021; hyperconnect/LADE `loss/LADELoss.py` and `PriorCELoss`):
 * L = CE(z + log π, y) (mean over the batch) + α · L_LADER, with, over ALL C classes as the
 * official code (a class absent from the batch still contributes, through its second term):
 *   first_y  = Σ_{i: y_i = y} z_y(x_i) / (N_y + 1e−8)
 *   second_y = logsumexp_i (z_y(x_i) − log π_y + log(1/C)) − log N
 *   L_LADER  = −Σ_y π_y · (first_y − second_y − λ · second_y²)
 * log π and log(1/C) carry the official code's +1e−9 inside the log. Inference for a target
 * prior p_t: z + log p_t (uniform: argmax z).
 *
 * @param classCounts labeled n_c, [C], all > 0. @returns a scalar the caller owns.
 */
export function lade(logits: tf.Tensor2D, labels: tf.Tensor1D, classCounts: readonly number[], opts: LadeOptions = {}): tf.Scalar {
  const [n, numClasses] = logits.shape;
  const counts = assertClassCounts('lade', classCounts, numClasses);
  const alpha = opts.alpha ?? 0.1;
  const lambda = opts.lambda ?? 0.01;
  const total = counts.reduce((s, c) => s + c, 0);
  const prior = counts.map((c) => c / total);
  return tf.tidy(() => {
    const y = tf.cast(labels, 'int32') as tf.Tensor1D;
    const priorCe = tf.mean(softmaxCrossEntropy(tf.add(logits, tf.tensor1d(logPrior(counts))) as tf.Tensor2D, y));
    const member = tf.cast(tf.oneHot(y, numClasses), 'float32'); // [N, C]
    const perClass = tf.sum(member, 0); // N_y
    const first = tf.div(tf.sum(tf.mul(logits, member), 0), tf.add(perClass, 1e-8));
    const shift = prior.map((p) => -Math.log(p + 1e-9) + Math.log(1 / numClasses + 1e-9));
    const second = tf.sub(tf.logSumExp(tf.add(logits, tf.tensor1d(shift)), 0), Math.log(n));
    const estimate = tf.sub(tf.sub(first, second), tf.mul(tf.square(second), lambda));
    const lader = tf.neg(tf.sum(tf.mul(estimate, tf.tensor1d(prior))));
    return tf.add(priorCe, tf.mul(lader, alpha)) as tf.Scalar;
  });
}
