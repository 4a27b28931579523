import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';

/** Options of {@link focal}. */
export interface FocalOptions {
  /** Focusing parameter γ (LDAM-DRW's repo: 1; the focal-loss paper: 2). Default 1. */
  readonly gamma?: number;
}

/**
 * Softmax focal loss in the form of kaidic/LDAM-DRW `losses.py` (`focal_loss`):
 * p_i = exp(−CE_i), L = Σ_i (1 − p_i)^γ · CE_i / B (mean over the batch). The modulator carries
 * gradient, as in the official code.
 *
 * @returns a scalar the caller owns.
 */
export function focal(logits: tf.Tensor2D, labels: tf.Tensor1D, _classCounts?: readonly number[], opts: FocalOptions = {}): tf.Scalar {
  const gamma = opts.gamma ?? 1;
  return tf.tidy(() => {
    const ce = softmaxCrossEntropy(logits, labels);
    const p = tf.exp(tf.neg(ce));
    return tf.mean(tf.mul(tf.pow(tf.sub(1, p), gamma), ce)) as tf.Scalar;
  });
}
