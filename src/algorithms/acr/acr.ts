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
import { logPriorPower } from '../class-prior.js';
import { ACR_HISTOGRAMS, acrAnchors, adaptiveTau, confidentHistogram, updateEstimate } from './adaptive-tau.js';
import { jointForward, stepView } from '../joint-forward.js';
import { plusLossTerms } from '../add-on-delegation.js';

/** ACR's balanced head (an auxiliary head; the reported one, as the paper's numbers are its). */
export const ACR_BALANCED_HEAD = 'balanced';

/** Views per unlabeled image: one weak, two strong (official `TransformFixMatch`: weak, strong, strong1). */
export const ACR_VIEWS: UnlabeledViews = { weak: 1, strong: 2 };

/** ACR's lower end of τ (official `args.taumin = 0`). */
const TAU_MIN = 0;

/**
 * ACR options (Gank0078/ACR train.py argparse defaults and the README's CIFAR-10 commands). The
 * confidence threshold and λ_u are FixMatch's section (`--threshold` 0.95, `--lambda-u` 1), as the
 * official code inherits them from FixMatch.
 */
export const acrOptions = {
  acrTauMax: option(z.number().min(0), 2, 'ACR τ_max: the adaptive τ of the standard branch\'s pseudo-labels lies in [0, τ_max], and is τ_max before the estimate starts (official --tau1: 2)'),
  acrTauBalancedTarget: option(z.number().min(0), 2, 'ACR τ of the standard-branch pseudo-labels that train the balanced head, softmax(z − τ·log π_l) (official --tau12: 2)'),
  acrTauBalancedLoss: option(z.number().min(0), 2, 'ACR τ of the balanced head\'s labeled loss, CE(z_b + τ·log π_l, y) (official --tau2: 2)'),
  acrEmaU: option(z.number().min(0).lt(1), 0.99, 'ACR EMA factor of the estimated unlabeled distribution, per step (README CIFAR-10 commands: --ema-u 0.99; argparse default 0.9)'),
  acrEpochSteps: option(
    z.number().int().positive(),
    500,
    'ACR "epoch" in steps: τ is re-chosen at the end of each (official: --eval-step 500, its evaluation interval; the embedded preset: 40, = --eval-every)',
  ),
  acrEstimateAfter: option(z.number().int().nonnegative(), 5, 'ACR: the estimate runs in epochs > this one, 0-based (official --est-epoch: 5)'),
  acrHistogram: option(
    z.enum(ACR_HISTOGRAMS),
    'count',
    'ACR: a step\'s histogram of confident balanced-head pseudo-labels counts every sample (count), or, as the official `now_mask[targets] += mask` does (an indexed assignment without accumulation), one sample per class (index-put)',
    '<mode>',
  ),
} as const;

export type AcrOptions = Readonly<SectionValues<typeof acrOptions>> & FixMatchOptions;

/**
 * Masked hard-label consistency with ACR's OR-ed masks (official `mask_ss_t = mask + mask_t` on
 * bool tensors): a sample enters when the target OR the second distribution is confident, with the
 * TARGET's argmax as label; over K strong views of the batch with the same mask,
 * L = Σ_v Σ_i w_i·m_i·CE(z_v,i, ŷ_i) / (K·B) (the official `(ce(cat(views)) * cat(masks)).mean()`
 * over its two views; an all-masked batch gives 0).
 *
 * @param logitsStrong K views of [B, C] (gradient flows). @param target [B, C] and @param also
 * [B, C] probabilities (no gradient). @param threshold one τ, or [B] per sample. @param weights [B] or null.
 * @returns final [B] int32, mask [B] float32 in {0, 1}, loss scalar; the caller owns all.
 */
