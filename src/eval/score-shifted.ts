import { classCounts } from '../data/longtail.js';
import { shiftedTestSet, type TargetDistribution } from './shifted-targets.js';
import { adjustedPredictions, postHocShift, type PostHoc } from './post-hoc.js';

/** Accuracy on one shifted test set, without and with an inference-time adjustment. */
export interface ShiftedRow {
  readonly target: TargetDistribution;
  readonly images: number;
  /** Top-1 of the raw logits. */
  readonly top1: number;
  /** Top-1 after the adjustment (equal to top1 for `none`). */
  readonly top1Adjusted: number;
}

/**
 * Scores test logits [N, C] (row-major) on each target distribution, raw and after `postHoc`
 * (with the target's own prior p_t for pc-softmax and lade-prior). Plain arrays.
 */
export function scoreShiftedTargets(
  logits: Float32Array,
  testLabels: Int32Array,
  trainCounts: readonly number[],
  targets: readonly TargetDistribution[],
  postHoc: PostHoc,
  tau = 1,
): ShiftedRow[] {
  const C = trainCounts.length;
  const accuracy = (pred: Int32Array, rows: Int32Array): number => {
    let right = 0;
    pred.forEach((p, k) => (right += p === testLabels[rows[k]] ? 1 : 0));
    return right / rows.length;
  };
  return targets.map((target) => {
    const set = shiftedTestSet(target, testLabels, trainCounts);
    const raw = adjustedPredictions(logits, C, postHocShift('none', trainCounts), set.indices);
    const adj = adjustedPredictions(logits, C, postHocShift(postHoc, trainCounts, { tau, targetPrior: set.prior }), set.indices);
    return { target, images: set.indices.length, top1: accuracy(raw, set.indices), top1Adjusted: accuracy(adj, set.indices) };
  });
}

/** The rule a shifted table was drawn with, for reports. */
export function shiftedRule(testLabels: Int32Array, numClasses: number): string {
  const nMax = Math.min(...classCounts(null, testLabels, numClasses));
  return `classes ranked by labeled count; forward-ρ keeps floor(${nMax}·ρ^(−r/(C−1))) test images of rank r, backward reverses the rank, uniform ${nMax} per class`;
}
