/**
 * SimPro's M-step for the class priors (LeapLabTHU/SimPro SimPro/train.py, end of each epoch in
 * `train()`), as pure functions of plain arrays.
 */
import { emaMix, normalised } from '../class-prior.js';

/** The two priors SimPro keeps: the unlabeled one (E-step) and the one of all training data (loss). */
export interface SimProPriors {
  /** π̂_u [C] (official `estimated_dis`, uniform at start; its sum may drift below 1, see {@link simproMStep}). */
  readonly unlabeled: readonly number[];
  /** π̂ of labeled + unlabeled data [C] (official `adapt_dis`, π_l at start). */
  readonly all: readonly number[];
}

/** What an epoch accumulates for the M-step. */
export interface SimProEpochSums {
  /** Σ over confident unlabeled samples of their pseudo-label distribution [C] (official `dis_unlabeled`). */
  readonly unlabeledMass: readonly number[];
  /** Labeled samples seen per class [C] (official `count_labeled_dataset`, a bincount per step). */
  readonly labeledCount: readonly number[];
}

/**
 * The closed-form update with its EMA, exactly as the official code:
 * - π̂_u ← a·π̂_u + (1 − a)·m / (Σm + 1), m the epoch's confident pseudo-label mass (the +1
 *   keeps an epoch without confident samples finite; the estimate then does not sum to 1, which
 *   the E-step's softmax does not see: log(c·π)^τ shifts every class alike);
 * - π̂ ← a·π̂ + (1 − a)·(n + m) / Σ(n + m), n the epoch's labeled counts.
 */
export function simproMStep(priors: SimProPriors, sums: SimProEpochSums, ema: number): SimProPriors {
  const mass = sums.unlabeledMass.reduce((a, b) => a + b, 0);
  const estimate = sums.unlabeledMass.map((m) => m / (mass + 1));
  const forward = sums.labeledCount.map((n, c) => n + sums.unlabeledMass[c]!);
  return { unlabeled: emaMix(priors.unlabeled, estimate, ema), all: emaMix(priors.all, normalised(forward), ema) };
}

/**
 * The labeled loss's divisor (official `args.scale_ratio = len(unlabeled loader) / len(labeled
 * loader)`, both with `drop_last`): ⌊N_u / B_u⌋ / ⌊N_l / B_l⌋, how many more unlabeled than
 * labeled batches an epoch of data holds. Each count is at least 1 here (the official code would
 * divide by zero on a labeled set smaller than its batch).
 */
export function labeledLossScale(numLabeled: number, labeledBatch: number, numUnlabeled: number, unlabeledBatch: number): number {
  return Math.max(1, Math.floor(numUnlabeled / unlabeledBatch)) / Math.max(1, Math.floor(numLabeled / labeledBatch));
}
