import { UserError } from '../errors.js';
import { Rng, deriveSeed } from '../util/rng.js';

/**
 * Long-tailed semi-supervised splits exactly as DASO's split code draws them
 * (ytaek-oh/daso `lib/dataset/utils.py`: `split_trainval`, `x_u_split`, `make_imbalance`,
 * `get_imb_num`; docs/methods.md §1, §5).
 */

/**
 * Per-class counts of a long-tailed set: n_c = int(nMax · (1/γ)^(rank/(C−1))), rank = c, or
 * C−1−c when `reversed` (the tail of the labeled set becomes the head).
 *
 * Truncation (not rounding) as DASO's `get_imb_num`/`make_imbalance`; γ = 1 gives nMax for every
 * class (DASO skips `make_imbalance` when the factor is not > 1, which is the same thing).
 * With nMax=1500, γ=100, C=10: [1500, 899, 539, 323, 193, 116, 69, 41, 25, 15].
 *
 * @param nMax count of the head class (N_1 or M_1), integer >= 0
 * @param gamma imbalance ratio n_head / n_tail, >= 1 (use `reversed` for the other direction)
 * @param numClasses C >= 2
 */
export function longTailCounts(nMax: number, gamma: number, numClasses: number, reversed = false): number[] {
  if (!Number.isInteger(nMax) || nMax < 0) throw new Error(`longTailCounts: nMax must be an integer >= 0, got ${nMax}`);
  if (!(gamma >= 1) || !Number.isFinite(gamma)) throw new Error(`longTailCounts: gamma must be finite and >= 1, got ${gamma}`);
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new Error(`longTailCounts: numClasses must be an integer >= 2, got ${numClasses}`);
  }
  const counts: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    if (gamma === 1) {
      counts.push(nMax);
      continue;
    }
    const rank = reversed ? numClasses - 1 - c : c;
    // Same float expression as Python's `int(num_head * ((1. / imb_factor) ** (rank / (C - 1.0))))`.
    counts.push(Math.trunc(nMax * (1 / gamma) ** (rank / (numClasses - 1))));
  }
  return counts;
}

/**
 * How γ (as given by the user, `--gamma-u 0.01`) maps onto DASO's (imbalance factor, reversed) pair:
 * γ >= 1 is a long tail in the labeled set's direction, γ < 1 is reversed with factor 1/γ
 * (the paper's γ_u = 1/100 is DASO's `IMB_FACTOR_UL: 100` + `REVERSE_UL_DISTRIBUTION: True`).
 */
export function imbalanceOf(gamma: number): { factor: number; reversed: boolean } {
  return gamma >= 1 ? { factor: gamma, reversed: false } : { factor: 1 / gamma, reversed: true };
}

/** Options of {@link drawLongTailSplit}; names match the RunConfig keys. */
export interface LongTailSplitOptions {
  /** N_1: labeled images of the labeled head class before truncation. */
  readonly n1: number;
  /** M_1: unlabeled images of the unlabeled head class before truncation. */
  readonly m1: number;
  /** γ_l: labeled imbalance ratio (> 0; < 1 reverses, as for γ_u). */
  readonly gammaL: number;
  /** γ_u: unlabeled imbalance ratio; 1 uniform (M_1 per class), < 1 reversed with ratio 1/γ_u. */
  readonly gammaU: number;
  /** Balanced validation images per class, taken from the training set first (DASO: 500 on CIFAR-10). */
  readonly validationPerClass: number;
  /** Also put every labeled image in the unlabeled set (USB's `include_lb_to_ulb`); DASO keeps them disjoint. */
  readonly labeledInUnlabeled: boolean;
  /**
   * Replace the long-tailed labeled counts by a class-balanced set of the same total size (the
   * balanced reference of relative accuracy); default false.
   */
  readonly balancedLabeled?: boolean;
  readonly seed: number;
}

/** Indices into the training set; each array is sorted by class, then by draw order. */
export interface LongTailSplit {
  readonly labeled: Int32Array;
  readonly unlabeled: Int32Array;
  readonly validation: Int32Array;
}

/** Per-class counts of a split. */
export interface SplitCounts {
  readonly labeled: number[];
  readonly unlabeled: number[];
  readonly validation: number[];
}

