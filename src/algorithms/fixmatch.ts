import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { stopGradient } from '../ops/stop-gradient.js';
import { option, type SectionValues } from '../options/option-spec.js';
import type { Algorithm, StepContext, StepLoss, TrainBatch } from './algorithm.js';
import type { AddOnChain } from './add-on.js';
import { defineLearner, type RunContext } from './method.js';
import { labeledTerm } from './labeled-term.js';
import { jointForward, stepView } from './joint-forward.js';
import { plusLossTerms, addOnLifecycle } from './add-on-delegation.js';

/** FixMatch options (docs/methods.md §4; ytaek-oh/daso lib/config/defaults.py). */
export const fixmatchOptions = {
  threshold: option(z.number().gt(0).lte(1), 0.95, 'confidence threshold τ for pseudo-labels (FixMatch: 0.95)'),
  lambdaU: option(z.number().min(0), 1, 'weight λ_u of the unlabeled loss (DASO UNLABELED_LOSS_WEIGHT: 1); constant unless the learner has --unlabeled-rampup'),
} as const;

export type FixMatchOptions = Readonly<SectionValues<typeof fixmatchOptions>>;

/**
 * FixMatch as in ytaek-oh/daso lib/algorithm/fixmatch.py (docs/methods.md §4): one student forward
 * over [labeled | weak | strong], p = softmax(z_weak) without gradient, hard pseudo-label
 * argmax p masked by max p ≥ τ, unlabeled CE on z_strong summed and divided by the FULL unlabeled
 * batch, λ_u constant. The labeled loss is the run's labeled-loss slot; `addOns` plug into the
 * named points of {@link AddOnChain} in their declared order.
 */
export function createFixMatch(opts: FixMatchOptions, ctx: Pick<RunContext, 'labeledLoss'>, addOns: AddOnChain): Algorithm {
  return {
    name: ['fixmatch', ...addOns.names].join('+'),
    usesUnlabeled: true,
    prepare(batch, stepCtx) {
      addOns.prepare(batch, stepCtx);
    },
    loss(batch: TrainBatch, stepCtx: StepContext): StepLoss {
      const logitCtx = { step: stepCtx.step, iterations: stepCtx.iterations };
      const { labeled, weak, strong } = jointForward(stepCtx.model, batch, [batch.strongImages]);
      const [logitsX, logitsWeak, logitsStrong] = [labeled.logits, weak.logits, strong[0]!.logits];
      const [featuresX, featuresWeak, featuresStrong] = [labeled.features, weak.features, strong[0]!.features];

      const lossX = labeledTerm(ctx.labeledLoss, addOns, logitsX, batch.labeledLabels, logitCtx);
      const probs = stopGradient(tf.softmax(addOns.adjustUnlabeledLogits(logitsWeak, logitCtx))) as tf.Tensor2D;
      const linear = tf.argMax(probs, 1) as tf.Tensor1D;

      const view = stepView(batch, stepCtx, { probs, featuresWeak, featuresStrong, logitsStrong, labeledFeatures: featuresX! });
      const target = addOns.transformTarget(probs, view);
      const threshold = addOns.thresholds(target, view, opts.threshold);
      const { final, mask, lossU } = maskedPseudoLabelLoss(addOns.adjustStrongLogits(logitsStrong, view), target, threshold, addOns.unlabeledWeights(target, view));
      const extra = addOns.lossTerms(view);
      const total = plusLossTerms(tf.add(lossX, tf.mul(lossU, opts.lambdaU)) as tf.Scalar, extra);
      return {
        total,
        terms: { lossLabeled: lossX, lossUnlabeled: lossU, ...extra, maskRate: tf.mean(mask) as tf.Scalar },
        pseudoLabels: { sources: { final, linear, ...addOns.pseudoLabelSources(view) }, mask },
      };
    },
    ...addOnLifecycle(addOns),
  };
}

/**
 * FixMatch's unlabeled loss: hard pseudo-label ŷ = argmax target, mask = max target ≥ τ,
 * L_u = Σ_i w_i · mask_i · CE(z_strong_i, ŷ_i) / B_u — divided by the full unlabeled batch, not by
 * the number of confident samples (daso `ul_loss(..., avg_factor=B_u)`); an all-masked batch gives 0.
 *
 * @param logitsStrong [B_u, C] (gradient flows). @param target [B_u, C] probabilities (no gradient).
 * @param threshold τ, one for all samples or [B_u] per sample (an add-on's, e.g. Adsh).
 * @param weights [B_u] per-sample weights w_i (an add-on's, e.g. SAW), or null for 1.
 * @returns final [B_u] int32, mask [B_u] float32 in {0,1} (unweighted), lossU scalar; caller owns all.
 */
export function maskedPseudoLabelLoss(
  logitsStrong: tf.Tensor2D,
  target: tf.Tensor2D,
  threshold: number | tf.Tensor1D,
  weights: tf.Tensor1D | null = null,
): { final: tf.Tensor1D; mask: tf.Tensor1D; lossU: tf.Scalar } {
  return tf.tidy(() => {
    const final = tf.argMax(target, 1) as tf.Tensor1D;
    const confidence = tf.max(target, 1);
    const mask = tf.cast(tf.greaterEqual(confidence, threshold), 'float32') as tf.Tensor1D;
    const perSample = softmaxCrossEntropy(logitsStrong, final);
    const weighted = weights ? tf.mul(mask, weights) : mask;
    const lossU = tf.div(tf.sum(tf.mul(perSample, weighted)), logitsStrong.shape[0]) as tf.Scalar;
    return { final, mask, lossU };
  });
}

/** The registry entry of FixMatch. */
export const fixmatchMethod = defineLearner({
  name: 'fixmatch',
  kind: 'base',
  summary: 'confidence-thresholded pseudo-labels from weak views train the strong views',
  paper: 'Sohn et al., NeurIPS 2020',
  code: 'ytaek-oh/daso lib/algorithm/fixmatch.py (DASO\'s baseline)',
  sections: [fixmatchOptions],
  capabilities: ['pseudo-label-target', 'confidence-threshold', 'unlabeled-sample-weights', 'labeled-sample-weights', 'class-loss-weights', 'weak-strong-views', 'unlabeled-logits-loss'],
  create: (values, ctx, addOns) => createFixMatch(values, ctx, addOns),
});
