import * as tf from '@tensorflow/tfjs-core';

/** ε of ytaek-oh/daso lib/models/dist_align.py (added to both the target and the running mean). */
export const DIST_ALIGN_EPS = 1e-6;

/**
 * ReMixMatch's distribution alignment as ytaek-oh/daso lib/models/dist_align.py computes it:
 * p̃_ik = p_ik · (π_k + ε) / (p̄_k + ε), then each row renormalised to sum 1, where π is the
 * target distribution and p̄ the running mean of the predictions.
 *
 * @param probs p [B, C] (borrowed, no gradient). @param runningMean p̄ [C]. @param target π [C].
 * @returns p̃ [B, C], owned by the caller.
 */
export function alignDistribution(probs: tf.Tensor2D, runningMean: ArrayLike<number>, target: ArrayLike<number>): tf.Tensor2D {
  const c = probs.shape[1];
  if (runningMean.length !== c || target.length !== c) throw new Error(`alignDistribution: probs has ${c} classes, runningMean ${runningMean.length}, target ${target.length}`);
  const ratio = Float32Array.from({ length: c }, (_, k) => (target[k] + DIST_ALIGN_EPS) / (runningMean[k] + DIST_ALIGN_EPS));
  return tf.tidy(() => {
    const aligned = tf.mul(probs, tf.tensor1d(ratio));
    return tf.div(aligned, tf.sum(aligned, 1, true)) as tf.Tensor2D;
  });
}

/**
 * The target π of the alignment: the labeled class distribution n_c / Σ n (DASO base_algorithm.py
 * `p_data = get_label_dist(normalize="sum")`, which its DistributionAlignment receives), tempered
 * π_k ∝ (n_k / Σ n)^t (MODEL.DIST_ALIGN.TEMPERATURE, 1 by default) and renormalised.
 */
export function alignmentTarget(labeledClassCounts: readonly number[], temperature: number): Float64Array {
  const total = labeledClassCounts.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('alignmentTarget: the labeled class counts are all 0');
  const tempered = labeledClassCounts.map((n) => Math.pow(n / total, temperature));
  const z = tempered.reduce((a, b) => a + b, 0);
  return Float64Array.from(tempered, (v) => v / z);
}

/**
 * The running mean p̄ of dist_align.py's `Queue`: the mean prediction of the last `window`
 * batches, the current one included (DASO appends the batch, keeps the newest 128 and averages
 * all their rows; batches here are all the same size, so that is the mean of the batch means).
 * Batch means are stored as float32, so a restored queue gives the same p̄ as the live one.
 */
export class PredictionQueue {
  private readonly bank: Float32Array;
  private count = 0;
  private head = 0;

  constructor(
    readonly numClasses: number,
    readonly window: number,
  ) {
    if (!(Number.isInteger(window) && window >= 1)) throw new Error(`PredictionQueue: window must be an integer >= 1, got ${window}`);
    this.bank = new Float32Array(window * numClasses);
  }

  /**
   * p̄ with `batchMean` [C] as the newest entry, without storing it: the mean over it and the
   * newest window − 1 stored batch means.
   */
  meanWith(batchMean: ArrayLike<number>): Float64Array {
    const c = this.numClasses;
    if (batchMean.length !== c) throw new Error(`PredictionQueue.meanWith: expected ${c} classes, got ${batchMean.length}`);
    const kept = Math.min(this.count, this.window - 1);
    const out = Float64Array.from({ length: c }, (_, k) => Math.fround(batchMean[k]));
    for (let j = 1; j <= kept; j++) {
      const slot = (this.head - j + this.window) % this.window;
      for (let k = 0; k < c; k++) out[k] += this.bank[slot * c + k];
    }
    for (let k = 0; k < c; k++) out[k] /= kept + 1;
    return out;
  }

  /** The mean of the stored batch means alone [C] (zeros when empty). */
  meanOfStored(): Float64Array {
    const c = this.numClasses;
    const out = new Float64Array(c);
    for (let j = 0; j < this.count; j++) for (let k = 0; k < c; k++) out[k] += this.bank[j * c + k];
    if (this.count > 0) for (let k = 0; k < c; k++) out[k] /= this.count;
    return out;
  }

  /** Stores a batch mean [C] as the newest entry, dropping the oldest when the window is full. */
  push(batchMean: ArrayLike<number>): void {
    const c = this.numClasses;
    if (batchMean.length !== c) throw new Error(`PredictionQueue.push: expected ${c} classes, got ${batchMean.length}`);
    for (let k = 0; k < c; k++) this.bank[this.head * c + k] = batchMean[k];
    this.head = (this.head + 1) % this.window;
    this.count = Math.min(this.count + 1, this.window);
  }

  /** Batches held (at most `window`). */
  get size(): number {
    return this.count;
  }

  state(): { bank: Float32Array; position: Int32Array } {
    return { bank: this.bank.slice(), position: Int32Array.of(this.count, this.head) };
  }

  restore(s: { bank: Float32Array; position: Int32Array }): void {
    if (s.bank.length !== this.bank.length) throw new Error(`PredictionQueue.restore: bank has ${s.bank.length} values, expected ${this.bank.length} (window ${this.window} × ${this.numClasses} classes)`);
    this.bank.set(s.bank);
    [this.count, this.head] = [s.position[0], s.position[1]];
  }
}
