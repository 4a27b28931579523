/**
 * Classification metrics on plain typed arrays (no tfjs): top-1, balanced accuracy, per-class
 * accuracy (= recall), geometric mean of recalls, confusion matrix and expected calibration error.
 *
 * Every accuracy-like value is a FRACTION in [0, 1], never a percentage. The reports multiply by
 * 100 when they print; summary.json stores fractions.
 */

/** Metrics of one evaluation of one split (validation or test). Plain JSON-safe data. */
export interface ClassificationMetrics {
  /** Number of evaluated samples. */
  readonly numSamples: number;
  /** Fraction of samples whose prediction equals the label (sample-weighted accuracy), 0..1. */
  readonly top1: number;
  /**
   * Mean of per-class recalls over the classes that have at least one sample, 0..1. On a balanced
   * test set it equals `top1`.
   */
  readonly balancedAccuracy: number;
  /**
   * Geometric mean of per-class recalls over the classes that have at least one sample, 0..1.
   * A class with zero recall makes it exactly 0 (no floor; imbalanced-learn's
   * `geometric_mean_score` has an optional `correction` floor, we use none).
   */
  readonly geometricMeanRecall: number;
  /** Per-class accuracy (recall) P(pred = c | label = c), 0..1; null when class c has no sample. */
  readonly perClassAccuracy: ReadonlyArray<number | null>;
  /** Number of samples of each class in the evaluated split. */
  readonly perClassCount: ReadonlyArray<number>;
  /** confusion[label][prediction] counts; present only when asked for (it is C*C numbers). */
  readonly confusion?: ReadonlyArray<ReadonlyArray<number>>;
}

/** Options of {@link classificationMetrics}. */
export interface ClassificationMetricsOptions {
  /** Include the C x C confusion matrix (default false: it is large for C = 100). */
  readonly withConfusion?: boolean;
}

function checkLabels(fn: string, name: string, values: Int32Array, numClasses: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0 || v >= numClasses) {
      throw new RangeError(`${fn}: ${name}[${i}] = ${v} is outside [0, ${numClasses})`);
    }
  }
}

/**
 * Counts the confusion matrix. Returns a Float64Array of length C*C, row = label, column = prediction.
 * @param predictions [N] predicted class indices in [0, C)
 * @param labels [N] ground-truth class indices in [0, C)
 */
export function confusionCounts(predictions: Int32Array, labels: Int32Array, numClasses: number): Float64Array {
  if (predictions.length !== labels.length) {
    throw new RangeError(
      `confusionCounts: predictions has ${predictions.length} entries but labels has ${labels.length}`,
    );
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`confusionCounts: numClasses must be a positive integer, got ${numClasses}`);
  }
  checkLabels('confusionCounts', 'predictions', predictions, numClasses);
  checkLabels('confusionCounts', 'labels', labels, numClasses);
  const m = new Float64Array(numClasses * numClasses);
  for (let i = 0; i < labels.length; i++) m[labels[i] * numClasses + predictions[i]] += 1;
  return m;
}

/**
 * Geometric mean of recalls, ignoring nulls (classes without samples). Zero if any recall is 0
 * (exact; computed through logs so 100 small recalls do not underflow). `floor` replaces recalls
 * below it (imbalanced-learn's `correction`); the default 0 means no floor.
 * Returns 0 when every entry is null.
 */
export function geometricMeanRecall(perClassRecall: ReadonlyArray<number | null>, floor = 0): number {
  let logSum = 0;
  let n = 0;
  for (const r of perClassRecall) {
    if (r === null) continue;
    const v = Math.max(r, floor);
    if (v <= 0) return 0;
    logSum += Math.log(v);
    n++;
  }
  return n === 0 ? 0 : Math.exp(logSum / n);
}

/** Mean of the non-null entries; null when all are null. */
export function meanDefined(values: ReadonlyArray<number | null>): number | null {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (v === null) continue;
    s += v;
    n++;
  }
  return n === 0 ? null : s / n;
}

/**
 * All classification metrics of one split.
 * @param predictions [N] argmax predictions (Int32, in [0, C)); borrowed, not modified
 * @param labels [N] ground truth (Int32, in [0, C)); borrowed, not modified
 * @param numClasses C
 * @throws RangeError on length mismatch or out-of-range class indices; on N = 0
 */
