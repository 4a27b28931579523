import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { softmaxCrossEntropy } from '../../ops/cross-entropy.js';
import { stopGradient } from '../../ops/stop-gradient.js';
import { option, type SectionValues } from '../../options/option-spec.js';
import { UserError } from '../../errors.js';
import type { Algorithm, AlgorithmState, StepContext, StepLoss, TrainBatch } from '../algorithm.js';
import type { AddOnChain } from '../add-on.js';
import { defineLearner, type RunContext } from '../method.js';
import { fixmatchOptions, type FixMatchOptions } from '../fixmatch.js';
import { emaMix, normalised } from '../class-prior.js';
import { expertAdjustments, expertUnlabeledLoss, groupWeights } from './experts.js';
import { jointForward, stepView } from '../joint-forward.js';
import { plusLossTerms } from '../add-on-delegation.js';

/** The auxiliary heads of experts 2 and 3 (expert 1 is the classifier head). */
export const CPE_EXPERT_HEADS = ['expert-2', 'expert-3'] as const;

/** Each expert's name, as head and as pseudo-label source; expert 1 is the model's classifier head. */
const EXPERT_NAMES = ['expert-1', ...CPE_EXPERT_HEADS] as const;

/**
 * USB's epochs (CPE configs `epoch: 256` over `num_train_iter: 262144`): the estimate of the
 * unlabeled prior runs in epochs > `est_epoch` (0), i.e. after the first 1/256 of any run here.
 */
export const CPE_EPOCHS = 256;

/** CPE options (machengcheng2016/CPE-LTSSL cpe.py `get_argument`, config/classic_cv_imb/fixmatch_cpe/*.yaml). */
export const cpeOptions = {
  cpeTau1: option(z.number().min(0), 0, 'CPE expert 1: labeled loss CE(z + τ·log π_l) with this τ, for a consistent unlabeled set (la_tau_lb1: 0)'),
  cpeTau2: option(z.number().min(0), 2, 'CPE expert 2: τ for a uniform unlabeled set (la_tau_lb2: 2)'),
  cpeTau3: option(z.number().min(0), 4, 'CPE expert 3: τ for a reversed unlabeled set (la_tau_lb3: 4)'),
  cpeReportedExpert: option(z.number().int().min(1).max(3), 2, 'CPE: the expert evaluated and reported, 1-3 (official `evaluate(out_key=\'logits_2\')`: 2)'),
  cpeCut1: option(z.number().int().nonnegative(), 2, 'CPE: first class rank (0 = head) of the medium group, whose pseudo-labels weigh 2 (cut1; CIFAR-10 default 2, CIFAR-100 configs 35)'),
  cpeCut2: option(z.number().int().nonnegative(), 4, 'CPE: first class rank of the tail group, whose pseudo-labels weigh 3 (cut2; CIFAR-10 default 4, CIFAR-100 configs 70)'),
  cpeEmaU: option(z.number().min(0).lt(1), 0.9, 'CPE: EMA factor, per step, of the reported expert\'s confident pseudo-label frequencies, its estimate of the unlabeled prior (ema_u: 0.9)'),
} as const;

export type CpeOptions = Readonly<SectionValues<typeof cpeOptions>> & FixMatchOptions;

