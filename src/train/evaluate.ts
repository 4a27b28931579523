import * as tf from '@tensorflow/tfjs-core';
import type { Classifier } from '../models/model.js';
import type { Dataset, ImageSet } from '../data/image-set.js';
import type { LongTailSplit } from '../data/longtail.js';
import { iterateEvalBatches, toInputTensor } from '../pipeline/index.js';
import { classificationMetrics, expectedCalibrationError } from '../eval/metrics.js';
import type { EvalRecord } from '../report/select-reported.js';

/** Predictions of a model over a set: argmax [N], logits and softmax probabilities [N, C] row-major. */
export interface Predictions {
  readonly predictions: Int32Array;
  readonly logits: Float32Array;
  readonly probs: Float32Array;
  readonly labels: Int32Array;
}

/**
 * Runs `model` in evaluation mode (BatchNorm running statistics) over `indices` of `set` (all of
 * it when null), in batches, without augmentation. No tensor outlives the call.
 */
export function predict(
  model: Classifier,
  set: ImageSet,
  indices: Int32Array | null,
  norm: { readonly mean: readonly number[]; readonly std: readonly number[] },
  batchSize = 500,
): Predictions {
  const n = indices ? indices.length : set.count;
  const numClasses = model.numClasses;
  const predictions = new Int32Array(n);
  const probs = new Float32Array(n * numClasses);
  const logits = new Float32Array(n * numClasses);
  const labels = new Int32Array(n);
  let offset = 0;
  for (const batch of iterateEvalBatches(set, indices, batchSize)) {
    const size = batch.labels.length;
    tf.tidy(() => {
      const x = toInputTensor(batch.images, size, set.height, set.width, set.channels, norm.mean, norm.std);
      const z = model.forward(x, false).logits;
      logits.set(z.dataSync() as Float32Array, offset * numClasses);
      const p = tf.softmax(z);
      probs.set(p.dataSync() as Float32Array, offset * numClasses);
      predictions.set(tf.argMax(p, 1).dataSync() as Int32Array, offset);
    });
    labels.set(batch.labels, offset);
    offset += size;
  }
  return { predictions, logits, probs, labels };
}

/** Pooled features [N, featureDim] row-major (evaluation mode, no augmentation) and labels of `indices` of `set`. */
export function extractFeatures(
  model: Classifier,
  set: ImageSet,
  indices: Int32Array | null,
  norm: { readonly mean: readonly number[]; readonly std: readonly number[] },
  batchSize = 500,
): { readonly features: Float32Array; readonly labels: Int32Array } {
  const n = indices ? indices.length : set.count;
  const features = new Float32Array(n * model.featureDim);
  const labels = new Int32Array(n);
  let offset = 0;
  for (const batch of iterateEvalBatches(set, indices, batchSize)) {
    const size = batch.labels.length;
    tf.tidy(() => {
      const x = toInputTensor(batch.images, size, set.height, set.width, set.channels, norm.mean, norm.std);
      features.set(model.forward(x, false).features.dataSync() as Float32Array, offset * model.featureDim);
    });
    labels.set(batch.labels, offset);
    offset += size;
  }
  return { features, labels };
}

/** One evaluation with the test set's expected calibration error. */
export interface EvaluationRecord extends EvalRecord {
  /** Expected calibration error of the test predictions (15 bins). */
  readonly ece: number;
  /** The test logits [N, C] row-major (the run's summary scores its last model's on shifted targets). */
  readonly testLogits: Float32Array;
}

/** Evaluates `model` (the EMA model) on the test set and, when the split has one, the validation split. */
export function evaluateModel(model: Classifier, dataset: Dataset, split: LongTailSplit, step: number): EvaluationRecord {
  const test = predict(model, dataset.test, null, dataset);
  const testMetrics = classificationMetrics(test.predictions, test.labels, dataset.numClasses);
  let val;
  if (split.validation.length > 0) {
    const v = predict(model, dataset.train, split.validation, dataset);
    val = classificationMetrics(v.predictions, v.labels, dataset.numClasses);
  }
  return { step, test: testMetrics, val, ece: expectedCalibrationError(test.probs, test.labels, dataset.numClasses), testLogits: test.logits };
}