/**
 * Draws a long-tailed labeled / unlabeled / balanced validation split of a training set, in the
 * order of DASO's code (`build_cifar10_dataset`):
 * 1. per class, shuffle its indices; the first `validationPerClass` are validation (`split_trainval`);
 * 2. per class, shuffle the rest; the first N_1 are labeled, the next M_1 unlabeled (`x_u_split`);
 * 3. per class, shuffle the labeled ones and keep the first n_c = {@link longTailCounts}(N_1, γ_l)
 *    (`make_imbalance`); the same for unlabeled with M_1, γ_u (reversed when γ_u < 1).
 * Each stage has its own stream derived from `seed` (DASO restarts `RandomState(seed)` per stage;
 * our streams are xoshiro, so the indices differ from DASO's, the counts do not).
 *
 * Stricter than DASO, which silently takes fewer: every class must hold
 * validationPerClass + N_1 + M_1 images, so the counts are exactly the formula's.
 *
 * @param labels int32 class ids of the training set, [N]
 * @throws UserError naming the option (`gammaL`, `n1`, ...) when it is out of range
 */
export function drawLongTailSplit(labels: Int32Array, numClasses: number, opts: LongTailSplitOptions): LongTailSplit {
  validateOptions(opts);
  const byClass = indicesByClass(labels, numClasses);
  checkClassSizes(byClass, opts);

  const labeledImb = imbalanceOf(opts.gammaL);
  const unlabeledImb = imbalanceOf(opts.gammaU);
  const longTailed = longTailCounts(opts.n1, labeledImb.factor, numClasses, labeledImb.reversed);
  assertEveryClassLabeled(opts, numClasses, longTailed);
  const labeledCounts = opts.balancedLabeled ? balancedCounts(longTailed.reduce((a, b) => a + b, 0), numClasses) : longTailed;
  const unlabeledCounts = longTailCounts(opts.m1, unlabeledImb.factor, numClasses, unlabeledImb.reversed);

  const valRng = new Rng(deriveSeed(opts.seed, STAGE_VALIDATION));
  const xuRng = new Rng(deriveSeed(opts.seed, STAGE_X_U));
  const labeledRng = new Rng(deriveSeed(opts.seed, STAGE_LABELED_IMBALANCE));
  const unlabeledRng = new Rng(deriveSeed(opts.seed, STAGE_UNLABELED_IMBALANCE));

  const validation: number[] = [];
  const labeled: number[] = [];
  const unlabeled: number[] = [];
  const rest: Int32Array[] = [];
  for (let c = 0; c < numClasses; c++) {
    const inds = valRng.shuffle(byClass[c].slice());
    appendAll(validation, inds.subarray(0, opts.validationPerClass));
    rest.push(inds.slice(opts.validationPerClass));
  }
  const classLabeled: Int32Array[] = [];
  const classUnlabeled: Int32Array[] = [];
  for (let c = 0; c < numClasses; c++) {
    const inds = xuRng.shuffle(rest[c]);
    classLabeled.push(inds.slice(0, opts.n1));
    classUnlabeled.push(inds.slice(opts.n1, opts.n1 + opts.m1));
  }
  for (let c = 0; c < numClasses; c++) {
    appendAll(labeled, labeledRng.shuffle(classLabeled[c]).subarray(0, labeledCounts[c]));
  }
  for (let c = 0; c < numClasses; c++) {
    appendAll(unlabeled, unlabeledRng.shuffle(classUnlabeled[c]).subarray(0, unlabeledCounts[c]));
  }
  if (opts.labeledInUnlabeled) appendAll(unlabeled, labeled);

  return {
    labeled: Int32Array.from(labeled),
    unlabeled: Int32Array.from(unlabeled),
    validation: Int32Array.from(validation),
  };
}

/**
 * A class-balanced set of `total` images over C classes: ⌊total/C⌋ each, one more for the first
 * total mod C classes, so the sum is exactly `total` (relative accuracy's balanced reference).
 */
export function balancedCounts(total: number, numClasses: number): number[] {
  const base = Math.floor(total / numClasses);
  return Array.from({ length: numClasses }, (_, c) => base + (c < total % numClasses ? 1 : 0));
}

/**
 * Per-class counts of each set of a split.
 * @param labels class ids of the training set the split indexes into
 */
export function splitCounts(split: LongTailSplit, labels: Int32Array, numClasses: number): SplitCounts {
  return {
    labeled: classCounts(split.labeled, labels, numClasses),
    unlabeled: classCounts(split.unlabeled, labels, numClasses),
    validation: classCounts(split.validation, labels, numClasses),
  };
}

/** Per-class counts of `labels[indices]` (all of `labels` when `indices` is omitted). */
export function classCounts(indices: Int32Array | null, labels: Int32Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  const n = indices ? indices.length : labels.length;
  for (let i = 0; i < n; i++) {
    const y = labels[indices ? indices[i] : i];
    if (!(y >= 0 && y < numClasses)) throw new Error(`classCounts: label ${y} outside [0, ${numClasses})`);
    counts[y]++;
  }
  return counts;
}

