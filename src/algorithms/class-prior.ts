/**
 * Class-prior arithmetic shared by the distribution-agnostic learners (ACR, SimPro, CPE, CCL): plain
 * number arrays in float64, outside any tensor, so that their estimates checkpoint exactly (JSON
 * keeps every double) and their tests can be checked by hand.
 */

/** The labeled class distribution π_l [C] from counts n_c (all ≥ 0, sum > 0). */
export function priorOf(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error(`priorOf: counts must have a positive sum, got [${counts.join(', ')}]`);
  return counts.map((n) => n / total);
}

/**
 * log(π_c^τ + 1e-12) per class, the adjustment every one of these repositories computes
 * (Gank0078/ACR, LeapLabTHU/SimPro, zhouzihao11/CCL train.py `compute_adjustment_by_py`). For π_c > 0
 * and moderate τ it is τ·log π_c; the 1e-12 keeps a class of estimated mass 0 finite, and at τ = 0
 * it is log(1 + 1e-12) ≈ 0, no adjustment.
 */
export function logPriorPower(prior: readonly number[], tau: number): number[] {
  return prior.map((p) => Math.log(Math.pow(p, tau) + 1e-12));
}

/**
 * The reversed anchor: the prior with its class ranks reversed (the most frequent class gets the
 * smallest mass, and so on). Gank0078/ACR train.py takes `torch.flip(py_con)`, which is the same
 * on splits whose class 0 is the head and whose counts fall with the index (every split here);
 * ranking instead of flipping keeps it right on any order. Ties keep index order.
 */
export function reversedPrior(prior: readonly number[]): number[] {
  const order = prior.map((p, c) => ({ p, c })).sort((a, b) => b.p - a.p || a.c - b.c);
  const out = new Array<number>(prior.length).fill(0);
  for (let r = 0; r < order.length; r++) out[order[r]!.c] = order[order.length - 1 - r]!.p;
  return out;
}

/**
 * Class ranks by frequency, 0 for the most frequent (ties in index order). CPE cuts its class
 * groups by class index (machengcheng2016/CPE-LTSSL cpe.py `one_hot[:, cut1:]`), which is the rank
 * on splits whose class 0 is the head.
 */
export function classRanks(counts: readonly number[]): number[] {
  const order = counts.map((n, c) => ({ n, c })).sort((a, b) => b.n - a.n || a.c - b.c);
  const rank = new Array<number>(counts.length).fill(0);
  order.forEach(({ c }, r) => (rank[c] = r));
  return rank;
}

/**
 * KL(p ‖ q) = Σ_c p_c (log p_c − log q_c), as PyTorch's `KLDivLoss(reduction='sum')(q.log(), p)`:
 * a term with p_c = 0 is 0, a term with p_c > 0 = q_c is +∞. No renormalisation.
 */
export function klSum(p: readonly number[], q: readonly number[]): number {
  let kl = 0;
  for (let c = 0; c < p.length; c++) {
    const pc = p[c]!;
    if (pc === 0) continue;
    kl += pc * (Math.log(pc) - Math.log(q[c]!));
  }
  return kl;
}

/** ½·KL(p ‖ q) + ½·KL(q ‖ p), the symmetric divergence ACR compares its estimate with its anchors by. */
export function symmetricKl(p: readonly number[], q: readonly number[]): number {
  return 0.5 * klSum(p, q) + 0.5 * klSum(q, p);
}

/** p normalised to sum 1 (p unchanged when its sum is 0). */
export function normalised(p: readonly number[]): number[] {
  const s = p.reduce((a, b) => a + b, 0);
  return s > 0 ? p.map((v) => v / s) : [...p];
}

/** a·x + (1 − a)·y per class: the exponential moving average these methods keep their estimates by. */
export function emaMix(x: readonly number[], y: readonly number[], a: number): number[] {
  return x.map((v, c) => a * v + (1 - a) * y[c]!);
}
