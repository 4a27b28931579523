import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { softmaxCrossEntropy } from '../../ops/cross-entropy.js';
import { stopGradient } from '../../ops/stop-gradient.js';
import { option, type SectionValues } from '../../options/option-spec.js';
import { expectStrongViews, type Algorithm, type AlgorithmState, type StepContext, type StepLoss, type TrainBatch } from '../algorithm.js';
import type { AddOnChain } from '../add-on.js';
import { defineLearner, type RunContext, type UnlabeledViews } from '../method.js';
import { labeledTerm } from '../labeled-term.js';
import { fixmatchOptions, type FixMatchOptions } from '../fixmatch.js';
import { emaMix, logPriorPower, normalised, priorOf } from '../class-prior.js';
import { continuousContrastiveLoss, densityConsistencyLoss, energySelection, l2Normalize, sharpen } from './kde.js';
import { jointForward, stepView } from '../joint-forward.js';
import { plusLossTerms } from '../add-on-delegation.js';

/** CCL's balanced head (reported, as the official log's `Top1_b`), and its two projection heads. */
export const CCL_BALANCED_HEAD = 'balanced';
export const CCL_PROJECTION_HEAD = 'projection';
export const CCL_CENTER_HEAD = 'center-projection';

/** Views per unlabeled image: one weak, two strong (official `TransformFixMatch`: weak, strong, strong1). */
export const CCL_VIEWS: UnlabeledViews = { weak: 1, strong: 2 };

/** CCL options (zhouzihao11/CCL train.py argparse, configs/cifar10/*.sh, and constants of train.py). */
export const cclOptions = {
  cclTau: option(z.number().min(0), 2, 'CCL τ: balanced head trained on z_b + log(π^τ), pseudo-labels under π̂_u^(1+τ/2) (--tau 2.0)'),
  cclLambda1: option(z.number().min(0).max(1), 0.7, 'CCL λ₁: weight of the classification losses; the continuous contrastive loss gets 1 − λ₁ (--lambda1 0.7)'),
  cclLambda2: option(z.number().min(0), 1, 'CCL λ₂: weight of the unlabeled density (label-propagation) loss (--lambda2 1.0)'),
  cclEnergyThreshold: option(z.number(), -8.75, 'CCL: unlabeled samples whose energy −logsumexp(z_co) is at or below this enter the contrastive loss and the estimate of π̂_u (train.py: −8.75)'),
  cclAlpha: option(z.number().min(0).lt(1), 0.5, 'CCL EMA factor of the estimated unlabeled prior π̂_u, per epoch (--alpha 0.5)'),
  cclBeta: option(z.number().min(0).lt(1), 0.9, 'CCL EMA factor of the estimated prior of all data π̂, per epoch (configs/cifar10/*.sh --beta 0.9; argparse 0.5)'),
  cclEpochSteps: option(
    z.number().int().positive(),
    500,
    'CCL "epoch" in steps: the priors are re-estimated at its end (official --eval-step 500 = --upbatch 500; the embedded preset: 40, = --eval-every)',
  ),
  cclEstimateAfter: option(z.number().int().nonnegative(), 20, 'CCL: the priors are re-estimated in epochs > this one, 0-based (configs/cifar10/*.sh --est-epoch 20; argparse 5)'),
  cclProjectionDim: option(z.number().int().positive(), 256, 'CCL: width of the contrastive projections (official feat_dim = 2 × 128 on WRN-28-2)'),
} as const;

export type CclOptions = Readonly<SectionValues<typeof cclOptions>> & FixMatchOptions;

/** The two priors CCL re-estimates (official `py_unlabeled`, `py_all`). */
export interface CclPriors {
  readonly unlabeled: readonly number[];
  readonly all: readonly number[];
}

/**
 * CCL's end-of-epoch update (official, when `(batch_idx + 1) % upbatch == 0 and epoch > est_epoch`):
 * π̂_u ← α·π̂_u + (1 − α)·n_u/Σn_u and π̂ ← β·π̂ + (1 − β)·n/Σn, where n_u = 1 + Σ of the soft
 * pseudo-labels of energy-selected samples and n = 1 + Σ of those of confident samples over the
 * epoch (both start at ones: a Laplace prior).
 */
export function cclPriorUpdate(priors: CclPriors, selectedMass: readonly number[], confidentMass: readonly number[], alpha: number, beta: number): CclPriors {
  return { unlabeled: emaMix(priors.unlabeled, normalised(selectedMass), alpha), all: emaMix(priors.all, normalised(confidentMass), beta) };
}

