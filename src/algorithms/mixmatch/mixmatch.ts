import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { softCrossEntropy } from '../../ops/cross-entropy.js';
import { option, type SectionValues } from '../../options/option-spec.js';
import { UserError } from '../../errors.js';
import { weakViews, type Algorithm, type StepContext, type StepLoss, type TrainBatch } from '../algorithm.js';
import type { AddOnChain, LabeledView, UnlabeledView } from '../add-on.js';
import { defineLearner, type RunContext } from '../method.js';
import { guessLabels } from './sharpen.js';
import { mixWithPartner, mixupDraw } from './mixup.js';
import { unlabeledRampupOptions, generationRampupWeight, type UnlabeledRampupOptions } from '../unlabeled-rampup.js';
import { assertNoSampleWeights, assertNoThresholdsOrStrongLogits } from './unused-points.js';
import { plusLossTerms, addOnLifecycle } from '../add-on-delegation.js';

/**
 * MixMatch options (docs/methods.md §4e): ytaek-oh/daso lib/config/defaults.py ALGORITHM.MIXMATCH
 * with configs/cifar10/mixmatch.yaml over it (α 0.5, λ_u 100). The ramp-up is the shared
 * `--unlabeled-rampup` section (DASO's ALGORITHM.CONS_RAMPUP_*, one key for every learner); the
 * presets set DASO's MixMatch value, linear over 0.016 of the run.
 */
export const mixmatchOptions = {
  mixmatchWeakViews: option(z.number().int().min(1).max(8), 2, 'K, weak views per unlabeled image whose predictions are averaged for the label guess (DASO MIXMATCH.NUM_AUG: 2)'),
  mixmatchTemperature: option(z.number().positive(), 0.5, 'sharpening temperature T of the label guess (DASO MIXMATCH.TEMPERATURE: 0.5)'),
  mixmatchAlpha: option(z.number().positive(), 0.5, 'mixup λ ~ Beta(α, α), then λ\' = max(λ, 1 − λ) (DASO configs/cifar10/mixmatch.yaml MIXUP_ALPHA: 0.5)'),
  mixmatchLambdaU: option(z.number().min(0), 100, 'weight λ_u of the L2 unlabeled loss (DASO UNLABELED_LOSS_WEIGHT: 100, MSELoss)'),
} as const;

export type MixMatchOptions = Readonly<SectionValues<typeof mixmatchOptions>> & UnlabeledRampupOptions;

/** The label guess of one batch, computed in `prepare` outside the gradient tape. */
interface Guess {
  /** Student logits of each weak view, K arrays [B_u · C] row-major. */
  readonly logits: readonly Float32Array[];
  /** Student features of the first weak view [B_u · D] row-major. */
  readonly features: Float32Array;
}