/**
 * CPE (Ma et al., AAAI 2024), following machengcheng2016/CPE-LTSSL
 * semilearn/imb_algorithms/cpe/cpe.py `train_step` and `evaluate`:
 * - three experts, linear heads on the shared features of ONE forward over [labeled | weak |
 *   strong]: expert 1 is the classifier head, experts 2 and 3 auxiliary heads (`expert-2`,
 *   `expert-3`);
 * - expert e: labeled loss mean CE(z_e + τ_e·log π_l, y) ({@link expertAdjustments}, τ = 0 / 2 / 4);
 *   its own hard pseudo-labels argmax softmax(z_e,weak), masked at the threshold, train its strong
 *   logits with class-group weights ({@link groupWeights}, {@link expertUnlabeledLoss});
 * - total Σ_e (L_x,e + λ_u·L_u,e); the reported expert (`--cpe-reported-expert`, official 2) is
 *   evaluated, every expert's accuracy is logged (`summary.heads`).
 * - The reported expert's confident pseudo-label frequencies, EMA'd per step (official `u_py2`,
 *   logged there and used nowhere), are its estimate of the unlabeled prior (source `cpe`).
 *
 * Add-ons act on each expert alike: the chain transforms each expert's pseudo-label distribution
 * (one view per expert) and gives its thresholds, weights and strong-logit shift; loss terms and extra sources come
 * from the reported expert's view; `final` and `linear` are the reported expert's, the other two
 * experts' final pseudo-labels are the sources `expert-<e>`. CPE adjusts its labeled logits
 * itself, and its three experts' weak logits cannot share one add-on's running adjustment, so add-ons
 * claiming either point are refused; the labeled-loss slot must stay `ce`.
 *
 * Deviations from machengcheng2016/CPE-LTSSL, each on purpose:
 * - CLASS-WISE BATCH NORM IS OMITTED. The official net (semilearn/nets/wrn/wrn_cbn.py) passes the
 *   final feature map through three BatchNorm2d layers (BNH, BNM, BNT: same statistics, separate
 *   affine γ, β), pools each, and runs every expert's head on all three; an expert's logits are
 *   the mean over the three, and its unlabeled loss trains BNH on every confident sample, BNM on
 *   pseudo-labels ≥ cut₁, BNT on ≥ cut₂. The auxiliary heads here are linear heads on the one
 *   pooled feature, so the three branches coincide: each expert has one logit vector and the
 *   branch terms become the class-group weights 1 / 2 / 3 of {@link groupWeights}, with the
 *   official normalisation. What is lost is the per-group affine (2 × 3 × D parameters).
 * - groups are cut by class rank of labeled frequency; the official code cuts by class index
 *   (the same on splits whose class 0 is the head);
 * - the estimate starts after 1/256 of the run (USB's first epoch); the schedule is the trainer's
 *   (the CIFAR preset sets USB's fixmatch-cosine; USB excludes BN and biases from weight decay).
 */
export function createCpe(opts: CpeOptions, ctx: Pick<RunContext, 'labeledClassCounts' | 'numClasses'>, addOns: AddOnChain): Algorithm {
  const adjustments = expertAdjustments(ctx.labeledClassCounts, [opts.cpeTau1, opts.cpeTau2, opts.cpeTau3]);
  const classWeight = groupWeights(ctx.labeledClassCounts, opts.cpeCut1, opts.cpeCut2);
  const reported = opts.cpeReportedExpert - 1;
  const uniform = (): number[] => new Array<number>(ctx.numClasses).fill(1 / ctx.numClasses);
  let estimate = uniform();
  let estimateSteps = 0;

  return {
    name: ['cpe', ...addOns.names].join('+'),
    usesUnlabeled: true,
    prepare(batch, stepCtx) {
      addOns.prepare(batch, stepCtx);
    },
    loss(batch: TrainBatch, stepCtx: StepContext): StepLoss {
      const logitCtx = { step: stepCtx.step, iterations: stepCtx.iterations };
      const { labeled, weak, strong, logits, features, sizes } = jointForward(stepCtx.model, batch, [batch.strongImages]);
      const [featuresX, featuresWeak, featuresStrong] = [labeled.features, weak.features, strong[0]!.features];
      const expertLogits = [logits, ...CPE_EXPERT_HEADS.map((h) => stepCtx.model.auxLogits(h, features))];
      const labeledWeights = addOns.labeledWeights(batch.labeledLabels, logitCtx);

      const experts = expertLogits.map((all, e) => {
        const [zX, zWeak, zStrong] = tf.split(all, sizes, 0) as tf.Tensor2D[];
        const perLabeled = softmaxCrossEntropy(tf.add(addOns.adjustLabeledLogits(zX!, logitCtx), tf.tensor1d(adjustments[e]!)) as tf.Tensor2D, batch.labeledLabels);
        const lossX = tf.mean(labeledWeights ? tf.mul(perLabeled, labeledWeights) : perLabeled) as tf.Scalar;
        const probs = tf.softmax(stopGradient(addOns.adjustUnlabeledLogits(zWeak!, logitCtx))) as tf.Tensor2D;
        const view = stepView(batch, stepCtx, { probs, featuresWeak: featuresWeak!, featuresStrong: featuresStrong!, logitsStrong: zStrong!, labeledFeatures: featuresX! });
        const target = addOns.transformTarget(probs, view);
        const threshold = addOns.thresholds(target, view, opts.threshold);
        const final = tf.argMax(target, 1) as tf.Tensor1D;
        const mask = tf.cast(tf.greaterEqual(tf.max(target, 1), threshold), 'float32') as tf.Tensor1D;
        const lossU = expertUnlabeledLoss(addOns.adjustStrongLogits(zStrong!, view), final, mask, classWeight, addOns.unlabeledWeights(target, view));
        return { view, probs, final, mask, lossX, lossU };
      });

      const main = experts[reported]!;
      const extra = addOns.lossTerms(main.view);
      const lossLabeled = tf.addN(experts.map((x) => x.lossX)) as tf.Scalar;
      const lossUnlabeled = tf.addN(experts.map((x) => x.lossU)) as tf.Scalar;
      const total = plusLossTerms(tf.add(lossLabeled, tf.mul(lossUnlabeled, opts.lambdaU)) as tf.Scalar, extra);
      const others = Object.fromEntries(experts.flatMap((x, e) => (e === reported ? [] : [[EXPERT_NAMES[e]!, x.final] as const])));
      return {
        total,
        terms: { lossLabeled, lossUnlabeled, ...extra, maskRate: tf.mean(main.mask) as tf.Scalar },
        pseudoLabels: {
          sources: { final: main.final, linear: tf.argMax(main.probs, 1) as tf.Tensor1D, ...others, ...addOns.pseudoLabelSources(main.view) },
          mask: main.mask,
        },
      };
    },
    afterStep(pseudoLabels, stepCtx) {
      if (!pseudoLabels) return;
      addOns.afterStep(pseudoLabels, stepCtx);
      // Official `update_stuff(u_py2, pseudo_label2, mask2)` in epochs > est_epoch = 0.
      if (Math.floor((CPE_EPOCHS * stepCtx.step) / Math.max(1, stepCtx.iterations)) === 0) return;
      const h = new Array<number>(ctx.numClasses).fill(0);
      const labels = pseudoLabels.sources.final!;
      for (let i = 0; i < labels.length; i++) if (pseudoLabels.confident[i]) h[labels[i]!]! += 1;
      if (h.some((v) => v > 0)) {
        estimate = emaMix(estimate, normalised(h), opts.cpeEmaU);
        estimateSteps += 1;
      }
    },
    priorEstimates: () => ({ ...(estimateSteps > 0 ? { cpe: [...estimate] } : {}), ...addOns.priorEstimates() }),
    state(): AlgorithmState {
      const own = addOns.state();
      return { json: { ...own.json, cpe: { estimate: [...estimate], estimateSteps } }, arrays: own.arrays };
    },
    restore(state: AlgorithmState) {
      addOns.restore(state);
      const saved = state.json.cpe as { estimate: number[]; estimateSteps: number } | undefined;
      estimate = saved ? [...saved.estimate] : uniform();
      estimateSteps = saved?.estimateSteps ?? 0;
    },
    dispose: () => addOns.dispose(),
  };
}

