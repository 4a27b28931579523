/**
 * ACR's adaptive logit-adjustment strength and its estimate of the unlabeled class distribution
 * (Gank0078/ACR train.py, `train()`), as pure functions of plain arrays.
 */
import { emaMix, normalised, priorOf, reversedPrior, symmetricKl } from '../class-prior.js';

/** The three anchor distributions: consistent (π_l), uniform, reversed (π_l with its ranks reversed). */
export interface AcrAnchors {
  readonly consistent: readonly number[];
  readonly uniform: readonly number[];
  readonly reversed: readonly number[];
}

/** The anchors from the labeled counts (official `py_con`, `py_uni`, `py_rev = flip(py_con)`). */
export function acrAnchors(labeledCounts: readonly number[]): AcrAnchors {
  const consistent = priorOf(labeledCounts);
  return { consistent, uniform: consistent.map(() => 1 / consistent.length), reversed: reversedPrior(consistent) };
}

/** Symmetric KL of the estimate to each anchor, in the official order [consistent, uniform, reversed]. */
export function anchorDivergences(estimate: readonly number[], anchors: AcrAnchors): [number, number, number] {
  return [symmetricKl(anchors.consistent, estimate), symmetricKl(anchors.uniform, estimate), symmetricKl(anchors.reversed, estimate)];
}

/**
 * τ for the next epoch from the epoch's summed divergences: with k = sum / epochSteps (official
 * `count_KL / args.eval_step`, over every step of the epoch, also those that added nothing),
 * τ = τ_min + (τ_max − τ_min)·e^{k_con} / (e^{k_con} + e^{k_uni} + e^{k_rev}). The farther the
 * estimate is from the consistent anchor, the stronger the standard branch's pseudo-labels are
 * adjusted. Returns null where the official code keeps the previous τ (`if math.isnan(tau) == False`):
 * a divergence that is +∞ or overflows e^k.
 */
export function adaptiveTau(summedKl: readonly [number, number, number], epochSteps: number, tauMin: number, tauMax: number): number | null {
  const e = summedKl.map((k) => Math.exp(k / epochSteps));
  const share = e[0]! / (e[0]! + e[1]! + e[2]!);
  const tau = tauMin + (tauMax - tauMin) * share;
  return Number.isNaN(tau) ? null : tau;
}

/** How one step's confident balanced-head pseudo-labels become a class histogram (`--acr-histogram`). */
export const ACR_HISTOGRAMS = ['count', 'index-put'] as const;
export type AcrHistogram = (typeof ACR_HISTOGRAMS)[number];

/**
 * One step's histogram [C] of the balanced head's pseudo-labels whose confidence passed the
 * threshold, before normalisation.
 * - `count`: every confident sample counts 1 (the class frequency the paper estimates).
 * - `index-put`: what the official `now_mask[targets_u_b] += mask_l * mask_b` computes: an indexed
 *   assignment without accumulation, so a class present in the batch gets the mask (0 or 1) of ONE
 *   of its samples; PyTorch leaves which one undefined, and its CPU kernel writes the last, as here.
 */
export function confidentHistogram(labels: Int32Array, confident: ArrayLike<number>, numClasses: number, mode: AcrHistogram): number[] {
  const h = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c < 0) continue;
    const m = confident[i]! > 0 ? 1 : 0;
    if (mode === 'count') h[c]! += m;
    else h[c] = m;
  }
  return h;
}

/**
 * One step of the estimate: when the histogram has mass, û ← a·û + (1 − a)·h/Σh and the step's
 * divergences to the anchors (with the updated û) are returned for the epoch's sum; otherwise û is
 * unchanged and the step adds nothing (official `if now_mask.sum() > 0`).
 */
export function updateEstimate(
  estimate: readonly number[],
  histogram: readonly number[],
  ema: number,
  anchors: AcrAnchors,
): { readonly estimate: number[]; readonly divergences: [number, number, number] | null } {
  if (!(histogram.reduce((a, b) => a + b, 0) > 0)) return { estimate: [...estimate], divergences: null };
  const next = emaMix(estimate, normalised(histogram), ema);
  return { estimate: next, divergences: anchorDivergences(next, anchors) };
}
