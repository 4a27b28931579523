/**
 * Estimates of the unlabeled class distribution against the truth. Plain arrays: the truth is
 * known to reporting only, never to a method.
 */

/** A method's estimate of the unlabeled prior at one evaluation, with its distance to the truth. */
export interface PriorEstimateRecord {
  /** π̂ [C], summing to 1. */
  readonly estimate: readonly number[];
  /** KL(π̂ ‖ π) in nats (as SimPro logs it); finite whenever every true π_c > 0. */
  readonly kl: number;
}

/** Normalised class histogram [C] of `labels`. */
export function classDistribution(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]! += 1;
  const total = labels.length;
  return counts.map((c) => (total === 0 ? 0 : c / total));
}

/**
 * KL(p ‖ q) = Σ_c p_c log(p_c / q_c), with 0·log 0 = 0; p and q are renormalised first (an
 * estimate that drifted from Σ = 1 by rounding). Infinite when some p_c > 0 has q_c = 0.
 */
export function klDivergence(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new Error(`klDivergence: p has ${p.length} classes, q ${q.length}`);
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  if (!(sp > 0) || !(sq > 0)) throw new Error('klDivergence: p and q must have positive mass');
  let kl = 0;
  for (let c = 0; c < p.length; c++) {
    const pc = p[c]! / sp;
    if (pc === 0) continue;
    const qc = q[c]! / sq;
    kl += qc === 0 ? Infinity : pc * Math.log(pc / qc);
  }
  return kl;
}

/** Each source's estimate with its KL to `truth`. */
export function scorePriorEstimates(estimates: Readonly<Record<string, readonly number[]>>, truth: readonly number[]): Record<string, PriorEstimateRecord> {
  const out: Record<string, PriorEstimateRecord> = {};
  for (const [source, estimate] of Object.entries(estimates)) {
    const total = estimate.reduce((a, b) => a + b, 0);
    out[source] = { estimate: estimate.map((e) => e / total), kl: klDivergence(estimate, truth) };
  }
  return out;
}
