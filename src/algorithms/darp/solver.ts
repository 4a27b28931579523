/**
 * DARP's refinement of the stored pseudo-label distributions (Kim et al., NeurIPS 2020), as the
 * official `estimate_pseudo` and `opt_solver` (bbuing9/DARP common.py; ported unchanged in
 * ytaek-oh/daso lib/algorithm/darp_reproduce.py). Plain typed arrays, no tfjs: the solver runs on
 * the host over the whole unlabeled split, every `darpEvery` steps.
 *
 * Shapes: `probs` is [N, C] row-major (N unlabeled samples, C classes); `target` is [C], the
 * estimated number of unlabeled samples per class (Σ target = N).
 */

/** Solver settings, the official defaults in brackets. */
export interface DarpSolverOptions {
  /** α: a class keeps only the samples among its top ⌊α·target_k⌋ predictions [2]. */
  readonly alpha: number;
  /** Outer iterations T of the alternating normalisation [10] (`num_iter` / `NUM_DARP_ITERS`). */
  readonly iterations: number;
  /** Secant iterations per class and outer iteration [30] (`num_newton`). */
  readonly newtonIterations?: number;
  /** Absolute tolerance of the secant step [0.1] (`th`). */
  readonly tolerance?: number;
}

/**
 * `estimate_pseudo` followed by the official rescaling: for each class k, the ⌊α·target_k⌋
 * samples with the largest p_ik keep p_ik scaled by w_k = (target_k + 1e-6)/(Σ of those p_ik + 1e-6);
 * every other entry becomes 1e-6; rows are renormalised.
 *
 * Ties are broken by sample order (a stable sort); torch's `sort` leaves their order unspecified.
 * The official code computes this in float32 (torch); we compute in float64.
 *
 * @returns a new [N, C] row-major array; the input is not modified.
 */
export function scaleToTarget(probs: ArrayLike<number>, numClasses: number, target: ArrayLike<number>, alpha: number): Float64Array {
  const C = numClasses;
  const N = probs.length / C;
  assertShapes('scaleToTarget', probs.length, C, target.length);
  const keep = new Uint8Array(N * C);
  const weights = new Float64Array(C);
  const order = new Int32Array(N);
  for (let k = 0; k < C; k++) {
    const take = Math.min(N, Math.max(0, Math.trunc(alpha * target[k])));
    for (let i = 0; i < N; i++) order[i] = i;
    order.sort((a, b) => probs[b * C + k] - probs[a * C + k] || a - b);
    let mass = 0;
    for (let j = 0; j < take; j++) {
      keep[order[j] * C + k] = 1;
      mass += probs[order[j] * C + k];
    }
    weights[k] = (target[k] + 1e-6) / (mass + 1e-6);
  }
  const out = new Float64Array(N * C);
  for (let i = 0; i < N; i++) {
    let sum = 0;
    for (let k = 0; k < C; k++) {
      const v = probs[i * C + k] * (keep[i * C + k] ? weights[k] : 0) + 1e-6;
      out[i * C + k] = v;
      sum += v;
    }
    for (let k = 0; k < C; k++) out[i * C + k] /= sum;
  }
  return out;
}

/**
 * scipy.optimize.newton without a derivative, i.e. the secant method, as scipy implements it
 * (first step x0·(1 + 1e-4) ± 1e-4, convergence |p − p1| ≤ tol, a flat secant returns the
 * midpoint). Where scipy raises after `maxIterations` without convergence, we return the last
 * iterate (the official run would stop with a RuntimeError).
 */
export function secantRoot(f: (x: number) => number, x0: number, maxIterations: number, tolerance: number): number {
  let p0 = x0;
  let p1 = x0 * (1 + 1e-4);
  p1 += p1 >= 0 ? 1e-4 : -1e-4;
  let q0 = f(p0);
  let q1 = f(p1);
  if (Math.abs(q1) < Math.abs(q0)) [p0, p1, q0, q1] = [p1, p0, q1, q0];
  let p = p1;
  for (let it = 0; it < maxIterations; it++) {
    if (q1 === q0) return (p1 + p0) / 2;
    p = Math.abs(q1) > Math.abs(q0) ? ((-q0 / q1) * p1 + p0) / (1 - q0 / q1) : ((-q1 / q0) * p0 + p1) / (1 - q1 / q0);
    if (Math.abs(p - p1) <= tolerance) return p;
    p0 = p1;
    q0 = q1;
    p1 = p;
    q1 = f(p1);
  }
  return p;
}

