/**
 * m̂ of DASO: the class histogram of the final pseudo-labels (argmax of every unlabeled sample,
 * confident or not) over the last window of steps. The window is replaced, not averaged, every
 * `window` steps (ytaek-oh/daso DistributionLogger.update_pl_dist, PL_DIST_UPDATE_PERIOD = 100).
 */
export class PseudoLabelHistogram {
  readonly numClasses: number;
  readonly window: number;
  /** Counts of the window in progress. */
  private readonly pending: Float64Array;
  /** m̂: counts of the last completed window. */
  private readonly current: Float64Array;

  constructor(numClasses: number, window: number) {
    this.numClasses = numClasses;
    this.window = window;
    this.pending = new Float64Array(numClasses);
    this.current = new Float64Array(numClasses);
  }

  /**
   * Adds step `step`'s final pseudo-labels; at the end of a window ((step+1) % window == 0) the
   * window's counts become m̂. As the official code, the last step of training does not roll over.
   */
  add(labels: Int32Array, step: number, iterations: number): void {
    for (const c of labels) if (c >= 0) this.pending[c] += 1;
    if ((step + 1) % this.window === 0 && step + 1 < iterations) {
      this.current.set(this.pending);
      this.pending.fill(0);
    }
  }

  /** m̂ counts of the last completed window. */
  counts(): Float64Array {
    return this.current;
  }

  state(): { pending: Float32Array; current: Float32Array } {
    return { pending: Float32Array.from(this.pending), current: Float32Array.from(this.current) };
  }

  restore(s: { pending: Float32Array; current: Float32Array }): void {
    this.pending.set(s.pending);
    this.current.set(s.current);
  }
}

/**
 * DASO's distribution-aware blending weights: v_k = (m̂_k / max_j m̂_j)^(1/T_dist) (the official
 * code normalises by the sum, raises to 1/T, normalises by the sum and then the max, which is the
 * same). A class never pseudo-labelled gets 0; an empty histogram gives all zeros (the official
 * code would divide by zero there, which cannot happen after warm-up ≥ one window).
 */
export function distributionAwareWeights(counts: ArrayLike<number>, distTemperature: number): Float32Array {
  let max = 0;
  for (let k = 0; k < counts.length; k++) max = Math.max(max, counts[k]);
  const v = new Float32Array(counts.length);
  if (max === 0) return v;
  for (let k = 0; k < counts.length; k++) v[k] = Math.pow(counts[k] / max, 1 / distTemperature);
  return v;
}
