import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { softCrossEntropy, softmaxCrossEntropy } from '../../ops/cross-entropy.js';
import { stopGradient } from '../../ops/stop-gradient.js';
import { option, type SectionValues } from '../../options/option-spec.js';
import { UserError } from '../../errors.js';
import { expectStrongViews, type Algorithm, type AlgorithmState, type StepContext, type StepLoss, type TrainBatch } from '../algorithm.js';
import type { AddOnChain } from '../add-on.js';
import { defineLearner, type RunContext, type UnlabeledViews } from '../method.js';
import { fixmatchOptions, type FixMatchOptions } from '../fixmatch.js';
import { logPriorPower, priorOf } from '../class-prior.js';
import { labeledLossScale, simproMStep, type SimProPriors } from './m-step.js';
import { jointForward, stepView } from '../joint-forward.js';
import { plusLossTerms } from '../add-on-delegation.js';

/** Views per unlabeled image: one weak, two strong (official `TransformFixMatch`: weak, strong, strong1). */
export const SIMPRO_VIEWS: UnlabeledViews = { weak: 1, strong: 2 };

/**
 * SimPro options (LeapLabTHU/SimPro sh/SimPro.sh, CIFAR-10 block; train.py argparse). The
 * confidence threshold and λ_u are FixMatch's section (`--threshold` 0.95 as the script; the
 * official loss has no λ_u, i.e. 1).
 */
export const simproOptions = {
  simproTau: option(z.number().min(0), 2, 'SimPro τ: pseudo-labels softmax(z + log(π̂_u^τ)), loss on z + log(π̂^τ) (sh/SimPro.sh CIFAR-10: 2.0; CIFAR-100: 1.0)'),
  simproEmaU: option(z.number().min(0).lt(1), 0.9, 'SimPro EMA factor of the M-step\'s priors, per epoch (sh/SimPro.sh --ema-u 0.9)'),
  simproEpochSteps: option(
    z.number().int().positive(),
    500,
    'SimPro "epoch" in steps: the M-step runs at the end of each (official: --eval-step 500, its evaluation interval; the embedded preset: 40, = --eval-every)',
  ),
} as const;

export type SimProOptions = Readonly<SectionValues<typeof simproOptions>> & FixMatchOptions;

/**
 * SimPro's E-step: q = softmax(z + log(π̂_u^τ + 1e-12)), the posterior under the estimated
 * unlabeled prior (official `pseudo_label`; T = 1).
 *
 * @param weakLogits [B, C] (no gradient wanted: the caller passes detached logits).
 * @returns [B, C] probabilities; the caller owns them.
 */
export function simproPseudoLabels(weakLogits: tf.Tensor2D, unlabeledPrior: readonly number[], tau: number): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(tf.add(weakLogits, tf.tensor1d(logPriorPower(unlabeledPrior, tau)))) as tf.Tensor2D);
}

/** What SimPro keeps between steps (JSON: doubles round-trip exactly). */
interface SimProState {
  unlabeled: number[];
  all: number[];
  /** This epoch's sums for the M-step. */
  unlabeledMass: number[];
  labeledCount: number[];
  /** M-steps done; 0 = π̂_u is still its uniform start. */
  mSteps: number;
}