/** The adjustment of the standard head's weak logits in z_co (official `logits_la_u`), [C]. */
export function cclUnlabeledAdjustment(labeledPrior: readonly number[], priors: CclPriors, tau: number, labeledShare: number): number[] {
  const mixed = labeledPrior.map((p, c) => labeledShare * p + (1 - labeledShare) * priors.all[c]!);
  const toUnlabeled = logPriorPower(priors.unlabeled, 1 + tau / 2);
  return logPriorPower(mixed, 1).map((l, c) => -l + toUnlabeled[c]!);
}

/** What CCL keeps between steps (JSON: doubles round-trip exactly). */
interface CclState {
  unlabeled: number[];
  all: number[];
  /** This epoch's n_u and n (ones at the start of every epoch). */
  selectedMass: number[];
  confidentMass: number[];
  updates: number;
}

/**
 * CCL (Zhou et al., NeurIPS 2024), following zhouzihao11/CCL train.py `train()` and
 * loss/semiConLoss.py:
 * - two heads on the shared features (the classifier = standard, an auxiliary `balanced` head,
 *   reported as the official `Top1_b`), and linear projections of the features and of the balanced
 *   head's class weights into a normalised contrastive space (`projection`, `center-projection`);
 * - classification: standard CE on the labeled batch (the labeled-loss slot) and balanced
 *   CE(z_b + log(π_l^τ), y); the pseudo-label distribution comes from the combined weak logits
 *   z_co = ½(z_weak − log((1−ρ)π_l + ρπ̂ + 1e-12) + log(π̂_u^(1+τ/2) + 1e-12)) + ½ z_b,weak with
 *   ρ = B_u/(B_u + B_l); its confident argmax trains both heads' strong logits (the balanced ones
 *   adjusted by log(π̂^τ)), each unlabeled term weighted max(1.5, μ);
 * - unlabeled density loss ({@link densityConsistencyLoss}) with the class centres and labeled
 *   projections as the support (the centres labelled with every class, as the official
 *   `center_label = torch.ones(C, C)`);
 * - class-balanced continuous contrastive loss ({@link continuousContrastiveLoss}) over centres,
 *   labeled projections and the strong projections of ENERGY-SELECTED unlabeled samples
 *   ({@link energySelection}), labelled by their sharpened pseudo-labels;
 * - total λ₁·L_cls + λ₂·L_density + (1 − λ₁)·L_contrastive;
 * - every epoch (after `cclEstimateAfter`) the priors are re-estimated ({@link cclPriorUpdate});
 *   π̂_u is the run's estimate of the unlabeled prior (source `ccl`).
 *
 * Add-ons see the combined distribution (`probs` = softmax z_co), and their targets, thresholds,
 * weights, strong-logit shift (on the standard head) and terms act as in FixMatch; the view's
 * strong features and logits are the first strong view's. CCL fills the unlabeled-logits point itself.
 *
 * Deviations from zhouzihao11/CCL, each on purpose:
 * - the projection heads are ONE linear layer each (official Linear–BN1d–ReLU–Linear): the
 *   model's auxiliary heads are linear;
 * - no strong views of the labeled images (official: two; the trainer makes strong views of
 *   unlabeled images only, two here as the official step): the contrastive support holds the
 *   labeled WEAK projections once (official: the two strong ones);
 * - (I − αS)^{−1} by a 20-term Neumann series (tfjs has no inverse; error < 1e-14);
 * - energy selection by weights instead of a gather (the same loss; fixed shapes);
 * - the combined head z_co, which the official `test` also prints (`Top1_co`), is not evaluated:
 *   evaluation reads model heads, and z_co needs the run's current priors;
 * - the schedule is the trainer's (official: cosine 7/16, EMA 0.999 from step 0, no weight decay
 *   on biases and BN).
 */
