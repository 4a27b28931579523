/**
 * τ-normalisation (Kang et al., ICLR 2020; facebookresearch/classifier-balancing `TauNormClassifier`):
 * each class's weight vector divided by its norm to the power τ, w̃_c = w_c / ‖w_c‖^τ, bias
 * dropped. τ = 0 keeps the weights, τ = 1 gives unit norms.
 */

/** The τ values searched on the validation split: 0, 0.1, …, 2.0. */
export const TAU_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => Math.round(i * 10) / 100);

/**
 * w̃ for a weight stored [in, out] row-major (tfjs layout: class c is column c).
 * @returns a new array; `weight` is not modified. A zero column stays zero.
 */
export function tauNormalize(weight: Float32Array, inF: number, outF: number, tau: number): Float32Array {
  if (weight.length !== inF * outF) throw new Error(`tauNormalize: weight has ${weight.length} values, expected ${inF}x${outF}`);
  if (!(tau >= 0)) throw new Error(`tauNormalize: τ must be ≥ 0, got ${tau}`);
  const out = new Float32Array(weight.length);
  for (let c = 0; c < outF; c++) {
    let sq = 0;
    for (let i = 0; i < inF; i++) sq += weight[i * outF + c] ** 2;
    const scale = sq > 0 ? Math.pow(Math.sqrt(sq), -tau) : 0;
    for (let i = 0; i < inF; i++) out[i * outF + c] = weight[i * outF + c] * scale;
  }
  return out;
}

/**
 * The τ of `grid` with the highest score (validation balanced accuracy); ties go to the smaller τ,
 * the one closer to the unchanged classifier.
 */
export function bestTau(grid: readonly number[], score: (tau: number) => number): { readonly tau: number; readonly score: number; readonly scores: readonly number[] } {
  if (grid.length === 0) throw new Error('bestTau: empty grid');
  const scores = grid.map(score);
  let best = 0;
  scores.forEach((s, i) => {
    if (s > scores[best]) best = i;
  });
  return { tau: grid[best], score: scores[best], scores };
}
