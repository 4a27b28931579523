import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { stopGradient } from '../ops/stop-gradient.js';

/** Options of {@link seesaw}. */
export interface SeesawOptions {
  /** Mitigation exponent p (mmdetection: 0.8). */
  readonly p?: number;
  /** Compensation exponent q (mmdetection: 2). */
  readonly q?: number;
}

/**
 * The running class counts N_c Seesaw reads: the counts so far plus this batch's labels, as
 * mmdetection `seesaw_loss.py` updates `cum_samples` at the start of each forward.
 * @returns a new array; `counts` is not modified.
 */
export function updateSeesawCounts(counts: ArrayLike<number>, labels: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(counts);
  for (let i = 0; i < labels.length; i++) out[labels[i]] += 1;
  return out;
}

/**
 * Seesaw loss (Wang et al., CVPR 2021; mmdetection `seesaw_loss.py`, classification part): for a
 * sample of class i, add log S_ij to z_j for j ≠ i, S_ij = M_ij · C_ij with
 * M_ij = (N_j / N_i)^p if N_j < N_i else 1 (N the running counts, clamped at 1) and
 * C_ij = (σ_j / σ_i)^q if σ_j > σ_i else 1 (σ the detached softmax, σ_i clamped at 0.01); then CE,
 * mean over the batch. The running counts are explicit state: pass what
 * {@link updateSeesawCounts} returned for this batch.
 *
 * @param runningCounts N_c including this batch, [C]. @returns a scalar the caller owns.
 */
export function seesaw(logits: tf.Tensor2D, labels: tf.Tensor1D, runningCounts: ArrayLike<number>, opts: SeesawOptions = {}): tf.Scalar {
  const numClasses = logits.shape[1];
  if (runningCounts.length !== numClasses) throw new Error(`seesaw: runningCounts has ${runningCounts.length} entries, the logits ${numClasses} classes`);
  const p = opts.p ?? 0.8;
  const q = opts.q ?? 2;
  const n = Array.from(runningCounts, (c) => Math.max(c, 1));
  const ratio = new Float32Array(numClasses * numClasses);
  for (let i = 0; i < numClasses; i++) for (let j = 0; j < numClasses; j++) ratio[i * numClasses + j] = n[j] / n[i] < 1 ? Math.pow(n[j] / n[i], p) : 1;
  return tf.tidy(() => {
    const y = tf.cast(labels, 'int32') as tf.Tensor1D;
    const onehot = tf.cast(tf.oneHot(y, numClasses), 'float32');
    const mitigation = tf.gather(tf.tensor2d(ratio, [numClasses, numClasses]), y);
    const detached = stopGradient(tf.softmax(logits));
    const self = tf.maximum(tf.sum(tf.mul(detached, onehot), 1, true), 1e-2);
    const scoreRatio = tf.div(detached, self);
    // (σ_j/σ_i)^q where the ratio exceeds 1, else 1: max(ratio, 1)^q (no gradient: σ is detached).
    const compensation = tf.pow(tf.maximum(scoreRatio, 1), q);
    const adjust = tf.mul(tf.log(tf.mul(mitigation, compensation)), tf.sub(1, onehot));
    return tf.mean(softmaxCrossEntropy(tf.add(logits, adjust) as tf.Tensor2D, y)) as tf.Scalar;
  });
}