export function eitherConfidentLoss(
  logitsStrong: readonly tf.Tensor2D[],
  target: tf.Tensor2D,
  also: tf.Tensor2D,
  threshold: number | tf.Tensor1D,
  weights: tf.Tensor1D | null,
): { final: tf.Tensor1D; mask: tf.Tensor1D; loss: tf.Scalar } {
  return tf.tidy(() => {
    const final = tf.argMax(target, 1) as tf.Tensor1D;
    // max of the two {0, 1} masks is their OR; LogicalOr has no gradient, and the tape passes through here.
    const confident = (p: tf.Tensor2D): tf.Tensor => tf.cast(tf.greaterEqual(tf.max(p, 1), threshold), 'float32');
    const mask = tf.maximum(confident(target), confident(also)) as tf.Tensor1D;
    const weighted = weights ? tf.mul(mask, weights) : mask;
    const sums = logitsStrong.map((z) => tf.sum(tf.mul(softmaxCrossEntropy(z, final), weighted)));
    const loss = tf.div(tf.addN(sums), logitsStrong.length * target.shape[0]) as tf.Scalar;
    return { final, mask, loss };
  });
}

/** What ACR keeps between steps (all JSON: doubles round-trip exactly). */
interface AcrState {
  /** τ of the standard branch's pseudo-labels this epoch. */
  tau: number;
  /** Σ over this epoch's steps of the symmetric KL to [consistent, uniform, reversed]. */
  summedKl: [number, number, number];
  /** û, the estimated unlabeled class distribution [C] (official `u_py`, uniform at start). */
  estimate: number[];
  /** Steps that updated û (official `est_step`); 0 = no estimate yet. */
  estimateSteps: number;
}

/**
 * ACR (Wei & Gan, CVPR 2023), following Gank0078/ACR train.py `train()`:
 * - two heads on the shared features of ONE forward over [labeled | weak | strong | strong']
 *   (two strong views of each unlabeled image, as the official step): the standard
 *   (classifier) head and an auxiliary balanced head;
 * - standard head: labeled loss from the labeled-loss slot (official plain CE); consistency
 *   CE(z_strong, argmax p) with p = softmax(z_weak − log(π_l^τ + 1e-12)): the standard branch's
 *   pseudo-labels are logit-ADJUSTED (the supplementary pseudo-code; the official code does it,
 *   users of the repo found it surprising: issue #8), masked where p OR softmax(z_weak) is confident;
 * - balanced head: CE(z_b + log(π_l^τ2 + 1e-12), y) on the labeled batch; consistency CE(z_b_strong,
 *   argmax p₂) with p₂ = softmax(z_weak − log(π_l^τ12 + 1e-12)) from the STANDARD head, masked
 *   where p₂ OR softmax(z_b_weak) is confident;
 * - τ adapts each "epoch" (`acrEpochSteps` steps: the official epoch is its evaluation interval,
 *   500 steps, not a pass over the data): from epoch `acrEstimateAfter`+1 on, û is an EMA (per
 *   step) of the histogram of confident balanced-head pseudo-labels; the mean over the epoch of
 *   its symmetric KL to the three anchors sets the next epoch's τ ({@link adaptiveTau});
 * - the balanced head is evaluated and reported (the paper's numbers are its; the printed
 *   accuracy of the repo is the standard head's, issue #4): `summary.heads` names it.
 *
 * Add-ons: the chain sees the standard branch (its target p, thresholds, weights and strong-logit
 * shift act on the standard consistency loss, its loss terms are added; the view's strong features
 * and logits are the first strong view's); the balanced branch keeps ACR's own.
 * ACR fills the unlabeled-logits point itself (it subtracts τ·log π_l), so an add-on claiming it
 * is refused at config time.
 *
 * Deviations from Gank0078/ACR train.py, each on purpose:
 * - `--acr-histogram count` by default: the official indexed assignment counts at most one sample
 *   per class and step, so its û follows per-class confidence rates rather than class frequencies
 *   (`index-put` reproduces it);
 * - samples of the labeled set that are also in the unlabeled set (`--labeled-in-unlabeled`) count
 *   in û; the official code masks them out (`u_real == -2`);
 * - π_l from the labeled split's counts; the official `compute_py` counts one pass of the labeled
 *   loader with `drop_last=True`, a few samples fewer;
 * - the schedule is the trainer's (EMA decay warm-up, weight decay on every parameter, LR schedule
 *   as configured); official: EMA 0.999 from step 0, no decay on biases and BN, cosine 7/16.
 */
