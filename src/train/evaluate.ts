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

type Norm = { readonly mean: readonly number[]; readonly std: readonly number[] };

/**
 * Runs `model` in evaluation mode (BatchNorm running statistics) over `indices` of `set` (all of
 * it when null), in batches, without augmentation; `visit` reads each batch's forward inside the
 * batch's tidy scope (it must copy out what it keeps). No tensor outlives the call.
 */
function forEachEvalBatch(
  model: Classifier,
  set: ImageSet,
  indices: Int32Array | null,
  norm: Norm,
  batchSize: number,
  visit: (out: { readonly features: tf.Tensor2D; readonly logits: tf.Tensor2D }, offset: number, labels: Int32Array) => void,
): number {
  let offset = 0;
  for (const batch of iterateEvalBatches(set, indices, batchSize)) {
    const size = batch.labels.length;
    tf.tidy(() => {
      const x = toInputTensor(batch.images, size, set.height, set.width, set.channels, norm.mean, norm.std);
      visit(model.forward(x, false), offset, batch.labels);
    });
    offset += size;
  }
  return offset;
}

/** The logits the model reports: its classifier head's, or the reported auxiliary head's (ABC). */
export function reportedLogits(model: Classifier, out: { readonly features: tf.Tensor2D; readonly logits: tf.Tensor2D }): tf.Tensor2D {
  return model.reportedHead === null ? out.logits : model.auxLogits(model.reportedHead, out.features);
}

/** The heads of `model` that predict its classes: `classifier`, then each auxiliary head that does (`predictsClasses`). */
export function classHeads(model: Classifier): string[] {
  return [CLASSIFIER_HEAD, ...model.auxHeads.filter((h) => h.predictsClasses === true).map((h) => h.name)];
}

/** The name the classifier head goes by beside auxiliary heads. */
export const CLASSIFIER_HEAD = 'classifier';

/**
 * Predictions of `model`'s reported head over `indices` of `set` (all of it when null), and, for a
 * model with more than one class head, each head's argmax under `heads`.
 */
export function predict(model: Classifier, set: ImageSet, indices: Int32Array | null, norm: Norm, batchSize = 500): Predictions & { readonly heads?: Readonly<Record<string, Int32Array>> } {
  const n = indices ? indices.length : set.count;
  const numClasses = model.numClasses;
  const predictions = new Int32Array(n);
  const probs = new Float32Array(n * numClasses);
  const logits = new Float32Array(n * numClasses);
  const labels = new Int32Array(n);
  const names = classHeads(model);
  const heads = names.length > 1 ? Object.fromEntries(names.map((h) => [h, new Int32Array(n)])) : undefined;
  forEachEvalBatch(model, set, indices, norm, batchSize, (out, offset, batchLabels) => {
    const z = reportedLogits(model, out);
    logits.set(z.dataSync() as Float32Array, offset * numClasses);
    const p = tf.softmax(z);
    probs.set(p.dataSync() as Float32Array, offset * numClasses);
    predictions.set(tf.argMax(p, 1).dataSync() as Int32Array, offset);
    labels.set(batchLabels, offset);
    if (heads) {
      for (const h of names) {
        const zh = h === CLASSIFIER_HEAD ? out.logits : model.auxLogits(h, out.features);
        heads[h]!.set(tf.argMax(zh, 1).dataSync() as Int32Array, offset);
      }
    }
  });
  return { predictions, logits, probs, labels, ...(heads ? { heads } : {}) };
}

/** Pooled features [N, featureDim] row-major (evaluation mode, no augmentation) and labels of `indices` of `set`. */
export function extractFeatures(
  model: Classifier,
  set: ImageSet,
  indices: Int32Array | null,
  norm: Norm,
  batchSize = 500,
): { readonly features: Float32Array; readonly labels: Int32Array } {
  const n = indices ? indices.length : set.count;
  const features = new Float32Array(n * model.featureDim);
  const labels = new Int32Array(n);
  forEachEvalBatch(model, set, indices, norm, batchSize, (out, offset, batchLabels) => {
    features.set(out.features.dataSync() as Float32Array, offset * model.featureDim);
    labels.set(batchLabels, offset);
  });
  return { features, labels };
}

/** One evaluation with the test set's expected calibration error. */
export interface EvaluationRecord extends EvalRecord {
  /** Expected calibration error of the test predictions (15 bins). */
  readonly ece: number;
  /** The test logits [N, C] row-major (the run's summary scores its last model's on shifted targets). */
  readonly testLogits: Float32Array;
}

/** Test accuracy of one head of a model with several (ABC's balanced head beside the classifier). */
export interface HeadAccuracy {
  readonly top1: number;
  readonly balancedAccuracy: number;
}

/** Evaluates `model` (the EMA model) on the test set and, when the split has one, the validation split. */
export function evaluateModel(model: Classifier, dataset: Dataset, split: LongTailSplit, step: number): EvaluationRecord {
  const test = predict(model, dataset.test, null, dataset);
  const testMetrics = classificationMetrics(test.predictions, test.labels, dataset.numClasses);
  const heads = test.heads
    ? Object.fromEntries(
        Object.entries(test.heads).map(([h, p]) => {
          const m = classificationMetrics(p, test.labels, dataset.numClasses);
          return [h, { top1: m.top1, balancedAccuracy: m.balancedAccuracy }];
        }),
      )
    : undefined;
  let val;
  if (split.validation.length > 0) {
    const v = predict(model, dataset.train, split.validation, dataset);
    val = classificationMetrics(v.predictions, v.labels, dataset.numClasses);
  }
  return {
    step,
    test: testMetrics,
    val,
    ece: expectedCalibrationError(test.probs, test.labels, dataset.numClasses),
    testLogits: test.logits,
    ...(heads ? { heads: { reported: model.reportedHead ?? CLASSIFIER_HEAD, test: heads } } : {}),
  };
}