const STAGE_VALIDATION = 1;
const STAGE_X_U = 2;
const STAGE_LABELED_IMBALANCE = 3;
const STAGE_UNLABELED_IMBALANCE = 4;

function validateOptions(opts: LongTailSplitOptions): void {
  for (const field of ['gammaL', 'gammaU'] as const) {
    const v = opts[field];
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new UserError(
        field,
        `got ${v}, the imbalance ratio must be a number > 0`,
        'Use 1 for uniform, > 1 for a long tail (100 = head/tail ratio 100), < 1 for reversed (0.01 = reversed 100).',
      );
    }
  }
  const ints: ReadonlyArray<[keyof LongTailSplitOptions, number, string]> = [
    ['n1', 1, 'labeled images of the head class'],
    ['m1', 0, 'unlabeled images of the head class'],
    ['validationPerClass', 0, 'validation images per class'],
  ];
  for (const [field, min, what] of ints) {
    const v = opts[field] as number;
    if (!Number.isInteger(v) || v < min) {
      throw new UserError(field, `got ${v}, the number of ${what} must be an integer >= ${min}`, `Give an integer >= ${min}.`);
    }
  }
  if (!Number.isInteger(opts.seed)) {
    throw new UserError('seed', `got ${opts.seed}, the seed must be an integer`, 'Give an integer seed such as 0.');
  }
}

/**
 * Refuses a γ_l so large that the formula gives some class no labeled image (a class the model
 * could never learn, trained with no warning otherwise). Names the classes and the largest ratio
 * that keeps one image per class: the tail count is ⌊N_1/γ⌋, so γ ≤ N_1 (checked through the
 * formula itself, which rounds).
 */
function assertEveryClassLabeled(opts: LongTailSplitOptions, numClasses: number, counts: readonly number[]): void {
  const empty = counts.flatMap((n, c) => (n === 0 ? [c] : []));
  if (empty.length === 0) return;
  const { reversed } = imbalanceOf(opts.gammaL);
  let largest = opts.n1;
  while (largest > 1 && longTailCounts(opts.n1, largest, numClasses).some((n) => n === 0)) largest -= 1;
  const allowed = reversed ? `--gamma-l ≥ ${Number((1 / largest).toPrecision(3))}` : `--gamma-l ≤ ${largest}`;
  throw new UserError(
    'gammaL',
    `${opts.gammaL} leaves class${empty.length > 1 ? 'es' : ''} ${empty.join(', ')} with no labeled image (n_c = ⌊N_1 · γ^(−c/(C−1))⌋ with N_1 = ${opts.n1})`,
    `Use ${allowed} (the largest imbalance that keeps one labeled image per class), or a larger --n1.`,
  );
}

/** `push(...src)` without the argument-count limit of a spread (sets reach 100k indices). */
function appendAll(dst: number[], src: ArrayLike<number>): void {
  for (let i = 0; i < src.length; i++) dst.push(src[i]);
}

function indicesByClass(labels: Int32Array, numClasses: number): Int32Array[] {
  const counts = classCounts(null, labels, numClasses);
  const out = counts.map((n) => new Int32Array(n));
  const fill = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) out[labels[i]][fill[labels[i]]++] = i;
  return out;
}

function checkClassSizes(byClass: Int32Array[], opts: LongTailSplitOptions): void {
  const smallest = Math.min(...byClass.map((a) => a.length));
  const c = byClass.findIndex((a) => a.length === smallest);
  const where = `class ${c} has ${smallest} training images`;
  if (opts.validationPerClass > smallest) {
    throw new UserError(
      'validationPerClass',
      `got ${opts.validationPerClass}, but ${where}`,
      `Use at most ${smallest} validation images per class.`,
    );
  }
  if (opts.validationPerClass + opts.n1 > smallest) {
    throw new UserError(
      'n1',
      `got ${opts.n1}, but ${where} and ${opts.validationPerClass} of them are validation`,
      `Use n1 <= ${smallest - opts.validationPerClass} (or fewer validation images per class).`,
    );
  }
  if (opts.validationPerClass + opts.n1 + opts.m1 > smallest) {
    throw new UserError(
      'm1',
      `got ${opts.m1}, but ${where}: validation ${opts.validationPerClass} + n1 ${opts.n1} + m1 ${opts.m1} do not fit`,
      `Use m1 <= ${smallest - opts.validationPerClass - opts.n1} so that validation + n1 + m1 <= ${smallest}.`,
    );
  }
}