/**
 * SimPro (Du et al., ICML 2024), following LeapLabTHU/SimPro SimPro/train.py `train()`:
 * - E-step: soft pseudo-labels q = softmax(z_weak + log(π̂_u^τ + 1e-12)) (no gradient), masked
 *   where max q ≥ threshold;
 * - M-step (network): the labeled loss CE(z_l + log(π̂^τ + 1e-12), y) divided by the ratio of
 *   unlabeled to labeled batches per pass ({@link labeledLossScale}), and the unlabeled loss
 *   mean_i mask_i·CE(z_strong + log(π̂^τ + 1e-12), q_i) against the SOFT q, with π̂ the prior of
 *   all training data;
 * - M-step (priors): at the end of each epoch (`simproEpochSteps` steps; the official epoch is
 *   its evaluation interval, 500 steps) the closed-form update of π̂_u from the epoch's confident
 *   pseudo-label mass and of π̂ from that mass plus the labeled counts, each with its EMA
 *   ({@link simproMStep}). π̂_u is the run's estimate of the unlabeled prior (source `simpro`).
 * - The classifier's raw logits are evaluated (the official `test` reads `model(inputs)`).
 *
 * Add-ons: the chain transforms q (the final target is what the loss and the M-step see), sets
 * per-sample thresholds and weights, and adds loss terms (the view's strong features and logits
 * are the first strong view's). SimPro fills the labeled-, unlabeled- and strong-logits points
 * itself (its priors), so add-ons claiming them are refused, and its labeled loss is its own: the
 * labeled-loss slot must stay `ce`.
 *
 * Deviations from LeapLabTHU/SimPro SimPro/train.py, each on purpose:
 * - the weak labeled view only in the labeled loss (official: the weak and a strong labeled view,
 *   `TransformFixMatch2`, averaged): the trainer makes strong views of unlabeled images only
 *   (two here, as the official step);
 * - the M-step runs after the epoch's last step and before the evaluation that follows, as the
 *   official one; an epoch here is a fixed number of steps, the official `eval_step`;
 * - the schedule is the trainer's (the CIFAR preset sets the script's lr 0.17, 43k steps, μ 8,
 *   fixmatch-cosine; the EMA model's decay warms up; weight decay on every parameter).
 */