/**
 * The official `opt_solver`: the distribution-aligning refinement M of `probs` (rows sum to 1,
 * Σ_i M_ik ≈ target_k), by alternating row normalisation (λ, closed form) and per-class secant
 * solves for ν_k, each sample weighted by w_i = 1/H(p_i) (the inverse entropy
 * −Σ_k p_ik log(p_ik + 1e-6)). With A_e = p/e, X_i = 1/Σ_k A_e,ik Y_ik, Y_ik = exp(−ν_k/w_i):
 * M_ik = A_e,ik · X_i · Y_ik.
 *
 * @param probs [N, C] row-major pseudo-label distributions (after {@link scaleToTarget})
 * @param target [C] per-class sample counts the refined labels should have
 * @returns [N, C] row-major refined distributions (caller owns)
 */
export function darpSolve(probs: ArrayLike<number>, numClasses: number, target: ArrayLike<number>, opts: Omit<DarpSolverOptions, 'alpha'>): Float64Array {
  const C = numClasses;
  const N = probs.length / C;
  assertShapes('darpSolve', probs.length, C, target.length);
  const newton = opts.newtonIterations ?? 30;
  const tol = opts.tolerance ?? 0.1;
  const w = new Float64Array(N);
  const ae = new Float64Array(N * C);
  for (let i = 0; i < N; i++) {
    let h = 0;
    for (let k = 0; k < C; k++) {
      const p = probs[i * C + k];
      h -= p * Math.log(p + 1e-6);
      ae[i * C + k] = p / Math.E;
    }
    w[i] = 1 / h;
  }
  // Y starts at exp(−ν/w) with ν = 1 (the official initial value), ν's secant starts at 0.
  const y = new Float64Array(N * C);
  for (let i = 0; i < N; i++) for (let k = 0; k < C; k++) y[i * C + k] = Math.exp(-1 / w[i]);
  const x = new Float64Array(N);
  const nu = new Float64Array(C);
  const normalise = (): void => {
    for (let i = 0; i < N; i++) {
      let d = 0;
      for (let k = 0; k < C; k++) d += ae[i * C + k] * y[i * C + k];
      x[i] = 1 / d;
    }
  };
  for (let t = 0; t < opts.iterations; t++) {
    normalise();
    for (let k = 0; k < C; k++) {
      const f = (v: number): number => {
        let s = 0;
        for (let i = 0; i < N; i++) s += ae[i * C + k] * x[i] * Math.exp(-v / w[i]);
        return s - target[k];
      };
      nu[k] = secantRoot(f, nu[k], newton, tol);
    }
    for (let i = 0; i < N; i++) for (let k = 0; k < C; k++) y[i * C + k] = Math.exp(-nu[k] / w[i]);
  }
  normalise();
  const out = new Float64Array(N * C);
  for (let i = 0; i < N; i++) for (let k = 0; k < C; k++) out[i * C + k] = ae[i * C + k] * x[i] * y[i * C + k];
  return out;
}

/** One refinement as DARP's step does it: {@link scaleToTarget}, then {@link darpSolve}. */
export function refinePseudoLabels(probs: ArrayLike<number>, numClasses: number, target: ArrayLike<number>, opts: DarpSolverOptions): Float64Array {
  return darpSolve(scaleToTarget(probs, numClasses, target, opts.alpha), numClasses, target, opts);
}

function assertShapes(fn: string, size: number, numClasses: number, targetLength: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1 || size % numClasses !== 0) {
    throw new Error(`${fn}: probs has ${size} values, not a multiple of numClasses ${numClasses}`);
  }
  if (targetLength !== numClasses) throw new Error(`${fn}: target has ${targetLength} entries, expected ${numClasses}`);
}