export function classificationMetrics(
  predictions: Int32Array,
  labels: Int32Array,
  numClasses: number,
  opts: ClassificationMetricsOptions = {},
): ClassificationMetrics {
  if (labels.length === 0) throw new RangeError('classificationMetrics: no samples (labels is empty)');
  const m = confusionCounts(predictions, labels, numClasses);
  let correct = 0;
  const perClassCount: number[] = [];
  const perClassAccuracy: Array<number | null> = [];
  for (let c = 0; c < numClasses; c++) {
    let rowSum = 0;
    for (let p = 0; p < numClasses; p++) rowSum += m[c * numClasses + p];
    const diag = m[c * numClasses + c];
    correct += diag;
    perClassCount.push(rowSum);
    perClassAccuracy.push(rowSum === 0 ? null : diag / rowSum);
  }
  const result: ClassificationMetrics = {
    numSamples: labels.length,
    top1: correct / labels.length,
    balancedAccuracy: meanDefined(perClassAccuracy) ?? 0,
    geometricMeanRecall: geometricMeanRecall(perClassAccuracy),
    perClassAccuracy,
    perClassCount,
  };
  if (opts.withConfusion) {
    const confusion: number[][] = [];
    for (let c = 0; c < numClasses; c++) confusion.push(Array.from(m.subarray(c * numClasses, (c + 1) * numClasses)));
    return { ...result, confusion };
  }
  return result;
}

/**
 * Row-wise argmax of a [N, C] row-major probability or logit matrix (ties -> lowest index).
 * @param scores [N*C] row-major; borrowed
 */
export function argmaxRows(scores: Float32Array, numClasses: number): Int32Array {
  if (scores.length % numClasses !== 0) {
    throw new RangeError(`argmaxRows: length ${scores.length} is not a multiple of numClasses ${numClasses}`);
  }
  const n = scores.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestV = scores[i * numClasses];
    for (let c = 1; c < numClasses; c++) {
      const v = scores[i * numClasses + c];
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/**
 * Expected calibration error (Guo et al. 2017): equal-width confidence bins over (0, 1], sample
 * i goes to bin b with b/M < conf_i <= (b+1)/M (conf = 0 goes to bin 0);
 * ECE = sum_b |B_b|/N * |acc(B_b) - mean conf(B_b)|. A fraction in [0, 1].
 * @param probs [N*C] row-major softmax probabilities; borrowed
 * @param labels [N] ground truth
 * @param bins M, default 15 (Guo et al.)
 */
export function expectedCalibrationError(
  probs: Float32Array,
  labels: Int32Array,
  numClasses: number,
  bins = 15,
): number {
  if (probs.length !== labels.length * numClasses) {
    throw new RangeError(
      `expectedCalibrationError: probs has ${probs.length} entries, expected labels.length * numClasses = ${labels.length * numClasses}`,
    );
  }
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RangeError(`expectedCalibrationError: bins must be a positive integer, got ${bins}`);
  }
  checkLabels('expectedCalibrationError', 'labels', labels, numClasses);
  const n = labels.length;
  if (n === 0) return 0;
  const count = new Float64Array(bins);
  const confSum = new Float64Array(bins);
  const correctSum = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let conf = probs[i * numClasses];
    for (let c = 1; c < numClasses; c++) {
      const v = probs[i * numClasses + c];
      if (v > conf) {
        conf = v;
        best = c;
      }
    }
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(conf * bins) - 1));
    count[b] += 1;
    confSum[b] += conf;
    if (best === labels[i]) correctSum[b] += 1;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    ece += (count[b] / n) * Math.abs(correctSum[b] / count[b] - confSum[b] / count[b]);
  }
  return ece;
}

/** Result of {@link evaluateProbabilities}. */
export interface ProbabilityEvaluation {
  readonly metrics: ClassificationMetrics;
  /** Expected calibration error, fraction 0..1. */
  readonly ece: number;
}

/**
 * Metrics and ECE straight from a [N, C] probability matrix (what an eval loop collects from the
 * EMA model's softmax): argmax predictions -> {@link classificationMetrics}, plus
 * {@link expectedCalibrationError}.
 * @param probs [N*C] row-major softmax probabilities; borrowed
 */
export function evaluateProbabilities(
  probs: Float32Array,
  labels: Int32Array,
  numClasses: number,
  opts: ClassificationMetricsOptions & { readonly eceBins?: number } = {},
): ProbabilityEvaluation {
  const metrics = classificationMetrics(argmaxRows(probs, numClasses), labels, numClasses, opts);
  return { metrics, ece: expectedCalibrationError(probs, labels, numClasses, opts.eceBins ?? 15) };
}
