import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { assertClassCounts, effectiveNumberWeights } from './class-weights.js';

/** Options of {@link classBalanced}. */
export interface ClassBalancedOptions {
  /** `softmax` CE, `sigmoid` CE, or sigmoid `focal`. Default softmax. */
  readonly variant?: 'softmax' | 'sigmoid' | 'focal';
  /** β of the effective number (0.9999 in the paper's CIFAR runs). */
  readonly beta?: number;
  /** Focusing γ of the focal variant (1 in the official CIFAR configs). */
  readonly gamma?: number;
}

/**
 * The class-balanced loss (Cui et al., CVPR 2019), as richardaecn/class-balanced-loss computes
 * it (not the popular PyTorch port, which applies BCE to softmax outputs). Class weights
 * w_c = (1 − β)/(1 − β^{n_c}), normalised to Σ w = C; sample i is weighted by w_{y_i}.
 * - `softmax`: Σ_i w_{y_i} CE_i / B;
 * - `sigmoid`: Σ_{i,c} w_{y_i} BCE(z_ic, [c = y_i]) / B (the official code divides by the batch's
 *   positives, one per sample);
 * - `focal`: as sigmoid with the modulator (1 − p_t)^γ, computed stably as
 *   exp(−γ·t·z − γ·log(1 + e^{−z})).
 * Reduction: the official TensorFlow code's, denominator B, not Σ w.
 * The sigmoid variants expect the final bias initialised to −log(C − 1) (`classBalancedBiasInit`).
 *
 * @param classCounts labeled n_c, [C], all > 0. @returns a scalar the caller owns.
 */
export function classBalanced(logits: tf.Tensor2D, labels: tf.Tensor1D, classCounts: readonly number[], opts: ClassBalancedOptions = {}): tf.Scalar {
  const [batch, numClasses] = logits.shape;
  const counts = assertClassCounts('classBalanced', classCounts, numClasses);
  const weights = effectiveNumberWeights(counts, opts.beta ?? 0.9999);
  const variant = opts.variant ?? 'softmax';
  const gamma = opts.gamma ?? 1;
  return tf.tidy(() => {
    const y = tf.cast(labels, 'int32') as tf.Tensor1D;
    const w = tf.gather(tf.tensor1d(weights), y);
    if (variant === 'softmax') return tf.div(tf.sum(tf.mul(softmaxCrossEntropy(logits, y), w)), batch) as tf.Scalar;
    const t = tf.cast(tf.oneHot(y, numClasses), 'float32');
    // BCE with logits, stably: max(z, 0) − z·t + log(1 + e^{−|z|}).
    const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, t)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    const perElement =
      variant === 'focal' ? tf.mul(tf.exp(tf.sub(tf.mul(tf.mul(t, logits), -gamma), tf.mul(tf.softplus(tf.neg(logits)), gamma))), bce) : bce;
    return tf.div(tf.sum(tf.mul(perElement, tf.expandDims(w, 1))), batch) as tf.Scalar;
  });
}

/** The final-layer bias the sigmoid variants start from: −log(C − 1), so that σ(b) = 1/C. */
export function classBalancedBiasInit(numClasses: number): number {
  if (!(numClasses > 1)) throw new Error(`classBalancedBiasInit: numClasses must be > 1, got ${numClasses}`);
  return -Math.log(numClasses - 1);
}