/**
 * MixMatch (Berthelot et al., NeurIPS 2019) as ytaek-oh/daso lib/algorithm/mixmatch.py runs it:
 * 1. label guess (no gradient): the student, in train mode, on each of the K weak views;
 *    p = mean_k softmax(z_k); q = Sharpen(p, T);
 * 2. mixup over the whole batch [labeled | weak_1 | ... | weak_K] with targets
 *    [one-hot(y) | q | ... | q]: λ ~ Beta(α, α), λ' = max(λ, 1 − λ), one random permutation;
 * 3. L_x = mean_i −Σ_k y'_ik log softmax(z'_i)_k over the mixed labeled rows;
 *    L_u = mean over the K·B_u mixed unlabeled rows and the C classes of (softmax(z')_ik − q'_ik)²
 *    (MSELoss, reduction mean); L = L_x + λ_u · r(t) · L_u, r(t) the ramp-up (`--unlabeled-rampup`;
 *    DASO's MixMatch: linear, min(t / (0.016·T), 1)).
 *
 * Deviations, each named: the mixed batch goes through the student in ONE forward (DASO splits it
 * into 64-image chunks and `interleave`s labeled and unlabeled rows between them so that every
 * chunk's BatchNorm statistics are representative; one forward gives BatchNorm the whole mixed
 * batch, which makes interleaving moot). K may be any number ≥ 1 (DASO asserts K = 2). The label
 * guess runs in `prepare`, outside the gradient tape (DASO: `torch.no_grad()`), with one train-mode
 * forward per view as DASO's.
 *
 * Add-ons (`addOns`), in the documented order: `prepare` before the guess (DASO's queue push comes
 * first in mixmatch.py too); `adjustLabeledLogits` on the mixed labeled logits;
 * `adjustUnlabeledLogits` on each view's logits before the softmax; `transformTarget` on the
 * sharpened guess q (DASO mixmatch.py blends after sharpening); `lossTerms`; `pseudoLabelSources`;
 * `afterStep`; `priorEstimates`. Labeled weights, per-sample thresholds and unlabeled weights have
 * nothing to apply to (mixed rows, no mask): the registry refuses the add-ons that require them
 * (capabilities), and the step throws if one forgot to say so.
 * The view an add-on sees: `probs` = p (the averaged prediction before sharpening),
 * `featuresWeak` = the first weak view's features (no gradient), `featuresStrong`/`logitsStrong` =
 * the student's features/logits of the mixed rows whose dominant (λ' ≥ ½) image is the LAST weak
 * view (gradient flows): MixMatch has no strong view, and these are the perturbed views its
 * consistency loss trains. There is no threshold (every guess enters the loss: mask = 1).
 */
