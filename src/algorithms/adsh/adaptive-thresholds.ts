/**
 * Adsh's per-class thresholds s_k from the confidences of one scoring pass over the unlabeled set,
 * as guolz-ml/Class-Imbalanced-SSL `train.py` `update_s` computes them. Plain typed arrays: they
 * are read back once per pass.
 */

/** numpy's `np.round`: halves go to the even neighbour (np.round(0.5) = 0, np.round(2.5) = 2). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Per-class thresholds [C] after one scoring pass:
 * 1. C_k = confidences max_c p_c of the images predicted as k, sorted descending;
 * 2. ρ = |{x ∈ C_head : x ≥ τ_1}| / |C_head|, the share of the head class above τ_1 — except that
 *    ρ stays 1 when C_head is empty or its top confidence is already below τ_1 (the official loop
 *    starts at ρ = 1 and breaks at once);
 * 3. every other class with predictions takes the confidence at the same rank:
 *    s_k = min(τ_1, C_k[max(0, round(|C_k|·ρ − 1))]), numpy rounding;
 * 4. the head class keeps its threshold (τ_1: the official loop starts at class 1), and a class
 *    with no prediction keeps its previous one.
 *
 * @param confidences [n] max probability per scored image. @param predictions [n] argmax class, −1
 * for an image not scored in this pass. @param previous [C] the thresholds before the pass.
 * @param tau1 τ_1. @param head the head class (the official code's class 0).
 * @returns the new thresholds [C]; the arguments are not modified.
 */
export function adaptiveThresholds(confidences: Float32Array, predictions: Int32Array, previous: Float32Array, tau1: number, head: number): Float32Array {
  if (confidences.length !== predictions.length) throw new Error(`adaptiveThresholds: ${confidences.length} confidences for ${predictions.length} predictions`);
  const numClasses = previous.length;
  if (!(head >= 0 && head < numClasses)) throw new Error(`adaptiveThresholds: head class ${head} outside 0..${numClasses - 1}`);
  const lists: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < predictions.length; i++) {
    const k = predictions[i]!;
    if (k >= 0) lists[k]!.push(confidences[i]!);
  }
  for (const list of lists) list.sort((a, b) => b - a);
  const headList = lists[head]!;
  let rho = 1;
  for (let i = 0; i < headList.length; i++) {
    if (headList[i]! < tau1) break;
    rho = (i + 1) / headList.length;
  }
  const out = Float32Array.from(previous);
  for (let k = 0; k < numClasses; k++) {
    const list = lists[k]!;
    if (k === head || list.length === 0) continue;
    const idx = Math.max(0, roundHalfEven(list.length * rho - 1));
    out[k] = Math.min(tau1, list[idx]!);
  }
  return out;
}
