import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { stopGradient } from '../../ops/stop-gradient.js';
import { option, type SectionValues } from '../../options/option-spec.js';
import type { Algorithm, AlgorithmState, StepContext, StepLoss, TrainBatch } from '../algorithm.js';
import type { AddOnChain } from '../add-on.js';
import { fixmatchOptions, maskedPseudoLabelLoss } from '../fixmatch.js';
import { labeledTerm } from '../labeled-term.js';
import { defineLearner, type RunContext } from '../method.js';
import { CurriculumThresholds } from './curriculum-thresholds.js';
import { jointForward, stepView } from '../joint-forward.js';
import { plusLossTerms } from '../add-on-delegation.js';

/**
 * FlexMatch options (docs/methods.md §4d; microsoft/Semi-supervised-learning
 * semilearn/algorithms/flexmatch/flexmatch.py `get_argument`). τ (`p_cutoff`, 0.95) and λ_u
 * (`ulb_loss_ratio`, 1) are FixMatch's keys, shared: the same concepts with the same defaults.
 */
export const flexmatchOptions = {
  threshold: fixmatchOptions.threshold,
  lambdaU: fixmatchOptions.lambdaU,
  flexmatchThresholdWarmup: option(
    z.boolean(),
    true,
    'count never-selected unlabeled samples in the learning effects, so the thresholds start low (USB thresh_warmup: true; --no-flexmatch-threshold-warmup turns it off)',
  ),
} as const;

/** What `createFlexMatch` reads: τ, λ_u and the threshold warm-up switch. */
export type FlexMatchOptions = Readonly<SectionValues<typeof flexmatchOptions>>;

/** Checkpoint key prefix of the curriculum's arrays (add-ons' keys are prefixed by their names). */
const STATE_PREFIX = 'flexmatch/';

/**
 * FlexMatch (Zhang et al., NeurIPS 2021) as microsoft/Semi-supervised-learning runs it,
 * semilearn/algorithms/flexmatch/{flexmatch,utils}.py (docs/methods.md §4d): FixMatch's step
 * (one student forward over [labeled | weak | strong], hard pseudo-labels from the weak view, CE
 * on the strong view divided by the full unlabeled batch) with curriculum per-class thresholds:
 * a sample with pseudo-label c counts when max p ≥ τ · M(β_c), M(β) = β / (2 − β), where β_c are
 * the learning effects of `CurriculumThresholds` over the whole unlabeled set. As in USB's hook,
 * the mask uses β from before this step; then every sample with max p ≥ τ (the FIXED threshold)
 * records its class at its unlabeled position, and β is recomputed for the next step.
 *
 * Add-ons: the thresholds are computed on the final target (after `transformTarget`, e.g.
 * DASO's blend), so the curriculum follows the pseudo-labels that enter the loss. Every point of
 * {@link AddOnChain} applies but `thresholds`: FlexMatch sets its own per-class thresholds, and
 * the registry refuses an add-on that would replace them (Adsh).
 *
 * Deviations: the batch and schedule are DASO's FixMatch (μ = 2, 64 labeled), not USB's (μ = 7);
 * USB's `T` (soft-label temperature) is not offered, since its default `hard_label` ignores it.
 */
export function createFlexMatch(opts: FlexMatchOptions, ctx: Pick<RunContext, 'labeledLoss' | 'numClasses' | 'numUnlabeled'>, addOns: AddOnChain): Algorithm {
  const curriculum = new CurriculumThresholds(ctx.numClasses, ctx.numUnlabeled, opts.flexmatchThresholdWarmup);
  // The fixed-τ selection of the step in flight, read back in `loss` and committed in `afterStep`
  // on that step's final pseudo-labels; keyed by step, so a failed step never leaks into the next.
  let pending: { readonly step: number; readonly positions: Int32Array; readonly selected: Uint8Array } | null = null;
  // f32, as the device compares confidences with τ.
  const tau = Math.fround(opts.threshold);

  return {
    name: ['flexmatch', ...addOns.names].join('+'),
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
      // τ·M(β_c) of each sample's class, as a one-hot product: a gather would ask the tape for a
      // gradient of its int32 indices (tfjs refuses), and the indices do hang off the forward.
      const classThresholds = tf.tensor2d(curriculum.classThresholds(opts.threshold), [1, ctx.numClasses]);
      const thresholds = tf.sum(tf.mul(tf.oneHot(tf.argMax(target, 1) as tf.Tensor1D, ctx.numClasses), classThresholds), 1) as tf.Tensor1D;
      const { final, mask, lossU } = maskedPseudoLabelLoss(addOns.adjustStrongLogits(logitsStrong, view), target, thresholds, addOns.unlabeledWeights(target, view));
      const confidence = tf.max(target, 1).dataSync();
      pending = { step: stepCtx.step, positions: Int32Array.from(batch.unlabeledPositions), selected: Uint8Array.from(confidence, (c) => (c >= tau ? 1 : 0)) };

      const extra = addOns.lossTerms(view);
      const total = plusLossTerms(tf.add(lossX, tf.mul(lossU, opts.lambdaU)) as tf.Scalar, extra);
      return {
        total,
        terms: { lossLabeled: lossX, lossUnlabeled: lossU, ...extra, maskRate: tf.mean(mask) as tf.Scalar, thresholdMean: tf.mean(thresholds) as tf.Scalar },
        pseudoLabels: { sources: { final, linear, ...addOns.pseudoLabelSources(view) }, mask },
      };
    },
    afterStep(pseudoLabels, stepCtx) {
      if (!pseudoLabels) return;
      if (pending?.step === stepCtx.step) curriculum.record(pending.positions, pseudoLabels.sources.final, pending.selected);
      pending = null;
      addOns.afterStep(pseudoLabels, stepCtx);
    },
    priorEstimates: () => addOns.priorEstimates(),
    state(): AlgorithmState {
      const chain = addOns.state();
      const own = curriculum.state();
      const arrays: Record<string, Float32Array | Int32Array> = { ...chain.arrays };
      for (const [k, v] of Object.entries(own.arrays)) arrays[`${STATE_PREFIX}${k}`] = v;
      return { json: chain.json, arrays };
    },
    restore(state) {
      const own: Record<string, Float32Array | Int32Array> = {};
      for (const [k, v] of Object.entries(state.arrays)) if (k.startsWith(STATE_PREFIX)) own[k.slice(STATE_PREFIX.length)] = v;
      curriculum.restore({ json: {}, arrays: own });
      addOns.restore(state);
    },
    dispose: () => addOns.dispose(),
  };
}

/** The registry entry of FlexMatch. */
export const flexmatchMethod = defineLearner({
  name: 'flexmatch',
  kind: 'base',
  summary: 'FixMatch with curriculum per-class thresholds τ·M(β_c) from each class\'s share of confident unlabeled samples',
  paper: 'Zhang et al., NeurIPS 2021',
  code: 'microsoft/Semi-supervised-learning semilearn/algorithms/flexmatch',
  sections: [flexmatchOptions],
  // No 'confidence-threshold': the curriculum owns the per-class thresholds, so an add-on that
  // sets per-sample thresholds (Adsh) would replace FlexMatch itself; the registry refuses it.
  capabilities: ['pseudo-label-target', 'unlabeled-sample-weights', 'labeled-sample-weights', 'class-loss-weights', 'weak-strong-views', 'unlabeled-logits-loss'],
  create: (values, ctx, addOns) => createFlexMatch(values, ctx, addOns),
});
