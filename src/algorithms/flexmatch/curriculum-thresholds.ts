import type { AlgorithmState } from '../algorithm.js';

/**
 * FlexMatch's non-linear ("convex") mapping M(β) = β / (2 − β), the default of
 * microsoft/Semi-supervised-learning semilearn/algorithms/flexmatch/utils.py; M(0) = 0, M(1) = 1.
 */
export function convexMapping(effect: number): number {
  return effect / (2 - effect);
}

/**
 * The per-class learning effects β_c of FlexMatch (USB `FlexMatchThresholdingHook.update`) from
 * σ, the counts over the whole unlabeled set: `counts[0]` samples never selected (label −1),
 * `counts[c + 1]` samples whose latest confident pseudo-label is c.
 * - If one value holds every sample (all unused, or all one class), β stays `previous`: USB
 *   updates only when `max(Counter(selected_label).values()) < len(unlabeled set)`.
 * - Warm-up (`thresh_warmup`, the default): β_c = σ_c / max(σ_unused, max_k σ_k), so while most
 *   samples are unused every β is small and the thresholds start low.
 * - Without warm-up: β_c = σ_c / max_k σ_k.
 *
 * @returns a new [C] array; `counts` and `previous` are not modified.
 */
export function learningEffects(counts: Int32Array, warmup: boolean, previous: Float32Array): Float32Array {
  const numClasses = counts.length - 1;
  let total = 0;
  let largest = 0;
  let largestClass = 0;
  for (let i = 0; i < counts.length; i++) {
    total += counts[i];
    largest = Math.max(largest, counts[i]);
    if (i > 0) largestClass = Math.max(largestClass, counts[i]);
  }
  if (largest >= total) return Float32Array.from(previous);
  const denominator = warmup ? largest : largestClass;
  const out = new Float32Array(numClasses);
  for (let c = 0; c < numClasses; c++) out[c] = counts[c + 1] / denominator;
  return out;
}

/**
 * FlexMatch's curriculum state over the unlabeled set (USB `FlexMatchThresholdingHook`): per
 * sample, the class of its latest pseudo-label that passed the fixed threshold τ (−1: never),
 * and the per-class learning effects β derived from them. Host typed arrays; checkpointed.
 */
export class CurriculumThresholds {
  /** [N] latest confident class per unlabeled position, −1 if none (USB `selected_label`). */
  readonly selected: Int32Array;
  /** [C + 1]: unused samples, then samples per class (kept in step with `selected`). */
  private readonly counts: Int32Array;
  /** [C] learning effects β_c (USB `classwise_acc`), zeros at the start. */
  private effects: Float32Array;

  /**
   * @param numClasses C. @param numUnlabeled N, the size of the unlabeled split (positions 0..N−1).
   * @param warmup count never-selected samples in the denominator of β (USB `thresh_warmup`).
   */
  constructor(
    readonly numClasses: number,
    numUnlabeled: number,
    private readonly warmup: boolean,
  ) {
    if (!Number.isInteger(numUnlabeled) || numUnlabeled <= 0) throw new Error(`CurriculumThresholds: numUnlabeled must be a positive integer, got ${numUnlabeled}`);
    this.selected = new Int32Array(numUnlabeled).fill(-1);
    this.counts = new Int32Array(numClasses + 1);
    this.counts[0] = numUnlabeled;
    this.effects = new Float32Array(numClasses);
  }

  /** β_c, [C] (a copy). */
  learningEffects(): Float32Array {
    return Float32Array.from(this.effects);
  }

  /** Per-class thresholds τ · M(β_c), [C]: with β = 0 at the start every threshold is 0. */
  classThresholds(threshold: number): Float32Array {
    return Float32Array.from(this.effects, (b) => threshold * convexMapping(b));
  }

  /**
   * Records a step's confident pseudo-labels, then recomputes β (USB `masking`: `selected_label
   * [idx[select]] = max_idx[select]`, then `update()`). A position seen twice keeps its last label.
   *
   * @param positions [B] positions in the unlabeled split. @param labels [B] pseudo-labels.
   * @param selected [B] nonzero where the confidence passed the fixed threshold τ.
   */
  record(positions: Int32Array, labels: Int32Array, selected: ArrayLike<number>): void {
    if (labels.length !== positions.length || selected.length !== positions.length) {
      throw new Error(`CurriculumThresholds.record: ${positions.length} positions, ${labels.length} labels, ${selected.length} selections`);
    }
    for (let i = 0; i < positions.length; i++) {
      if (!selected[i]) continue;
      const pos = positions[i];
      const label = labels[i];
      if (pos < 0 || pos >= this.selected.length) throw new Error(`CurriculumThresholds.record: position ${pos} outside the unlabeled split of ${this.selected.length}`);
      if (label < 0 || label >= this.numClasses) throw new Error(`CurriculumThresholds.record: label ${label} outside [0, ${this.numClasses})`);
      this.counts[this.selected[pos] + 1] -= 1;
      this.counts[label + 1] += 1;
      this.selected[pos] = label;
    }
    this.effects = learningEffects(this.counts, this.warmup, this.effects);
  }

  /** `selectedLabel` [N] and `learningEffects` [C], copies. */
  state(): AlgorithmState {
    return { json: {}, arrays: { selectedLabel: Int32Array.from(this.selected), learningEffects: Float32Array.from(this.effects) } };
  }

  /** Restores a checkpoint of the same unlabeled split; the counts follow from `selectedLabel`. */
  restore(state: AlgorithmState): void {
    const selected = state.arrays.selectedLabel;
    const effects = state.arrays.learningEffects;
    if (!(selected instanceof Int32Array) || selected.length !== this.selected.length) {
      throw new Error(`CurriculumThresholds.restore: selectedLabel must be an Int32Array of ${this.selected.length} (the unlabeled split), got ${selected?.length ?? 'none'}`);
    }
    if (!(effects instanceof Float32Array) || effects.length !== this.numClasses) {
      throw new Error(`CurriculumThresholds.restore: learningEffects must be a Float32Array of ${this.numClasses}, got ${effects?.length ?? 'none'}`);
    }
    this.selected.set(selected);
    this.counts.fill(0);
    for (const label of this.selected) this.counts[label + 1] += 1;
    this.effects = Float32Array.from(effects);
  }
}
