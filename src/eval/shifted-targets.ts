/**
 * Shifted target label distributions (LADE, Hong et al. CVPR 2021, its evaluation notebooks; TADE
 * reuses them): 11 test sets from the balanced test set — forward-{50,25,10,5,2}, uniform,
 * backward-{2,5,10,25,50}. Classes are ranked by their TRAINING frequency (head first); a
 * forward-ρ set keeps n_r = floor(n_max · ρ^(−r/(C−1))) test images of the class of rank r, a
 * backward-ρ set reverses the rank, uniform keeps n_max of each. The first n_r test images of
 * each class (in test-set order) are kept. Plain arrays, no tfjs.
 */

/** The 11 target distributions, head-heavy to tail-heavy. */
export const TARGET_DISTRIBUTIONS = [
  'forward-50', 'forward-25', 'forward-10', 'forward-5', 'forward-2', 'uniform',
  'backward-2', 'backward-5', 'backward-10', 'backward-25', 'backward-50',
] as const;
export type TargetDistribution = (typeof TARGET_DISTRIBUTIONS)[number];

/** Class ranks by training count, head (most images) = 0; ties keep the lower class index first. */
export function frequencyRanks(trainCounts: readonly number[]): number[] {
  const order = trainCounts.map((n, c) => ({ n, c })).sort((a, b) => b.n - a.n || a.c - b.c);
  const rank = new Array<number>(trainCounts.length);
  order.forEach(({ c }, r) => (rank[c] = r));
  return rank;
}

/** Test images per class of a target distribution. */
export function targetCounts(name: TargetDistribution, trainCounts: readonly number[], nMax: number): number[] {
  const C = trainCounts.length;
  const rank = frequencyRanks(trainCounts);
  if (name === 'uniform') return rank.map(() => nMax);
  const [dir, rho] = name.split('-') as ['forward' | 'backward', string];
  const ratio = Number(rho);
  return rank.map((r) => {
    const rr = dir === 'forward' ? r : C - 1 - r;
    return Math.floor(nMax * Math.pow(ratio, -rr / Math.max(1, C - 1)));
  });
}

/** One shifted test set: which test images it keeps and its class prior p_t. */
export interface ShiftedTestSet {
  readonly name: TargetDistribution;
  /** Indices into the test set, class by class. */
  readonly indices: Int32Array;
  /** Images per class. */
  readonly counts: readonly number[];
  /** p_t(c) = counts[c] / Σ counts. */
  readonly prior: readonly number[];
}

/**
 * The test subset of a target distribution. `nMax` defaults to the smallest test class, so every
 * distribution can be drawn from a balanced test set.
 * @throws when a class has fewer test images than the distribution asks for
 */
export function shiftedTestSet(name: TargetDistribution, testLabels: Int32Array, trainCounts: readonly number[], nMax?: number): ShiftedTestSet {
  const C = trainCounts.length;
  const byClass: number[][] = Array.from({ length: C }, () => []);
  testLabels.forEach((y, i) => byClass[y]?.push(i));
  const n = nMax ?? Math.min(...byClass.map((m) => m.length));
  const counts = targetCounts(name, trainCounts, n);
  const short = counts.findIndex((k, c) => k > byClass[c].length);
  if (short >= 0) throw new Error(`shiftedTestSet(${name}): class ${short} has ${byClass[short].length} test images, the distribution needs ${counts[short]}`);
  const indices = Int32Array.from(counts.flatMap((k, c) => byClass[c].slice(0, k)));
  const total = counts.reduce((s, k) => s + k, 0);
  return { name, indices, counts, prior: counts.map((k) => k / total) };
}
