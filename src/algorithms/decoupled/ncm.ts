/**
 * The nearest-class-mean classifier of decoupled training (classifier-balancing `KNNClassifier`
 * with `feat_type` cl2n / l2n), written as the linear layer our NCM head applies to its
 * normalised features:
 * - `centred-l2`: x̂ = (x − μ)/‖x − μ‖ with μ the mean training feature; c_j the mean x̂ of class
 *   j; score −‖x̂ − c_j‖² = 2 x̂·c_j − ‖c_j‖² − 1, i.e. W = 2c, b = −‖c‖² (the −1 is the same for
 *   every class);
 * - `cosine`: x̂ = x/‖x‖, c_j the mean x̂ of class j; score cos(x̂, c_j) = x̂·c_j/‖c_j‖.
 */

export const NCM_METRICS = ['centred-l2', 'cosine'] as const;
export type NcmMetric = (typeof NCM_METRICS)[number];

/** What the NCM head holds: the centring mean [D] and the class scores as W [D, C] row-major, b [C]. */
export interface NcmParameters {
  readonly mean: Float32Array;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/**
 * NCM parameters from training features [N, D] row-major and their labels.
 * @throws when a class has no feature (its mean would be undefined).
 */
export function ncmParameters(features: Float32Array, labels: Int32Array, featureDim: number, numClasses: number, metric: NcmMetric): NcmParameters {
  const n = labels.length;
  if (features.length !== n * featureDim) throw new Error(`ncmParameters: ${features.length} feature values for ${n} labels of width ${featureDim}`);
  const mean = new Float64Array(featureDim);
  if (metric === 'centred-l2') {
    for (let i = 0; i < n; i++) for (let d = 0; d < featureDim; d++) mean[d] += features[i * featureDim + d] / n;
  }
  const sums = new Float64Array(numClasses * featureDim);
  const counts = new Float64Array(numClasses);
  const x = new Float64Array(featureDim);
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let d = 0; d < featureDim; d++) {
      x[d] = features[i * featureDim + d] - mean[d];
      sq += x[d] * x[d];
    }
    const inv = 1 / Math.max(Math.sqrt(sq), 1e-12);
    const c = labels[i];
    counts[c] += 1;
    for (let d = 0; d < featureDim; d++) sums[c * featureDim + d] += x[d] * inv;
  }
  const empty = [...counts.keys()].filter((c) => counts[c] === 0);
  if (empty.length > 0) throw new Error(`ncmParameters: classes ${empty.join(', ')} have no training feature`);
  const weight = new Float32Array(featureDim * numClasses);
  const bias = new Float32Array(numClasses);
  for (let c = 0; c < numClasses; c++) {
    let sq = 0;
    for (let d = 0; d < featureDim; d++) sq += (sums[c * featureDim + d] / counts[c]) ** 2;
    const norm = Math.sqrt(sq);
    for (let d = 0; d < featureDim; d++) {
      const centroid = sums[c * featureDim + d] / counts[c];
      weight[d * numClasses + c] = metric === 'centred-l2' ? 2 * centroid : centroid / Math.max(norm, 1e-12);
    }
    bias[c] = metric === 'centred-l2' ? -sq : 0;
  }
  return { mean: Float32Array.from(mean), weight, bias };
}
