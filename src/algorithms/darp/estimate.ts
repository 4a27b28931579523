/**
 * DARP's estimate of the unlabeled class distribution (bbuing9/DARP train_base_estim.py
 * `estimate_q_y`, `confusion`; ytaek-oh/daso lib/algorithm/darp_estim.py): black-box shift
 * estimation from a soft confusion matrix on held-out labeled data.
 *
 *   conf[j, y] = Σ_{i: y_i = y} p_ij / Σ_{i: y_i = y} 1      (held-out, columns sum to 1)
 *   q̃_j       = Σ_{i ∈ unlabeled} p_ij
 *   q̂         = conf⁻¹ · q̃
 *
 * accepted when no entry of q̂ is negative and the 2-norm condition number of conf is below a
 * threshold (100 in both official repos). Plain typed arrays, float64.
 */

/** One estimate and whether the official rule accepts it. */
export interface DistributionEstimate {
  /** q̂ [C]: estimated unlabeled samples per class (sums to the unlabeled count). */
  readonly counts: number[];
  /** 2-norm condition number of the column-normalised confusion matrix (∞ when singular). */
  readonly condition: number;
  /** No negative entry and condition below the threshold. */
  readonly accepted: boolean;
}

/**
 * The column-normalised soft confusion matrix [C, C] row-major: entry (j, y) is the mean
 * predicted probability of class j over held-out samples of class y.
 * @param probs [n, C] row-major softmax of the held-out samples; @param labels [n]
 * @throws when a class has no held-out sample (its column would be 0/0)
 */
export function softConfusion(probs: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): Float64Array {
  const C = numClasses;
  if (probs.length !== labels.length * C) throw new Error(`softConfusion: probs has ${probs.length} values, expected ${labels.length}·${C}`);
  const conf = new Float64Array(C * C);
  const counts = new Float64Array(C);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    counts[y]++;
    for (let j = 0; j < C; j++) conf[j * C + y] += probs[i * C + j];
  }
  for (let y = 0; y < C; y++) {
    if (counts[y] === 0) throw new Error(`softConfusion: class ${y} has no held-out sample`);
    let s = 0;
    for (let j = 0; j < C; j++) s += conf[j * C + y];
    for (let j = 0; j < C; j++) conf[j * C + y] /= s;
  }
  return conf;
}

/** q̃ [C]: the summed predicted probabilities of the unlabeled samples ([n, C] row-major). */
export function predictedMass(probs: ArrayLike<number>, numClasses: number): number[] {
  const out = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < probs.length; i++) out[i % numClasses] += probs[i];
  return out;
}

/**
 * Estimates the unlabeled distribution from held-out predictions and unlabeled predictions of
 * one model (evaluation mode, no augmentation).
 * @param threshold largest accepted condition number (official `th_cond`: 100)
 */
export function estimateUnlabeledDistribution(
  heldOut: { readonly probs: ArrayLike<number>; readonly labels: ArrayLike<number> },
  unlabeledProbs: ArrayLike<number>,
  numClasses: number,
  threshold: number,
): DistributionEstimate {
  const conf = softConfusion(heldOut.probs, heldOut.labels, numClasses);
  const condition = conditionNumber(conf, numClasses);
  const solved = solveLinear(conf, predictedMass(unlabeledProbs, numClasses), numClasses);
  const counts = solved ?? new Array<number>(numClasses).fill(Number.NaN);
  const accepted = solved !== null && counts.every((v) => v >= 0) && condition < threshold;
  return { counts, condition, accepted };
}

/**
 * Solves A·x = b for a [n, n] row-major A by Gaussian elimination with partial pivoting; null
 * when A is singular (the official `inv` would raise).
 */
export function solveLinear(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number[] | null {
  const m = Array.from({ length: n }, (_, i) => [...Array.from({ length: n }, (_, j) => a[i * n + j]), b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (m[pivot][col] === 0) return null;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let c = r + 1; c < n; c++) s -= m[r][c] * x[c];
    x[r] = s / m[r][r];
  }
  return x;
}

/**
 * The 2-norm condition number σ_max/σ_min of a [n, n] row-major matrix (numpy's `cond`), from
 * the eigenvalues of AᵀA by cyclic Jacobi rotations; ∞ when σ_min is 0.
 */
export function conditionNumber(a: ArrayLike<number>, n: number): number {
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k < n; k++) v += a[k * n + i] * a[k * n + j];
      s[i * n + j] = v;
    }
  }
  const eig = symmetricEigenvalues(s, n);
  const max = Math.max(...eig);
  const min = Math.max(0, Math.min(...eig));
  return min === 0 ? Number.POSITIVE_INFINITY : Math.sqrt(max / min);
}

/** Eigenvalues of a symmetric [n, n] row-major matrix (cyclic Jacobi; the input is not modified). */
export function symmetricEigenvalues(sym: ArrayLike<number>, n: number): number[] {
  const a = Float64Array.from(sym);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - sn * akq;
          a[k * n + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - sn * aqk;
          a[q * n + k] = sn * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]);
}
