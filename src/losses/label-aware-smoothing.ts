import * as tf from '@tensorflow/tfjs-core';
import { assertClassCounts } from './class-weights.js';

/** Options of {@link labelAwareSmoothing}. */
export interface LabelAwareSmoothingOptions {
  /** ε of the head class (MiSLAS configs: 0.4 on CIFAR-100 ρ=100). */
  readonly head?: number;
  /** ε of the tail class (0.1 on CIFAR-100; 0 on CIFAR-10). */
  readonly tail?: number;
  /** How ε moves from tail to head with n_y: concave (default), linear, convex. */
  readonly shape?: 'concave' | 'linear' | 'convex';
}

/**
 * Per-class smoothing ε_y of MiSLAS (dvlab-research/MiSLAS `methods.py`, LabelAwareSmoothing),
 * with r = (n_y − n_min) / (n_max − n_min): concave ε_tail + (ε_head − ε_tail)·sin(π r / 2);
 * linear ε_tail + (ε_head − ε_tail)·r; convex ε_head + (ε_head − ε_tail)·sin(3π/2 + π r / 2).
 * All classes equal (n_max = n_min): ε_head everywhere.
 */
export function smoothingPerClass(classCounts: readonly number[], opts: LabelAwareSmoothingOptions = {}): number[] {
  const head = opts.head ?? 0.4;
  const tail = opts.tail ?? 0.1;
  const max = Math.max(...classCounts);
  const min = Math.min(...classCounts);
  return classCounts.map((n) => {
    if (max === min) return head;
    const r = (n - min) / (max - min);
    switch (opts.shape ?? 'concave') {
      case 'linear':
        return tail + (head - tail) * r;
      case 'convex':
        return head + (head - tail) * Math.sin(1.5 * Math.PI + (r * Math.PI) / 2);
      default:
        return tail + (head - tail) * Math.sin((r * Math.PI) / 2);
    }
  });
}

/**
 * Label-aware smoothing loss (MiSLAS): (1 − ε_y)·(−log p_y) + ε_y·mean_k(−log p_k), the smoothing
 * mass spread over all C classes, the target included; mean over the batch.
 *
 * @param classCounts labeled n_c, [C], all > 0. @returns a scalar the caller owns.
 */
export function labelAwareSmoothing(logits: tf.Tensor2D, labels: tf.Tensor1D, classCounts: readonly number[], opts: LabelAwareSmoothingOptions = {}): tf.Scalar {
  const numClasses = logits.shape[1];
  const counts = assertClassCounts('labelAwareSmoothing', classCounts, numClasses);
  const eps = smoothingPerClass(counts, opts);
  return tf.tidy(() => {
    const y = tf.cast(labels, 'int32') as tf.Tensor1D;
    const logp = tf.logSoftmax(logits);
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.cast(tf.oneHot(y, numClasses), 'float32')), 1));
    const smooth = tf.neg(tf.mean(logp, 1));
    const e = tf.gather(tf.tensor1d(eps), y);
    return tf.mean(tf.add(tf.mul(tf.sub(1, e), nll), tf.mul(e, smooth))) as tf.Scalar;
  });
}