export function createSimPro(opts: SimProOptions, ctx: Pick<RunContext, 'labeledClassCounts' | 'numClasses' | 'numUnlabeled'>, addOns: AddOnChain): Algorithm {
  const labeledPrior = priorOf(ctx.labeledClassCounts);
  const numLabeled = ctx.labeledClassCounts.reduce((a, b) => a + b, 0);
  const zeros = (): number[] => new Array<number>(ctx.numClasses).fill(0);
  const fresh = (): SimProState => ({ unlabeled: labeledPrior.map(() => 1 / ctx.numClasses), all: [...labeledPrior], unlabeledMass: zeros(), labeledCount: zeros(), mSteps: 0 });
  let s = fresh();
  // This step's [confident pseudo-label mass | labeled one-hot counts] [2C], kept from `loss` for `afterStep`.
  let pendingSums: tf.Tensor1D | null = null;
  const dropPending = (): void => {
    pendingSums?.dispose();
    pendingSums = null;
  };

  return {
    name: ['simpro', ...addOns.names].join('+'),
    usesUnlabeled: true,
    prepare(batch, stepCtx) {
      addOns.prepare(batch, stepCtx);
    },
    loss(batch: TrainBatch, stepCtx: StepContext): StepLoss {
      dropPending();
      const strongs = expectStrongViews(batch, 'simpro', SIMPRO_VIEWS.strong);
      const batchLabeled = batch.labeledImages.shape[0];
      const batchUnlabeled = batch.weakImages.shape[0];
      const logitCtx = { step: stepCtx.step, iterations: stepCtx.iterations };
      const { labeled, weak: weakPart, strong } = jointForward(stepCtx.model, batch, strongs);
      const [logitsX, logitsWeak, logitsStrong] = [labeled.logits, weakPart.logits, strong.map((p) => p.logits)];
      const [featuresX, featuresWeak, featuresStrong] = [labeled.features, weakPart.features, strong[0]!.features];
      const adjustAll = tf.tensor1d(logPriorPower(s.all, opts.simproTau));

      const zX = tf.add(addOns.adjustLabeledLogits(logitsX!, logitCtx), adjustAll) as tf.Tensor2D;
      const labeledWeights = addOns.labeledWeights(batch.labeledLabels, logitCtx);
      const perLabeled = softmaxCrossEntropy(zX, batch.labeledLabels);
      const scale = labeledLossScale(numLabeled, batchLabeled, ctx.numUnlabeled, batchUnlabeled);
      const lossX = tf.div(tf.mean(labeledWeights ? tf.mul(perLabeled, labeledWeights) : perLabeled), scale) as tf.Scalar;

      const weak = stopGradient(addOns.adjustUnlabeledLogits(logitsWeak!, logitCtx));
      const probs = simproPseudoLabels(weak, s.unlabeled, opts.simproTau);
      const view = stepView(batch, stepCtx, { probs, featuresWeak: featuresWeak!, featuresStrong: featuresStrong!, logitsStrong: logitsStrong[0]!, labeledFeatures: featuresX! });
      const target = addOns.transformTarget(probs, view);
      const threshold = addOns.thresholds(target, view, opts.threshold);
      const mask = tf.cast(tf.greaterEqual(tf.max(target, 1), threshold), 'float32') as tf.Tensor1D;
      const weights = addOns.unlabeledWeights(target, view);
      // Mean over both strong views with the same mask and soft target (official cat of u_s, u_s1).
      const weighted = weights ? tf.mul(mask, weights) : mask;
      const sums = logitsStrong.map((z) => tf.sum(tf.mul(softCrossEntropy(tf.add(z, adjustAll) as tf.Tensor2D, target), weighted)));
      const lossU = tf.div(tf.addN(sums), strongs.length * batchUnlabeled) as tf.Scalar;
      pendingSums = tf.keep(
        tf.concat([tf.sum(tf.mul(stopGradient(target), tf.expandDims(mask, 1)), 0), tf.sum(tf.oneHot(batch.labeledLabels, ctx.numClasses), 0)]) as tf.Tensor1D,
      );

      const extra = addOns.lossTerms(view);
      const total = plusLossTerms(tf.add(lossX, tf.mul(lossU, opts.lambdaU)) as tf.Scalar, extra);
      return {
        total,
        terms: { lossLabeled: lossX, lossUnlabeled: lossU, ...extra, maskRate: tf.mean(mask) as tf.Scalar },
        pseudoLabels: {
          sources: { final: tf.argMax(target, 1) as tf.Tensor1D, linear: tf.argMax(weak, 1) as tf.Tensor1D, ...addOns.pseudoLabelSources(view) },
          mask,
        },
      };
    },
    afterStep(pseudoLabels, stepCtx) {
      if (pseudoLabels) addOns.afterStep(pseudoLabels, stepCtx);
      const sums = pendingSums?.dataSync();
      dropPending();
      if (sums) {
        for (let c = 0; c < ctx.numClasses; c++) {
          s.unlabeledMass[c]! += sums[c]!;
          s.labeledCount[c]! += sums[ctx.numClasses + c]!;
        }
      }
      if ((stepCtx.step + 1) % opts.simproEpochSteps === 0) {
        const next: SimProPriors = simproMStep(s, s, opts.simproEmaU);
        s = { unlabeled: [...next.unlabeled], all: [...next.all], unlabeledMass: zeros(), labeledCount: zeros(), mSteps: s.mSteps + 1 };
      }
    },
    priorEstimates: () => ({ ...(s.mSteps > 0 ? { simpro: [...s.unlabeled] } : {}), ...addOns.priorEstimates() }),
    state(): AlgorithmState {
      const own = addOns.state();
      return { json: { ...own.json, simpro: structuredClone(s) }, arrays: own.arrays };
    },
    restore(state: AlgorithmState) {
      addOns.restore(state);
      const saved = state.json.simpro as SimProState | undefined;
      s = saved ? structuredClone(saved) : fresh();
    },
    dispose() {
      dropPending();
      addOns.dispose();
    },
  };
}

/** The registry entry: `ssl run simpro`. */
export const simproMethod = defineLearner({
  name: 'simpro',
  kind: 'base',
  summary: 'EM: pseudo-labels under the estimated unlabeled prior (E-step), closed-form prior update each epoch (M-step); no assumption on the unlabeled distribution',
  paper: 'Du et al., ICML 2024',
  code: 'LeapLabTHU/SimPro SimPro/train.py',
  sections: [fixmatchOptions, simproOptions],
  capabilities: ['pseudo-label-target', 'confidence-threshold', 'unlabeled-sample-weights', 'labeled-sample-weights', 'class-loss-weights', 'weak-strong-views'],
  claims: ['labeled-logits', 'unlabeled-logits', 'strong-logits'],
  unlabeledViews: () => SIMPRO_VIEWS,
  validate: (_values, config) => {
    if (config.labeledLoss !== 'ce') {
      throw new UserError('--labeled-loss', `simpro takes no --labeled-loss ${String(config.labeledLoss)}: its labeled loss is its own, CE on z + τ·log π̂ with its M-step prior`, 'Drop --labeled-loss.');
    }
  },
  create: (values, ctx, addOns) => createSimPro(values, ctx, addOns),
});
