/**
 * CReST's choice of pseudo-labeled samples for the next generation (ytaek-oh/daso
 * lib/algorithm/fm_crest.py `_rebuild_labeled_dataset`; google-research/crest data/cifar.py
 * `get_split` with update_mode `distribution`). Plain typed arrays.
 */
import type { LabeledAdditions } from '../boundary.js';

/**
 * Per-class inclusion rates μ_k = (n_{(C−1−r_k)} / n_{(0)})^(1/α), with n_{(j)} the j-th largest
 * labeled count and r_k the rank of class k by labeled count (0 = most frequent, ties by class
 * index): the most frequent class gets the rarest class's relative frequency, the rarest gets 1.
 * The official code indexes by class id (`mu_per_cls[C − 1 − k]`), which is the same for splits
 * sorted head to tail, as theirs and ours are.
 */
export function inclusionRates(labeledCounts: readonly number[], alpha: number): number[] {
  const C = labeledCounts.length;
  const order = labeledCounts.map((_, k) => k).sort((a, b) => labeledCounts[b] - labeledCounts[a] || a - b);
  const sorted = order.map((k) => labeledCounts[k]);
  const rates = new Array<number>(C).fill(0);
  order.forEach((k, rank) => (rates[k] = Math.pow(sorted[C - 1 - rank] / sorted[0], 1 / alpha)));
  return rates;
}

/** The picks of one generation and their per-class counts. */
export interface CrestSelection extends LabeledAdditions {
  /** [C] samples picked per pseudo-class. */
  readonly perClass: number[];
  /** [C] unlabeled samples predicted as each class (what the rates apply to). */
  readonly predictedPerClass: number[];
}

/**
 * For each class k, of the unlabeled samples predicted as k (argmax, ties to the lower class),
 * the ⌊μ_k · #predicted⌋ most confident (largest max-probability; ties by position), labeled k.
 * Output is grouped by class, most confident first.
 *
 * @param probs [N_u, C] row-major softmax of the unlabeled split
 * @param rates [C] from {@link inclusionRates}
 */
export function selectConfident(probs: ArrayLike<number>, numClasses: number, rates: readonly number[]): CrestSelection {
  const C = numClasses;
  if (probs.length % C !== 0 || rates.length !== C) throw new Error(`selectConfident: probs has ${probs.length} values and rates ${rates.length} for ${C} classes`);
  const N = probs.length / C;
  const byClass: number[][] = Array.from({ length: C }, () => []);
  const confidence = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let k = 1; k < C; k++) if (probs[i * C + k] > probs[i * C + best]) best = k;
    confidence[i] = probs[i * C + best];
    byClass[best].push(i);
  }
  const positions: number[] = [];
  const labels: number[] = [];
  const perClass = new Array<number>(C).fill(0);
  for (let k = 0; k < C; k++) {
    const take = Math.trunc(rates[k] * byClass[k].length);
    if (take < 1) continue;
    const ranked = byClass[k].sort((a, b) => confidence[b] - confidence[a] || a - b).slice(0, take);
    for (const i of ranked) {
      positions.push(i);
      labels.push(k);
    }
    perClass[k] = take;
  }
  return { positions: Int32Array.from(positions), labels: Int32Array.from(labels), perClass, predictedPerClass: byClass.map((m) => m.length) };
}
