import * as tf from '@tensorflow/tfjs-core';

/**
 * The tempered target of distribution alignment: π^t / Σ π^t, π the labeled class distribution
 * (ytaek-oh/daso lib/models/dist_align.py `torch.pow(self.target_dist, da_t)`, normalised).
 */
export function temperedTarget(labeledCounts: readonly number[], temperature: number): number[] {
  const total = labeledCounts.reduce((a, b) => a + b, 0);
  const powered = labeledCounts.map((n) => Math.pow(n / total, temperature));
  const sum = powered.reduce((a, b) => a + b, 0);
  return powered.map((v) => v / sum);
}

/**
 * Distribution alignment as ytaek-oh/daso lib/models/dist_align.py `DistributionAlignment`:
 * p̃ = p · (target + 1e-6) / (p̄ + 1e-6), renormalised per row, where p̄ is the mean prediction
 * over the last `window` batches, this one included (its `Queue` of batch predictions). The
 * window is kept on the host as per-batch sums and sizes, so it checkpoints as two typed arrays.
 */
export class DistributionAligner {
  private readonly sums: Float32Array;
  private readonly sizes: Int32Array;
  /** [0] batches pushed so far (the ring position is this modulo the window). */
  private readonly pushed = new Int32Array(1);

  constructor(
    private readonly numClasses: number,
    private readonly window: number,
  ) {
    this.sums = new Float32Array(window * numClasses);
    this.sizes = new Int32Array(window);
  }

  /**
   * Pushes this batch's predictions into the window and returns the aligned distribution.
   * @param probs [B, C] probabilities (no gradient; borrowed). @param target [C], sums to 1.
   * @returns [B, C] (caller owns)
   */
  align(probs: tf.Tensor2D, target: readonly number[]): tf.Tensor2D {
    const C = this.numClasses;
    if (probs.shape[1] !== C || target.length !== C) throw new Error(`DistributionAligner.align: probs [${probs.shape}] and target [${target.length}] for ${C} classes`);
    const rows = probs.dataSync();
    const slot = this.pushed[0] % this.window;
    this.sums.fill(0, slot * C, (slot + 1) * C);
    for (let i = 0; i < rows.length; i++) this.sums[slot * C + (i % C)] += rows[i];
    this.sizes[slot] = probs.shape[0];
    this.pushed[0]++;
    const mean = this.mean();
    return tf.tidy(() => {
      const ratio = tf.tensor1d(target.map((t, k) => (t + 1e-6) / (mean[k] + 1e-6)));
      const aligned = tf.mul(probs, ratio);
      return tf.div(aligned, tf.sum(aligned, 1, true)) as tf.Tensor2D;
    });
  }

  /** p̄ [C]: the mean prediction over the batches in the window. */
  mean(): number[] {
    const C = this.numClasses;
    const out = new Array<number>(C).fill(0);
    let n = 0;
    for (let s = 0; s < this.window; s++) {
      n += this.sizes[s];
      for (let k = 0; k < C; k++) out[k] += this.sums[s * C + k];
    }
    return out.map((v) => (n === 0 ? 0 : v / n));
  }

  state(): { sums: Float32Array; sizes: Int32Array; pushed: Int32Array } {
    return { sums: this.sums, sizes: this.sizes, pushed: this.pushed };
  }

  restore(s: { sums: Float32Array; sizes: Int32Array; pushed: Int32Array }): void {
    this.sums.set(s.sums);
    this.sizes.set(s.sizes);
    this.pushed.set(s.pushed);
  }
}