/** The registry entry: `ssl run cpe`. */
export const cpeMethod = defineLearner({
  name: 'cpe',
  kind: 'base',
  summary: 'three experts on shared features, logit-adjusted for consistent, uniform and reversed unlabeled sets; expert 2 is reported',
  paper: 'Ma et al., AAAI 2024',
  code: 'machengcheng2016/CPE-LTSSL semilearn/imb_algorithms/cpe/cpe.py (on USB)',
  sections: [fixmatchOptions, cpeOptions],
  capabilities: ['pseudo-label-target', 'confidence-threshold', 'unlabeled-sample-weights', 'labeled-sample-weights', 'class-loss-weights', 'weak-strong-views', 'unlabeled-logits-loss'],
  // The unlabeled-logits point too: an add-on adjusting them keeps one running state per step
  // (DebiasPL's p̂), and CPE has three experts' weak logits to adjust.
  claims: ['labeled-logits', 'unlabeled-logits'],
  model: (values) => ({
    auxHeads: CPE_EXPERT_HEADS.map((name) => ({ name, outputs: 'classes' as const })),
    ...(values.cpeReportedExpert > 1 ? { reportedHead: CPE_EXPERT_HEADS[values.cpeReportedExpert - 2] } : {}),
  }),
  validate: (values, config) => {
    if (config.labeledLoss !== 'ce') {
      throw new UserError('--labeled-loss', `cpe takes no --labeled-loss ${String(config.labeledLoss)}: each expert's labeled loss is its own, CE on z + τ_e·log π_l`, 'Drop --labeled-loss.');
    }
    if (values.cpeCut2 < values.cpeCut1) {
      throw new UserError('--cpe-cut2', `is ${values.cpeCut2}, below --cpe-cut1 ${values.cpeCut1}: the tail group starts after the medium one`, 'Give --cpe-cut2 ≥ --cpe-cut1.');
    }
  },
  create: (values, ctx, addOns) => createCpe(values, ctx, addOns),
});
