import * as tf from '@tensorflow/tfjs-core';
import type { Classifier } from '../models/model.js';
import type { StepContext, TrainBatch } from './algorithm.js';
import type { UnlabeledView } from './add-on.js';

/** One row group of a joint forward: its logits and features. */
export interface ForwardPart {
  readonly logits: tf.Tensor2D;
  readonly features: tf.Tensor2D;
}

/** A joint forward split back into its row groups, with the whole output for auxiliary heads. */
export interface JointForward {
  readonly labeled: ForwardPart;
  readonly weak: ForwardPart;
  /** One per strong view, in order. */
  readonly strong: readonly ForwardPart[];
  /** Logits [B_l + (1 + K)·B_u, C] and features [.., D] of every row, in the order above. */
  readonly logits: tf.Tensor2D;
  readonly features: tf.Tensor2D;
  /** Row counts of the groups, for splitting an auxiliary head's output the same way. */
  readonly sizes: number[];
}

/**
 * The student in train mode on [labeled | weak | strong_1 .. strong_K] in ONE forward, so that
 * BatchNorm normalises all of them together, as FixMatch's official step concatenates its inputs
 * (kekmodel/FixMatch-pytorch `interleave`, DASO fixmatch.py `torch.cat`), then split back.
 */
export function jointForward(model: Classifier, batch: TrainBatch, strongs: readonly tf.Tensor4D[]): JointForward {
  const numLabeled = batch.labeledImages.shape[0];
  const numUnlabeled = batch.weakImages.shape[0];
  const { features, logits } = model.forward(tf.concat([batch.labeledImages, batch.weakImages, ...strongs], 0) as tf.Tensor4D, true);
  const sizes = [numLabeled, numUnlabeled, ...strongs.map(() => numUnlabeled)];
  const z = tf.split(logits, sizes, 0) as tf.Tensor2D[];
  const f = tf.split(features, sizes, 0) as tf.Tensor2D[];
  const part = (i: number): ForwardPart => ({ logits: z[i]!, features: f[i]! });
  return { labeled: part(0), weak: part(1), strong: strongs.map((_, k) => part(2 + k)), logits, features, sizes };
}

/**
 * The view add-ons see of a step whose student forward holds the labeled batch (FixMatch and the
 * learners built like it): `probs` and the weak and strong sides as the learner defines them.
 */
export function stepView(
  batch: TrainBatch,
  stepCtx: StepContext,
  sides: Pick<UnlabeledView, 'probs' | 'featuresWeak' | 'featuresStrong' | 'logitsStrong'> & { readonly labeledFeatures: tf.Tensor2D },
): UnlabeledView {
  return {
    step: stepCtx.step,
    iterations: stepCtx.iterations,
    unlabeledPositions: batch.unlabeledPositions,
    probs: sides.probs,
    featuresWeak: sides.featuresWeak,
    featuresStrong: sides.featuresStrong,
    logitsStrong: sides.logitsStrong,
    labeled: { features: sides.labeledFeatures, labels: batch.labeledLabels },
    model: stepCtx.model,
  };
}