export function createCcl(opts: CclOptions, ctx: Pick<RunContext, 'labeledLoss' | 'labeledClassCounts' | 'numClasses'>, addOns: AddOnChain): Algorithm {
  const c = ctx.numClasses;
  const labeledPrior = priorOf(ctx.labeledClassCounts);
  const balancedLossAdjustment = logPriorPower(labeledPrior, opts.cclTau);
  const ones = (): number[] => new Array<number>(c).fill(1);
  const fresh = (): CclState => ({ unlabeled: labeledPrior.map(() => 1 / c), all: [...labeledPrior], selectedMass: ones(), confidentMass: ones(), updates: 0 });
  let s = fresh();
  // This step's [Σ q·selected | Σ q·confident] [2C], kept from `loss` for `afterStep`.
  let pendingMass: tf.Tensor1D | null = null;
  const dropPending = (): void => {
    pendingMass?.dispose();
    pendingMass = null;
  };

  return {
    name: ['ccl', ...addOns.names].join('+'),
    usesUnlabeled: true,
    prepare(batch, stepCtx) {
      addOns.prepare(batch, stepCtx);
    },
    loss(batch: TrainBatch, stepCtx: StepContext): StepLoss {
      dropPending();
      const strongs = expectStrongViews(batch, 'ccl', CCL_VIEWS.strong);
      const numLabeled = batch.labeledImages.shape[0];
      const numUnlabeled = batch.weakImages.shape[0];
      const logitCtx = { step: stepCtx.step, iterations: stepCtx.iterations };
      const model = stepCtx.model;
      const { labeled, weak: weakPart, strong, features, sizes } = jointForward(model, batch, strongs);
      const [logitsX, logitsWeak, logitsStrong] = [labeled.logits, weakPart.logits, strong.map((p) => p.logits)];
      const [featuresX, featuresWeak, featuresStrong] = [labeled.features, weakPart.features, strong[0]!.features];
      const [balancedX, balancedWeak, ...balancedStrong] = tf.split(model.auxLogits(CCL_BALANCED_HEAD, features), sizes, 0) as tf.Tensor2D[];

      // Classification (official loss_cls).
      const lossLabeled = labeledTerm(ctx.labeledLoss, addOns, logitsX!, batch.labeledLabels, logitCtx);
      const lossLabeledBalanced = tf.mean(softmaxCrossEntropy(tf.add(balancedX!, tf.tensor1d(balancedLossAdjustment)) as tf.Tensor2D, batch.labeledLabels)) as tf.Scalar;
      const labeledShare = numLabeled / (numLabeled + numUnlabeled);
      const adjustWeak = tf.tensor1d(cclUnlabeledAdjustment(labeledPrior, s, opts.cclTau, labeledShare));
      const weak = stopGradient(addOns.adjustUnlabeledLogits(logitsWeak!, logitCtx));
      const combined = tf.add(tf.mul(tf.add(weak, adjustWeak), 0.5), tf.mul(stopGradient(balancedWeak!), 0.5)) as tf.Tensor2D;
      const probs = tf.softmax(combined) as tf.Tensor2D;
      const view = stepView(batch, stepCtx, { probs, featuresWeak: featuresWeak!, featuresStrong: featuresStrong!, logitsStrong: logitsStrong[0]!, labeledFeatures: featuresX! });
      const target = addOns.transformTarget(probs, view);
      const threshold = addOns.thresholds(target, view, opts.threshold);
      const final = tf.argMax(target, 1) as tf.Tensor1D;
      const mask = tf.cast(tf.greaterEqual(tf.max(target, 1), threshold), 'float32') as tf.Tensor1D;
      const weights = addOns.unlabeledWeights(target, view);
      const weighted = weights ? tf.mul(mask, weights) : mask;
      // Mean over both strong views with the same mask (official cat of u_s, u_s1 and mask_twice).
      const maskedMean = (views: readonly tf.Tensor2D[]): tf.Scalar =>
        tf.div(tf.addN(views.map((z) => tf.sum(tf.mul(softmaxCrossEntropy(z, final), weighted)))), views.length * numUnlabeled) as tf.Scalar;
      const lossUnlabeled = maskedMean(logitsStrong.map((z) => addOns.adjustStrongLogits(z, view)));
      const adjustAll = tf.tensor1d(logPriorPower(s.all, opts.cclTau));
      const lossUnlabeledBalanced = maskedMean(balancedStrong.map((z) => tf.add(z, adjustAll) as tf.Tensor2D));
      const unlabeledWeight = Math.max(1.5, numUnlabeled / numLabeled);
      const lossCls = tf.addN([lossLabeled, lossLabeledBalanced, tf.mul(tf.add(lossUnlabeled, lossUnlabeledBalanced), unlabeledWeight)]) as tf.Scalar;

      // Contrastive space: projections of the features and of the balanced head's class weights.
      const projections = l2Normalize(model.auxLogits(CCL_PROJECTION_HEAD, features));
      const [projX, projWeak, ...projStrong] = tf.split(projections, sizes, 0) as tf.Tensor2D[];
      const balancedWeight = model.params.find((p) => p.name === `aux.${CCL_BALANCED_HEAD}.weight`);
      if (!balancedWeight) throw new Error(`ccl: the model has no aux.${CCL_BALANCED_HEAD}.weight`);
      const centers = l2Normalize(model.auxLogits(CCL_CENTER_HEAD, tf.transpose(balancedWeight.variable) as tf.Tensor2D));
      const centerLabels = tf.ones([c, c]) as tf.Tensor2D;
      const labeledOneHot = tf.cast(tf.oneHot(batch.labeledLabels, c), 'float32') as tf.Tensor2D;
      const support = tf.concat([centers, projX!], 0);
      const supportLabels = tf.concat([centerLabels, labeledOneHot], 0);
      const lossDensity = densityConsistencyLoss(support, projWeak!, projStrong, supportLabels);
      const selected = energySelection(combined, opts.cclEnergyThreshold);
      const sharpened = sharpen(target);
      const lossContrastive = continuousContrastiveLoss(
        tf.concat([support, ...projStrong], 0),
        tf.concat([supportLabels, ...projStrong.map(() => sharpened)], 0),
        c,
        tf.concat([tf.ones([c + numLabeled]), ...projStrong.map(() => selected)]) as tf.Tensor1D,
      );
      pendingMass = tf.keep(tf.concat([tf.sum(tf.mul(target, tf.expandDims(selected, 1)), 0), tf.sum(tf.mul(target, tf.expandDims(mask, 1)), 0)]) as tf.Tensor1D);

      const extra = addOns.lossTerms(view);
      const total = plusLossTerms(tf.addN([tf.mul(lossCls, opts.cclLambda1), tf.mul(lossDensity, opts.cclLambda2), tf.mul(lossContrastive, 1 - opts.cclLambda1)]) as tf.Scalar, extra);
      return {
        total,
        terms: {
          lossLabeled,
          lossLabeledBalanced,
          lossUnlabeled,
          lossUnlabeledBalanced,
          lossDensity,
          lossContrastive,
          ...extra,
          maskRate: tf.mean(mask) as tf.Scalar,
          energyRate: tf.mean(selected) as tf.Scalar,
        },
        pseudoLabels: {
          sources: { final, linear: tf.argMax(weak, 1) as tf.Tensor1D, [CCL_BALANCED_HEAD]: tf.argMax(balancedWeak!, 1) as tf.Tensor1D, ...addOns.pseudoLabelSources(view) },
          mask,
        },
      };
    },
    afterStep(pseudoLabels, stepCtx) {
      if (pseudoLabels) addOns.afterStep(pseudoLabels, stepCtx);
      const mass = pendingMass?.dataSync();
      dropPending();
      if (mass) {
        for (let k = 0; k < c; k++) {
          s.selectedMass[k]! += mass[k]!;
          s.confidentMass[k]! += mass[c + k]!;
        }
      }
      if ((stepCtx.step + 1) % opts.cclEpochSteps === 0) {
        if (Math.floor(stepCtx.step / opts.cclEpochSteps) > opts.cclEstimateAfter) {
          const next = cclPriorUpdate(s, s.selectedMass, s.confidentMass, opts.cclAlpha, opts.cclBeta);
          s.unlabeled = [...next.unlabeled];
          s.all = [...next.all];
          s.updates += 1;
        }
        s.selectedMass = ones();
        s.confidentMass = ones();
      }
    },
    priorEstimates: () => ({ ...(s.updates > 0 ? { ccl: [...s.unlabeled] } : {}), ...addOns.priorEstimates() }),
    state(): AlgorithmState {
      const own = addOns.state();
      return { json: { ...own.json, ccl: structuredClone(s) }, arrays: own.arrays };
    },
    restore(state: AlgorithmState) {
      addOns.restore(state);
      const saved = state.json.ccl as CclState | undefined;
      s = saved ? structuredClone(saved) : fresh();
    },
    dispose() {
      dropPending();
      addOns.dispose();
    },
  };
}

/** The registry entry: `ssl run ccl`. */
export const cclMethod = defineLearner({
  name: 'ccl',
  kind: 'base',
  summary: 'class-balanced continuous contrastive loss from Gaussian-kernel density estimates, energy-selected unlabeled samples, two heads (balanced reported), re-estimated priors',
  paper: 'Zhou et al., NeurIPS 2024',
  code: 'zhouzihao11/CCL train.py, loss/semiConLoss.py',
  sections: [fixmatchOptions, cclOptions],
  capabilities: ['pseudo-label-target', 'confidence-threshold', 'unlabeled-sample-weights', 'labeled-sample-weights', 'class-loss-weights', 'weak-strong-views', 'unlabeled-logits-loss'],
  claims: ['unlabeled-logits'],
  unlabeledViews: () => CCL_VIEWS,
  model: (values) => ({
    auxHeads: [
      { name: CCL_BALANCED_HEAD, outputs: 'classes' },
      { name: CCL_PROJECTION_HEAD, outputs: values.cclProjectionDim },
      { name: CCL_CENTER_HEAD, outputs: values.cclProjectionDim },
    ],
    reportedHead: CCL_BALANCED_HEAD,
  }),
  create: (values, ctx, addOns) => createCcl(values, ctx, addOns),
});