export function createAcr(opts: AcrOptions, ctx: Pick<RunContext, 'labeledLoss' | 'labeledClassCounts' | 'numClasses'>, addOns: AddOnChain): Algorithm {
  const anchors = acrAnchors(ctx.labeledClassCounts);
  const balancedTargetAdjustment = logPriorPower(anchors.consistent, opts.acrTauBalancedTarget);
  const balancedLossAdjustment = logPriorPower(anchors.consistent, opts.acrTauBalancedLoss);
  const fresh = (): AcrState => ({ tau: opts.acrTauMax, summedKl: [0, 0, 0], estimate: anchors.uniform.slice(), estimateSteps: 0 });
  let s = fresh();
  // The balanced head's confidence of the last step, kept from `loss` for `afterStep` (the trainer reads back only the sources).
  let pendingBalancedConfident: tf.Tensor1D | null = null;
  const dropPending = (): void => {
    pendingBalancedConfident?.dispose();
    pendingBalancedConfident = null;
  };
  const epochOf = (step: number): number => Math.floor(step / opts.acrEpochSteps);

  return {
    name: ['acr', ...addOns.names].join('+'),
    usesUnlabeled: true,
    prepare(batch, stepCtx) {
      addOns.prepare(batch, stepCtx);
    },
    loss(batch: TrainBatch, stepCtx: StepContext): StepLoss {
      dropPending();
      const strongs = expectStrongViews(batch, 'acr', ACR_VIEWS.strong);
      const logitCtx = { step: stepCtx.step, iterations: stepCtx.iterations };
      const { labeled, weak: weakPart, strong, features, sizes } = jointForward(stepCtx.model, batch, strongs);
      const [logitsX, logitsWeak, logitsStrong] = [labeled.logits, weakPart.logits, strong.map((p) => p.logits)];
      const [featuresX, featuresWeak, featuresStrong] = [labeled.features, weakPart.features, strong[0]!.features];
      const [balancedX, balancedWeak, ...balancedStrong] = tf.split(stepCtx.model.auxLogits(ACR_BALANCED_HEAD, features), sizes, 0) as tf.Tensor2D[];

      const lossX = labeledTerm(ctx.labeledLoss, addOns, logitsX!, batch.labeledLabels, logitCtx);
      const lossXBalanced = tf.mean(softmaxCrossEntropy(tf.add(balancedX!, tf.tensor1d(balancedLossAdjustment)) as tf.Tensor2D, batch.labeledLabels)) as tf.Scalar;

      const weak = stopGradient(addOns.adjustUnlabeledLogits(logitsWeak!, logitCtx));
      const raw = tf.softmax(weak) as tf.Tensor2D;
      const probs = tf.softmax(tf.sub(weak, tf.tensor1d(logPriorPower(anchors.consistent, s.tau)))) as tf.Tensor2D;
      const balancedTarget = tf.softmax(tf.sub(weak, tf.tensor1d(balancedTargetAdjustment))) as tf.Tensor2D;
      const balancedProbs = tf.softmax(stopGradient(balancedWeak!)) as tf.Tensor2D;

      const view = stepView(batch, stepCtx, { probs, featuresWeak: featuresWeak!, featuresStrong: featuresStrong!, logitsStrong: logitsStrong[0]!, labeledFeatures: featuresX! });
      const target = addOns.transformTarget(probs, view);
      const threshold = addOns.thresholds(target, view, opts.threshold);
      const standard = eitherConfidentLoss(
        logitsStrong.map((z) => addOns.adjustStrongLogits(z, view)),
        target,
        raw,
        threshold,
        addOns.unlabeledWeights(target, view),
      );
      const balanced = eitherConfidentLoss(balancedStrong, balancedTarget, balancedProbs, opts.threshold, null);
      pendingBalancedConfident = tf.keep(tf.cast(tf.greaterEqual(tf.max(balancedProbs, 1), opts.threshold), 'float32') as tf.Tensor1D);

      const extra = addOns.lossTerms(view);
      const total = plusLossTerms(tf.addN([lossX, lossXBalanced, tf.mul(tf.add(standard.loss, balanced.loss), opts.lambdaU)]) as tf.Scalar, extra);
      return {
        total,
        terms: {
          lossLabeled: lossX,
          lossLabeledBalanced: lossXBalanced,
          lossUnlabeled: standard.loss,
          lossUnlabeledBalanced: balanced.loss,
          ...extra,
          maskRate: tf.mean(standard.mask) as tf.Scalar,
          acrTau: tf.scalar(s.tau),
        },
        pseudoLabels: {
          sources: { final: standard.final, linear: tf.argMax(raw, 1) as tf.Tensor1D, [ACR_BALANCED_HEAD]: tf.argMax(balancedProbs, 1) as tf.Tensor1D, ...addOns.pseudoLabelSources(view) },
          mask: standard.mask,
        },
      };
    },
    afterStep(pseudoLabels, stepCtx) {
      if (pseudoLabels) addOns.afterStep(pseudoLabels, stepCtx);
      const confident = pendingBalancedConfident?.dataSync() as Float32Array | undefined;
      dropPending();
      const epoch = epochOf(stepCtx.step);
      const balancedLabels = pseudoLabels?.sources[ACR_BALANCED_HEAD];
      if (epoch > opts.acrEstimateAfter && confident && balancedLabels) {
        const histogram = confidentHistogram(balancedLabels, confident, ctx.numClasses, opts.acrHistogram);
        const next = updateEstimate(s.estimate, histogram, opts.acrEmaU, anchors);
        if (next.divergences) {
          s.estimate = next.estimate;
          s.estimateSteps += 1;
          s.summedKl = [s.summedKl[0] + next.divergences[0], s.summedKl[1] + next.divergences[1], s.summedKl[2] + next.divergences[2]];
        }
      }
      // End of an epoch: the next one's τ from this one's divergences (official: at the start of
      // epoch e > est_epoch, from epoch e − 1's sum, then the sum restarts).
      if ((stepCtx.step + 1) % opts.acrEpochSteps === 0) {
        if (epochOf(stepCtx.step + 1) > opts.acrEstimateAfter) {
          const tau = adaptiveTau(s.summedKl, opts.acrEpochSteps, TAU_MIN, opts.acrTauMax);
          if (tau !== null) s.tau = tau;
        }
        s.summedKl = [0, 0, 0];
      }
    },
    priorEstimates: () => ({ ...(s.estimateSteps > 0 ? { acr: [...s.estimate] } : {}), ...addOns.priorEstimates() }),
    state(): AlgorithmState {
      const own = addOns.state();
      return { json: { ...own.json, acr: { ...s, summedKl: [...s.summedKl], estimate: [...s.estimate] } }, arrays: own.arrays };
    },
    restore(state: AlgorithmState) {
      addOns.restore(state);
      const saved = state.json.acr as AcrState | undefined;
      s = saved ? { tau: saved.tau, summedKl: [...saved.summedKl], estimate: [...saved.estimate], estimateSteps: saved.estimateSteps } : fresh();
    },
    dispose() {
      dropPending();
      addOns.dispose();
    },
  };
}

/** The registry entry: `ssl run acr`. */
export const acrMethod = defineLearner({
  name: 'acr',
  kind: 'base',
  summary: 'standard and balanced heads; logit-adjusted consistency whose strength τ follows the estimated unlabeled distribution; the balanced head is reported',
  paper: 'Wei & Gan, CVPR 2023',
  code: 'Gank0078/ACR train.py',
  sections: [fixmatchOptions, acrOptions],
  capabilities: ['pseudo-label-target', 'confidence-threshold', 'unlabeled-sample-weights', 'labeled-sample-weights', 'class-loss-weights', 'weak-strong-views', 'unlabeled-logits-loss'],
  claims: ['unlabeled-logits'],
  unlabeledViews: () => ACR_VIEWS,
  model: () => ({ auxHeads: [{ name: ACR_BALANCED_HEAD, outputs: 'classes' }], reportedHead: ACR_BALANCED_HEAD }),
  create: (values, ctx, addOns) => createAcr(values, ctx, addOns),
});
