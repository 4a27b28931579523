import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../ops/stop-gradient.js';
import type { SectionValues } from '../options/option-spec.js';
import type { Algorithm, StepContext, StepLoss, TrainBatch } from './algorithm.js';
import type { AddOnChain } from './add-on.js';
import { fixmatchOptions, maskedPseudoLabelLoss } from './fixmatch.js';
import { labeledTerm } from './labeled-term.js';
import { defineLearner, type RunContext } from './method.js';
import { unlabeledRampupOptions, unlabeledRampupWeight, type UnlabeledRampupOptions } from './unlabeled-rampup.js';
import { stepView } from './joint-forward.js';
import { plusLossTerms, addOnLifecycle } from './add-on-delegation.js';

/**
 * PseudoLabel's own options: FixMatch's threshold τ and weight λ_u, shared as the same keys (DASO
 * reads one ALGORITHM.CONFIDENCE_THRESHOLD and UNLABELED_LOSS_WEIGHT for both, 0.95 and 1 in
 * configs/cifar10/pseudolabel.yaml).
 */
export const pseudoLabelOptions = {
  threshold: fixmatchOptions.threshold,
  lambdaU: fixmatchOptions.lambdaU,
} as const;

/** What `createPseudoLabel` reads: τ, λ_u and the ramp-up. */
export type PseudoLabelOptions = Readonly<SectionValues<typeof pseudoLabelOptions>> & UnlabeledRampupOptions;

/**
 * PseudoLabel (Lee, ICML-W 2013) as DASO runs it, ytaek-oh/daso lib/algorithm/pseudo_label.py
 * (docs/methods.md §4b): ONE unlabeled view, the weak one (DASO's transform for PseudoLabel is a
 * single weak augmentation); one student forward over [labeled | unlabeled]; p = softmax(z_u)
 * without gradient, hard pseudo-label argmax p masked by max p ≥ τ (0.95); the masked CE is taken
 * on the SAME logits z_u, summed and divided by the full unlabeled batch (maskedPseudoLabelLoss);
 * λ_u ramps up linearly over the first 40% of the run (`cons_rampup_func`).
 *
 * Add-ons take every point of {@link AddOnChain} as in FixMatch (per-sample thresholds replace τ,
 * unlabeled weights multiply the masked CE, labeled weights and logit adjustment go through
 * `labeledTerm`); they see the single view as both `featuresWeak` and `featuresStrong` (and
 * `logitsStrong`): it is the view the pseudo-labels come from and the one the loss trains.
 *
 * Deviations: the trainer still augments a strong view of each unlabeled image, which this
 * learner does not read (compute only, no effect on the numbers). Ramp-up multiplies λ_u only:
 * an add-on's own loss terms (DASO's L_align) keep their weights, as DASO's FixMatch has none.
 */
export function createPseudoLabel(opts: PseudoLabelOptions, ctx: Pick<RunContext, 'labeledLoss'>, addOns: AddOnChain): Algorithm {
  return {
    name: ['pseudo-label', ...addOns.names].join('+'),
    usesUnlabeled: true,
    prepare(batch, stepCtx) {
      addOns.prepare(batch, stepCtx);
    },
    loss(batch: TrainBatch, stepCtx: StepContext): StepLoss {
      const numLabeled = batch.labeledImages.shape[0];
      const numUnlabeled = batch.weakImages.shape[0];
      const logitCtx = { step: stepCtx.step, iterations: stepCtx.iterations };
      const { features, logits } = stepCtx.model.forward(tf.concat([batch.labeledImages, batch.weakImages], 0), true);
      const [logitsX, logitsU] = tf.split(logits, [numLabeled, numUnlabeled], 0) as tf.Tensor2D[];
      const [featuresX, featuresU] = tf.split(features, [numLabeled, numUnlabeled], 0) as tf.Tensor2D[];

      const lossX = labeledTerm(ctx.labeledLoss, addOns, logitsX, batch.labeledLabels, logitCtx);
      const probs = stopGradient(tf.softmax(addOns.adjustUnlabeledLogits(logitsU, logitCtx))) as tf.Tensor2D;
      const linear = tf.argMax(probs, 1) as tf.Tensor1D;

      const view = stepView(batch, stepCtx, { probs, featuresWeak: featuresU, featuresStrong: featuresU, logitsStrong: logitsU, labeledFeatures: featuresX! });
      const target = addOns.transformTarget(probs, view);
      const threshold = addOns.thresholds(target, view, opts.threshold);
      const { final, mask, lossU } = maskedPseudoLabelLoss(addOns.adjustStrongLogits(logitsU, view), target, threshold, addOns.unlabeledWeights(target, view));
      const rampup = unlabeledRampupWeight(stepCtx.step, stepCtx.iterations, opts);
      const extra = addOns.lossTerms(view);
      const total = plusLossTerms(tf.add(lossX, tf.mul(lossU, opts.lambdaU * rampup)) as tf.Scalar, extra);
      return {
        total,
        terms: { lossLabeled: lossX, lossUnlabeled: lossU, ...extra, maskRate: tf.mean(mask) as tf.Scalar, unlabeledRampup: tf.scalar(rampup) },
        pseudoLabels: { sources: { final, linear, ...addOns.pseudoLabelSources(view) }, mask },
      };
    },
    ...addOnLifecycle(addOns),
  };
}

/** The registry entry of PseudoLabel. */
export const pseudoLabelMethod = defineLearner({
  name: 'pseudo-label',
  kind: 'base',
  summary: 'confident argmax pseudo-labels of the one unlabeled view train that view, λ_u ramped up',
  paper: 'Lee, ICML-W 2013',
  code: 'ytaek-oh/daso lib/algorithm/pseudo_label.py',
  sections: [pseudoLabelOptions, unlabeledRampupOptions],
  capabilities: ['pseudo-label-target', 'confidence-threshold', 'unlabeled-sample-weights', 'labeled-sample-weights', 'class-loss-weights', 'unlabeled-logits-loss'],
  create: (values, ctx, addOns) => createPseudoLabel(values, ctx, addOns),
});
