import type { Rng } from './rng.js';

/**
 * A Gamma(shape, 1) draw by Marsaglia and Tsang's squeeze method (ACM TOMS 2000); for shape < 1
 * the boost Gamma(a) = Gamma(a + 1) · U^(1/a). Consumes a variable number of draws from `rng`,
 * all of them from `rng` alone, so a seeded `Rng` gives the same value every time.
 */
export function sampleGamma(rng: Rng, shape: number): number {
  if (!(shape > 0 && Number.isFinite(shape))) throw new Error(`sampleGamma: shape must be a positive number, got ${shape}`);
  if (shape < 1) {
    const g = sampleGamma(rng, shape + 1);
    let u = rng.float();
    while (u === 0) u = rng.float();
    return g * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng.float();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(a, b) draw as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) (numpy's method for small shapes). */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  // Both Gamma draws underflow to 0 only for shapes far below any mixup α; the limit is then ½.
  return x + y === 0 ? 0.5 : x / (x + y);
}
