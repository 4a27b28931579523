/**
 * Per-class statistics the long-tailed losses derive from the labeled class counts n_c. Plain
 * arrays, no tfjs; every function refuses a count that is not positive, naming the class: log π
 * and 1/n are undefined there (the fix is a split that keeps every class, or dropping the class).
 */

/** Throws unless `counts` has `numClasses` finite positive entries. */
export function assertClassCounts(fn: string, counts: ArrayLike<number> | undefined, numClasses: number): readonly number[] {
  if (counts === undefined) throw new Error(`${fn}: classCounts is required (the labeled count of each class)`);
  if (counts.length !== numClasses) throw new Error(`${fn}: classCounts has ${counts.length} entries, the logits ${numClasses} classes`);
  const out = Array.from(counts);
  const bad = out.map((n, c) => [n, c] as const).filter(([n]) => !(Number.isFinite(n) && n > 0));
  if (bad.length > 0) {
    throw new Error(
      `${fn}: class ${bad.map(([, c]) => c).join(', ')} has count ${bad.map(([n]) => n).join(', ')}; the loss needs every class count > 0 ` +
        '(log π and 1/n are undefined). Use a split that keeps at least one labeled image per class.',
    );
  }
  return out;
}

/** log π_c = log(n_c / Σ n). */
export function logPrior(counts: readonly number[]): number[] {
  const total = counts.reduce((s, n) => s + n, 0);
  return counts.map((n) => Math.log(n / total));
}

/** Inverse-frequency weights w_c = (n_min / n_c)^power (power 1: inverse, ½: square-root). */
export function inverseFrequencyWeights(counts: readonly number[], power: number): number[] {
  const min = Math.min(...counts);
  return counts.map((n) => Math.pow(min / n, power));
}

/** The OLTR / LADE / survey form w_c = 1 − log(π_c / π_max) (1 for the head, larger for the tail). */
export function logInverseWeights(counts: readonly number[]): number[] {
  const max = Math.max(...counts);
  return counts.map((n) => 1 - Math.log(n / max));
}

/**
 * Class-balanced weights (Cui et al., richardaecn/class-balanced-loss): effective number
 * E_c = (1 − β^{n_c}) / (1 − β), w_c ∝ 1 / E_c, normalised so Σ_c w_c = C.
 */
export function effectiveNumberWeights(counts: readonly number[], beta: number): number[] {
  if (!(beta >= 0 && beta < 1)) throw new Error(`effectiveNumberWeights: beta must be in [0, 1), got ${beta}`);
  const raw = counts.map((n) => (1 - beta) / (1 - Math.pow(beta, n)));
  const sum = raw.reduce((s, w) => s + w, 0);
  return raw.map((w) => (w / sum) * counts.length);
}
