import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { stopGradient } from '../ops/stop-gradient.js';
import type { Algorithm, AlgorithmState, StepContext, StepLoss, StepPseudoLabels, TrainBatch } from './algorithm.js';
import type { SectionValues } from '../config/option-spec.js';
import type { fixmatchOptions } from './fixmatch-options.js';

export type FixMatchOptions = Readonly<SectionValues<typeof fixmatchOptions>>;

/** What an add-on (DASO) sees of a FixMatch step; all tensors borrowed. */
export interface RefineInput {
  readonly step: number;
  /** Linear pseudo-label probabilities softmax(z_weak) [B_u, C], no gradient. */
  readonly probs: tf.Tensor2D;
  /** Student features of the weak views [B_u, D] (gradient flows). */
  readonly featuresWeak: tf.Tensor2D;
  /** Student features of the strong views [B_u, D] (gradient flows). */
  readonly featuresStrong: tf.Tensor2D;
}

/** An add-on's answer: the target distribution that replaces p, extra losses, semantic labels. */
export interface RefineOutput {
  /** Target probabilities [B_u, C]; its argmax is the final pseudo-label, its max the confidence. */
  readonly probs: tf.Tensor2D;
  /** Extra loss terms added to the total, each already weighted. */
  readonly losses: Readonly<Record<string, tf.Scalar>>;
  /** Semantic pseudo-labels [B_u] int32, when the add-on produces them. */
  readonly semantic?: tf.Tensor1D;
}

/**
 * A pseudo-label add-on on top of FixMatch (DASO; later others): named extension points instead
 * of a subclass, so DASO does not copy FixMatch's step (STYLE.md).
 */
export interface PseudoLabelAddOn {
  readonly name: string;
  prepare(batch: TrainBatch, ctx: StepContext): void;
  refine(input: RefineInput): RefineOutput;
  afterStep(pseudoLabels: StepPseudoLabels, step: number): void;
  state(): AlgorithmState;
  restore(state: AlgorithmState): void;
  dispose(): void;
}

/**
 * FixMatch as in ytaek-oh/daso lib/algorithm/fixmatch.py (REFERENCES.md §4): one student forward
 * over [labeled | weak | strong], p = softmax(z_weak) without gradient, hard pseudo-label
 * argmax p masked by max p ≥ τ, unlabeled CE on z_strong summed and divided by the FULL unlabeled
 * batch, λ_u constant.
 */
export function createFixMatch(opts: FixMatchOptions, addOn?: PseudoLabelAddOn): Algorithm {
  return {
    name: addOn ? addOn.name : 'fixmatch',
    prepare(batch, ctx) {
      addOn?.prepare(batch, ctx);
    },
    loss(batch: TrainBatch, ctx: StepContext): StepLoss {
      const numLabeled = batch.labeledImages.shape[0];
      const numUnlabeled = batch.weakImages.shape[0];
      const input = tf.concat([batch.labeledImages, batch.weakImages, batch.strongImages], 0);
      const { features, logits } = ctx.model.forward(input, true);
      const [logitsX, logitsWeak, logitsStrong] = tf.split(logits, [numLabeled, numUnlabeled, numUnlabeled], 0) as tf.Tensor2D[];

      const lossX = tf.mean(softmaxCrossEntropy(logitsX, batch.labeledLabels)) as tf.Scalar;
      const probs = stopGradient(tf.softmax(logitsWeak)) as tf.Tensor2D;
      const linear = tf.argMax(probs, 1) as tf.Tensor1D;

      let target = probs;
      let extra: Readonly<Record<string, tf.Scalar>> = {};
      let semantic: tf.Tensor1D | undefined;
      if (addOn) {
        const [, featuresWeak, featuresStrong] = tf.split(features, [numLabeled, numUnlabeled, numUnlabeled], 0) as tf.Tensor2D[];
        const refined = addOn.refine({ step: ctx.step, probs, featuresWeak, featuresStrong });
        target = refined.probs;
        extra = refined.losses;
        semantic = refined.semantic;
      }
      const { final, mask, lossU } = maskedPseudoLabelLoss(logitsStrong, target, opts.threshold);
      let total = tf.add(lossX, tf.mul(lossU, opts.lambdaU)) as tf.Scalar;
      for (const term of Object.values(extra)) total = tf.add(total, term) as tf.Scalar;
      return {
        total,
        terms: { lossLabeled: lossX, lossUnlabeled: lossU, ...extra, maskRate: tf.mean(mask) as tf.Scalar },
        pseudoLabels: { final, linear, semantic, mask },
      };
    },
    afterStep(pseudoLabels, step) {
      addOn?.afterStep(pseudoLabels, step);
    },
    state() {
      return addOn ? addOn.state() : { json: {}, arrays: {} };
    },
    restore(state) {
      addOn?.restore(state);
    },
    dispose() {
      addOn?.dispose();
    },
  };
}

/**
 * FixMatch's unlabeled loss: hard pseudo-label ŷ = argmax target, mask = max target ≥ τ,
 * L_u = Σ_i mask_i · CE(z_strong_i, ŷ_i) / B_u — divided by the full unlabeled batch, not by the
 * number of confident samples (daso `ul_loss(..., avg_factor=B_u)`); an all-masked batch gives 0.
 *
 * @param logitsStrong [B_u, C] (gradient flows). @param target [B_u, C] probabilities (no gradient).
 * @returns final [B_u] int32, mask [B_u] float32 in {0,1}, lossU scalar; caller owns all.
 */
export function maskedPseudoLabelLoss(
  logitsStrong: tf.Tensor2D,
  target: tf.Tensor2D,
  threshold: number,
): { final: tf.Tensor1D; mask: tf.Tensor1D; lossU: tf.Scalar } {
  return tf.tidy(() => {
    const final = tf.argMax(target, 1) as tf.Tensor1D;
    const confidence = tf.max(target, 1);
    const mask = tf.cast(tf.greaterEqual(confidence, threshold), 'float32') as tf.Tensor1D;
    const perSample = softmaxCrossEntropy(logitsStrong, final);
    const lossU = tf.div(tf.sum(tf.mul(perSample, mask)), logitsStrong.shape[0]) as tf.Scalar;
    return { final, mask, lossU };
  });
}
