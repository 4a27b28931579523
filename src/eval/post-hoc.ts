/**
 * Inference-time logit adjustments, applied to a model's test logits (row-major [N, C]); plain
 * arrays, no tfjs. Each shifts every row by one per-class vector, so only the argmax changes:
 * - `la` (post-hoc logit adjustment, Menon et al.): z − τ · log π_train, for a uniform target;
 * - `pc-softmax` (Hong et al.): z − log π_train + log p_t, for a plain-CE model and target prior p_t;
 * - `lade-prior` (LADE's target-prior injection): z + log p_t, for logits already balanced in
 *   training (Balanced Softmax, LA loss, LADE).
 * Adjust logits once: a model whose labeled loss already removed the training prior must not be
 * adjusted by it again ({@link assertAdjustOnce}).
 */

import { UserError } from '../errors.js';

export const POST_HOC = ['none', 'la', 'pc-softmax', 'lade-prior'] as const;

/** Post-hoc logit adjustment (`--post-hoc la`), the one the run summary logs; the add-on `la` is train-time LA, another thing. */
export const POST_HOC_LA = 'la' satisfies PostHoc;

/** The adjustments that remove the training prior, so must not follow a loss that already did. */
const REMOVE_TRAIN_PRIOR: ReadonlySet<PostHoc> = new Set<PostHoc>(['la', 'pc-softmax']);
export type PostHoc = (typeof POST_HOC)[number];

/** The per-class shift of an adjustment. `targetPrior` defaults to uniform. */
export function postHocShift(kind: PostHoc, trainCounts: readonly number[], opts: { tau?: number; targetPrior?: readonly number[] } = {}): number[] {
  const C = trainCounts.length;
  const total = trainCounts.reduce((s, n) => s + n, 0);
  const logPi = trainCounts.map((n) => Math.log(n / total));
  const logPt = (opts.targetPrior ?? new Array<number>(C).fill(1 / C)).map((p) => Math.log(p));
  const shifts: Record<PostHoc, () => number[]> = {
    none: () => new Array<number>(C).fill(0),
    la: () => logPi.map((v) => -(opts.tau ?? 1) * v),
    'pc-softmax': () => logPi.map((v, c) => logPt[c] - v),
    'lade-prior': () => logPt,
  };
  return shifts[kind]();
}

/** Argmax per row of logits + shift. */
export function adjustedPredictions(logits: Float32Array, numClasses: number, shift: readonly number[], rows?: Int32Array): Int32Array {
  const n = rows ? rows.length : logits.length / numClasses;
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k] : k;
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const v = logits[i * numClasses + c] + shift[c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[k] = best;
  }
  return out;
}

/**
 * Refuses a second adjustment by the training prior: `la` or `pc-softmax` on a model whose
 * training already removed it (an adjusting labeled loss, LA, a balanced reported head).
 * @param trainedWithAdjustment what removed it, as the message says it ("--labeled-loss
 * balanced-softmax", "--with la, which adjusts the labeled logits"), or null.
 */
export function assertAdjustOnce(kind: PostHoc, trainedWithAdjustment: string | null): void {
  if (trainedWithAdjustment === null || !REMOVE_TRAIN_PRIOR.has(kind)) return;
  throw new UserError(
    '--post-hoc',
    `${kind} would adjust the logits a second time: the model was trained with ${trainedWithAdjustment}, ` +
      'which already removes the training prior',
    'Use --post-hoc none for a uniform target, or lade-prior to add a shifted target prior.',
  );
}
