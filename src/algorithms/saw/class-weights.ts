/**
 * SAW's class weights from class counts, as the official code computes them
 * (ZJUJeffLai/SAW_SSL `imbOptim/classWeights.py`, scheme `--effective` with `--normalize 1`):
 * the effective-number weight w_c = (1 − β) / (1 − β^{n_c}) of Cui et al., rescaled so that
 * Σ_c w_c = C. A class with n_c = 0 counts as 1 (the official `torch.where(distb == 0, 1, distb)`).
 * Plain arrays: the weights are per class, computed a few times per run.
 */

/**
 * The effective-number β: the official scripts pass `--effective 0.99` (`train_example.sh`: β =
 * 0.99 for every class count); `auto` is β = (N − 1)/N with N the mean class count (the official
 * fallback when the constant is 1, and USB's `effective_weights`). N is taken over the raw counts,
 * zeros included, as the official code does before it replaces them.
 */
export function effectiveBeta(beta: number | 'auto', counts: readonly number[]): number {
  if (beta !== 'auto') return beta;
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  return (mean - 1) / mean;
}

/**
 * Smoothed class weights [C]: w_c = (1 − β)/(1 − β^{max(n_c, 1)}), then C · w / Σ w.
 * β ≤ 0 (an `auto` β from fewer samples than classes) gives uniform weights 1: the formula is
 * then no longer a smoothing between inverse frequency (β → 1) and uniform (β = 0).
 *
 * @param counts n_c ≥ 0 per class [C]. @param beta the effective-number β (see {@link effectiveBeta}).
 */
export function smoothedClassWeights(counts: readonly number[], beta: number | 'auto'): number[] {
  if (counts.length === 0) throw new Error('smoothedClassWeights: no classes');
  const b = effectiveBeta(beta, counts);
  if (!(b > 0)) return counts.map(() => 1);
  const raw = counts.map((n) => (1 - b) / (1 - Math.pow(b, Math.max(n, 1))));
  const total = raw.reduce((a, w) => a + w, 0);
  return raw.map((w) => (counts.length * w) / total);
}