export function createMixMatch(opts: MixMatchOptions, ctx: Pick<RunContext, 'seed' | 'numClasses'>, addOns: AddOnChain): Algorithm {
  const guesses = new WeakMap<TrainBatch, Guess>();
  return {
    name: ['mixmatch', ...addOns.names].join('+'),
    usesUnlabeled: true,
    prepare(batch, stepCtx) {
      addOns.prepare(batch, stepCtx);
      const views = weakViews(batch);
      if (views.length !== opts.mixmatchWeakViews) throw new Error(`mixmatch: the batch has ${views.length} weak views, expected K = ${opts.mixmatchWeakViews}`);
      const guess = tf.tidy(() => {
        const out = views.map((v) => stepCtx.model.forward(v, true));
        return { logits: out.map((o) => o.logits.dataSync() as Float32Array), features: out[0].features.dataSync() as Float32Array };
      });
      guesses.set(batch, guess);
    },
    loss(batch: TrainBatch, stepCtx: StepContext): StepLoss {
      const guess = guesses.get(batch);
      if (!guess) throw new Error('mixmatch: loss() on a batch that prepare() did not see');
      guesses.delete(batch);
      const views = weakViews(batch);
      const numLabeled = batch.labeledImages.shape[0];
      const numUnlabeled = batch.weakImages.shape[0];
      const k = views.length;
      const c = ctx.numClasses;
      const logitCtx = { step: stepCtx.step, iterations: stepCtx.iterations };
      const draw = mixupDraw(ctx.seed, stepCtx.step, numLabeled + k * numUnlabeled, opts.mixmatchAlpha);

      const mixedImages = mixWithPartner(tf.concat([batch.labeledImages, ...views], 0) as tf.Tensor4D, draw.partner, draw.lambda);
      const { features, logits } = stepCtx.model.forward(mixedImages, true);
      const logitsX = tf.slice(logits, [0, 0], [numLabeled, c]) as tf.Tensor2D;
      const logitsU = tf.slice(logits, [numLabeled, 0], [k * numUnlabeled, c]) as tf.Tensor2D;
      const last = numLabeled + (k - 1) * numUnlabeled;
      const logitsStrong = tf.slice(logits, [last, 0], [numUnlabeled, c]) as tf.Tensor2D;
      const featuresStrong = tf.slice(features, [last, 0], [numUnlabeled, features.shape[1]]) as tf.Tensor2D;
      const adjustedX = addOns.adjustLabeledLogits(logitsX, logitCtx);

      const viewProbs = guess.logits.map((z) => tf.softmax(addOns.adjustUnlabeledLogits(tf.tensor2d(z, [numUnlabeled, c]), logitCtx)) as tf.Tensor2D);
      const { mean: probs, guess: sharpened } = guessLabels(viewProbs, opts.mixmatchTemperature);
      const view: UnlabeledView = {
        step: stepCtx.step,
        iterations: stepCtx.iterations,
        unlabeledPositions: batch.unlabeledPositions,
        probs,
        featuresWeak: tf.tensor2d(guess.features, [numUnlabeled, guess.features.length / numUnlabeled]),
        featuresStrong,
        logitsStrong,
        // Every labeled row of MixMatch's one forward is mixed: there is no unmixed labeled batch
        // to offer. ABC, which trains on it, requires `weak-strong-views`, which MixMatch lacks.
        get labeled(): LabeledView {
          throw new Error('mixmatch: the step has no unmixed labeled features (every labeled row is mixed); an add-on reading them must require a capability mixmatch lacks (ABC: weak-strong-views)');
        },
        model: stepCtx.model,
      };
      const target = addOns.transformTarget(sharpened, view);
      assertNoThresholdsOrStrongLogits('mixmatch', addOns, target, view);
      assertNoSampleWeights('mixmatch', addOns, { classWeights: false });

      const targets = tf.concat([tf.cast(tf.oneHot(batch.labeledLabels, c), 'float32'), ...new Array<tf.Tensor2D>(k).fill(target)], 0) as tf.Tensor2D;
      const mixedTargets = mixWithPartner(targets, draw.partner, draw.lambda);
      const targetsX = tf.slice(mixedTargets, [0, 0], [numLabeled, c]) as tf.Tensor2D;
      const targetsU = tf.slice(mixedTargets, [numLabeled, 0], [k * numUnlabeled, c]) as tf.Tensor2D;
      const lossX = tf.mean(softCrossEntropy(adjustedX, targetsX)) as tf.Scalar;
      const lossU = tf.mean(tf.squaredDifference(tf.softmax(logitsU), targetsU)) as tf.Scalar;
      const rampup = generationRampupWeight(stepCtx.step, stepCtx.iterations, addOns.generation(), opts);

      const extra = addOns.lossTerms(view);
      const total = plusLossTerms(tf.add(lossX, tf.mul(lossU, opts.mixmatchLambdaU * rampup)) as tf.Scalar, extra);
      return {
        total,
        terms: { lossLabeled: lossX, lossUnlabeled: lossU, ...extra, unlabeledRampup: tf.scalar(rampup), mixupLambda: tf.scalar(draw.lambda) },
        pseudoLabels: {
          sources: { final: tf.argMax(target, 1) as tf.Tensor1D, linear: tf.argMax(probs, 1) as tf.Tensor1D, ...addOns.pseudoLabelSources(view) },
          mask: tf.ones([numUnlabeled]) as tf.Tensor1D,
        },
      };
    },
    ...addOnLifecycle(addOns),
  };
}

/** The registry entry of MixMatch. */
export const mixmatchMethod = defineLearner({
  name: 'mixmatch',
  kind: 'base',
  summary: 'sharpened average of K weak views as soft targets, mixup over labeled and unlabeled, L2 consistency',
  paper: 'Berthelot et al., NeurIPS 2019',
  code: 'ytaek-oh/daso lib/algorithm/mixmatch.py',
  sections: [mixmatchOptions, unlabeledRampupOptions],
  // A pseudo-label target add-ons may transform (DASO blends the sharpened guess, mixmatch.py
  // APPLY_DASO); no confidence mask, no per-sample unlabeled or labeled loss, no unmixed labeled batch.
  capabilities: ['pseudo-label-target'],
  unlabeledViews: (values) => ({ weak: values.mixmatchWeakViews, strong: 0 }),
  validate: (_values, config) => {
    if (config.labeledLoss !== 'ce') {
      throw new UserError('--loss', `mixmatch trains the labeled rows on mixed soft labels with cross-entropy, and this run has --loss ${String(config.labeledLoss)}`, 'Drop --loss (mixmatch uses ce).');
    }
  },
  create: (values, ctx, addOns) => createMixMatch(values, ctx, addOns),
});
