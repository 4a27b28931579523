import * as tf from '@tensorflow/tfjs-core';
import { classWeightedSoftCrossEntropy, softCrossEntropy, softmaxCrossEntropy } from '../../ops/cross-entropy.js';
import { stopGradient } from '../../ops/stop-gradient.js';
import { UserError } from '../../errors.js';
import { strongViews, type Algorithm, type AlgorithmState, type StepContext, type StepLoss, type TrainBatch } from '../algorithm.js';
import type { AddOnChain, UnlabeledView } from '../add-on.js';
import { defineLearner, type RunContext } from '../method.js';
import { sharpen } from '../mixmatch/sharpen.js';
import { mixWithPartner, mixupDraw } from '../mixmatch/mixup.js';
import { unlabeledRampupOptions, generationRampupWeight } from '../unlabeled-rampup.js';
import { assertNoSampleWeights, assertNoThresholdsOrStrongLogits } from '../mixmatch/unused-points.js';
import { PredictionQueue, alignDistribution, alignmentTarget } from './distribution-alignment.js';
import { rotateQuarterTurns, rotationDraw } from './rotation.js';
import { remixmatchOptions, resolveDistAlign, type ReMixMatchOptions } from './options.js';
import { plusLossTerms } from '../add-on-delegation.js';

/** The auxiliary head ReMixMatch adds for its rotation self-supervision (4 outputs, never evaluated). */
export const ROTATION_HEAD = 'rotation';

/**
 * ReMixMatch (Berthelot et al., ICLR 2020) as ytaek-oh/daso lib/algorithm/remixmatch.py runs it,
 * with the forward layout of rm_daso.py (DASO's ReMixMatch variant):
 * 1. the student on [labeled | weak | strong_1] in one train-mode forward (rm_daso.py
 *    `encoder(cat([ul_weak, ul_strong1]))`, plus the labeled batch, see below); p = softmax(z_weak)
 *    without gradient;
 * 2. distribution alignment (when on): p̃ = normalise(p · (π + ε) / (p̄ + ε)), π the labeled class
 *    distribution (DASO's `p_data`), p̄ the mean prediction of the last 128 batches, this one
 *    included (lib/models/dist_align.py); then q = Sharpen(p̃, T);
 * 3. augmentation anchoring: the guess q is the target of the weak view and of all K strong views;
 *    mixup over [labeled | weak | strong_1..K] with [one-hot(y) | q × (1 + K)], λ ~ Beta(α, α),
 *    λ' = max(λ, 1 − λ), one permutation of all rows, through the student in one forward;
 * 4. L_x = mean soft CE on the mixed labeled rows; L_u = mean soft CE on the (1 + K)·B_u mixed
 *    unlabeled rows; the pre-mixup loss L_kl = mean_i −Σ_k q_ik log softmax(z_strong_1)_ik;
 * 5. rotation: each strong_1 image turned by r_i ~ U{0..3} quarter turns (torch.rot90), through the
 *    student, its features into a 4-way linear head (`aux.rotation.*`, lib/models/heads/
 *    rotation_head.py); L_rot = mean_i CE(z^rot_i, r_i);
 * 6. L = L_x + r(t)·(λ_u·L_u + λ_kl·L_kl) + λ_rot·L_rot, r(t) the ramp-up (`--unlabeled-rampup`).
 *
 * Strong augmentation: RandAugment (2 ops, FixMatch's pool, each with probability ½) then
 * Cutout, as DASO's repository uses for ReMixMatch (lib/dataset/transform/build.py: one weak
 * view plus NUM_AUG `RandAugment(2, 10, prob=0.5, aug_pool="FixMatch", apply_cutout=True)`
 * views), not the paper's CTAugment.
 *
 * Deviations, each named: the mixed batch goes through the student in ONE forward (DASO: 64-image
 * chunks with `interleave`, which only matters for per-chunk BatchNorm statistics); the guess and
 * the pre-mixup logits come from one forward as in rm_daso.py, also without DASO (remixmatch.py
 * runs the weak and the strong_1 view through separate forwards); that forward also carries the
 * unmixed labeled batch, as FixMatch's does, so that add-ons get its features (ABC's balanced head
 * trains on them), and its BatchNorm statistics include the labeled images.
 *
 * With CReST (`--with crest`): the ramp-up restarts at each generation (rm_crest.py
 * `cons_rampup_func`), and CReST+'s progressive temperature tempers this alignment's target
 * instead of a second alignment (rm_crest.py `dist_align(p, temperature=da_t)`).
 *
 * Add-ons (`addOns`), in the documented order: `prepare`; `adjustLabeledLogits` on the mixed
 * labeled logits; `adjustUnlabeledLogits` on the weak logits before the softmax; `transformTarget`
 * on q, after alignment and sharpening (rm_daso.py blends DASO's semantic pseudo-label there); the
 * transformed target then feeds mixup and L_kl; `lossTerms`; `pseudoLabelSources`; `afterStep`;
 * `priorEstimates`, beside ReMixMatch's own p̄ (`remixmatch`). The view an add-on sees: `probs` =
 * p (the prediction before alignment), `featuresWeak` = the weak view's features,
 * `featuresStrong`/`logitsStrong` = the first strong view's (the pre-mixup view; gradient flows),
 * `labeled` = the unmixed labeled batch of the first forward. There is no threshold (every guess
 * enters the loss: mask = 1); class weights (`labeledClassWeights`, `unlabeledClassWeights`: SAW)
 * weight the classes inside the mixed soft targets of L_x and L_u (not L_kl, as SAW_SSL's `Le`);
 * per-sample weights and thresholds are refused by the registry (capabilities) and thrown here if
 * an add-on forgot to require them.
 */
export function createReMixMatch(opts: ReMixMatchOptions, ctx: Pick<RunContext, 'seed' | 'numClasses' | 'labeledClassCounts'>, addOns: AddOnChain): Algorithm {
  const c = ctx.numClasses;
  const aligns = opts.remixmatchDistAlign === 'on';
  const target = alignmentTarget(ctx.labeledClassCounts, opts.remixmatchDistAlignTemperature);
  // p̄ is kept with alignment off too: it is ReMixMatch's estimate of the unlabeled class distribution.
  const queue = new PredictionQueue(c, opts.remixmatchDistAlignWindow);
  // This step's batch mean of p, pushed into the queue once the step has completed.
  let pending: Float32Array | null = null;

  return {
    name: ['remixmatch', ...addOns.names].join('+'),
    usesUnlabeled: true,
    prepare(batch, stepCtx) {
      addOns.prepare(batch, stepCtx);
    },
    loss(batch: TrainBatch, stepCtx: StepContext): StepLoss {
      const strongs = strongViews(batch);
      if (strongs.length !== opts.remixmatchStrongViews) throw new Error(`remixmatch: the batch has ${strongs.length} strong views, expected K = ${opts.remixmatchStrongViews}`);
      const numLabeled = batch.labeledImages.shape[0];
      const numUnlabeled = batch.weakImages.shape[0];
      const k = strongs.length;
      const logitCtx = { step: stepCtx.step, iterations: stepCtx.iterations };

      const first = stepCtx.model.forward(tf.concat([batch.labeledImages, batch.weakImages, strongs[0]], 0) as tf.Tensor4D, true);
      const [, logitsWeak, logitsStrong] = tf.split(first.logits, [numLabeled, numUnlabeled, numUnlabeled], 0) as tf.Tensor2D[];
      const [featuresX, featuresWeak, featuresStrong] = tf.split(first.features, [numLabeled, numUnlabeled, numUnlabeled], 0) as tf.Tensor2D[];

      const draw = mixupDraw(ctx.seed, stepCtx.step, numLabeled + (1 + k) * numUnlabeled, opts.remixmatchAlpha);
      const mixedImages = mixWithPartner(tf.concat([batch.labeledImages, batch.weakImages, ...strongs], 0) as tf.Tensor4D, draw.partner, draw.lambda);
      const mixed = stepCtx.model.forward(mixedImages, true);
      const logitsX = tf.slice(mixed.logits, [0, 0], [numLabeled, c]) as tf.Tensor2D;
      const logitsU = tf.slice(mixed.logits, [numLabeled, 0], [(1 + k) * numUnlabeled, c]) as tf.Tensor2D;
      const adjustedX = addOns.adjustLabeledLogits(logitsX, logitCtx);

      const probs = stopGradient(tf.softmax(addOns.adjustUnlabeledLogits(logitsWeak, logitCtx))) as tf.Tensor2D;
      const batchMean = tf.mean(probs, 0).dataSync() as Float32Array;
      pending = batchMean;
      // An add-on that aligns (CReST+) hands its temperature to this alignment instead of
      // aligning the sharpened guess again (rm_crest.py); with alignment off nothing aligns.
      const handed = addOns.aligns ? addOns.alignmentTemperature() : null;
      const alignTo = handed === null ? target : alignmentTarget(ctx.labeledClassCounts, handed);
      const aligned = aligns ? alignDistribution(probs, queue.meanWith(batchMean), alignTo) : probs;
      const sharpened = sharpen(aligned, opts.remixmatchTemperature);
      const view: UnlabeledView = {
        step: stepCtx.step,
        iterations: stepCtx.iterations,
        unlabeledPositions: batch.unlabeledPositions,
        probs,
        featuresWeak,
        featuresStrong,
        logitsStrong,
        labeled: { features: featuresX!, labels: batch.labeledLabels },
        model: stepCtx.model,
        alignedByLearner: addOns.aligns,
      };
      const guess = addOns.transformTarget(sharpened, view);
      assertNoThresholdsOrStrongLogits('remixmatch', addOns, guess, view);
      assertNoSampleWeights('remixmatch', addOns, { classWeights: true });

      const targets = tf.concat([tf.cast(tf.oneHot(batch.labeledLabels, c), 'float32'), ...new Array<tf.Tensor2D>(1 + k).fill(guess)], 0) as tf.Tensor2D;
      const mixedTargets = mixWithPartner(targets, draw.partner, draw.lambda);
      const targetsX = tf.slice(mixedTargets, [0, 0], [numLabeled, c]) as tf.Tensor2D;
      const targetsU = tf.slice(mixedTargets, [numLabeled, 0], [(1 + k) * numUnlabeled, c]) as tf.Tensor2D;
      const lossX = tf.mean(classWeightedSoftCrossEntropy(adjustedX, targetsX, addOns.labeledClassWeights(logitCtx))) as tf.Scalar;
      const lossU = tf.mean(classWeightedSoftCrossEntropy(logitsU, targetsU, addOns.unlabeledClassWeights(view))) as tf.Scalar;
      const lossKl = tf.mean(softCrossEntropy(logitsStrong, guess)) as tf.Scalar;

      const turns = rotationDraw(ctx.seed, stepCtx.step, numUnlabeled);
      const rotated = stepCtx.model.forward(rotateQuarterTurns(strongs[0], turns), true);
      const lossRotation = tf.mean(softmaxCrossEntropy(stepCtx.model.auxLogits(ROTATION_HEAD, rotated.features), tf.tensor1d(turns, 'int32'))) as tf.Scalar;
      const rampup = generationRampupWeight(stepCtx.step, stepCtx.iterations, addOns.generation(), opts);

      const extra = addOns.lossTerms(view);
      const total = plusLossTerms(tf.addN([
        lossX,
        tf.mul(lossU, opts.remixmatchLambdaU * rampup),
        tf.mul(lossKl, opts.remixmatchKlWeight * rampup),
        tf.mul(lossRotation, opts.remixmatchRotationWeight),
      ]) as tf.Scalar, extra);
      return {
        total,
        terms: { lossLabeled: lossX, lossUnlabeled: lossU, lossKl, lossRotation, ...extra, unlabeledRampup: tf.scalar(rampup), mixupLambda: tf.scalar(draw.lambda) },
        pseudoLabels: {
          sources: { final: tf.argMax(guess, 1) as tf.Tensor1D, linear: tf.argMax(sharpened, 1) as tf.Tensor1D, ...addOns.pseudoLabelSources(view) },
          mask: tf.ones([numUnlabeled]) as tf.Tensor1D,
        },
      };
    },
    afterStep(pseudoLabels, stepCtx) {
      if (pending) queue.push(pending);
      pending = null;
      if (pseudoLabels) addOns.afterStep(pseudoLabels, stepCtx);
    },
    priorEstimates(): Record<string, readonly number[]> {
      return { ...(queue.size > 0 ? { remixmatch: meanOfQueue(queue) } : {}), ...addOns.priorEstimates() };
    },
    state(): AlgorithmState {
      const own = queue.state();
      const chain = addOns.state();
      return {
        json: { ...chain.json, remixmatch: { distAlignWindow: opts.remixmatchDistAlignWindow } },
        arrays: { ...chain.arrays, 'remixmatch/alignBank': own.bank, 'remixmatch/alignPosition': own.position },
      };
    },
    restore(state: AlgorithmState) {
      const bank = state.arrays['remixmatch/alignBank'];
      const position = state.arrays['remixmatch/alignPosition'];
      if (!(bank instanceof Float32Array) || !(position instanceof Int32Array)) throw new Error('remixmatch: the checkpoint holds no distribution-alignment queue');
      queue.restore({ bank, position });
      addOns.restore(state);
    },
    dispose: () => addOns.dispose(),
  };
}

/** p̄ over the stored batches alone (the estimate logged at an evaluation), normalised to sum 1. */
function meanOfQueue(queue: PredictionQueue): number[] {
  const mean = Array.from(queue.meanOfStored());
  const total = mean.reduce((a, b) => a + b, 0);
  return mean.map((v) => v / total);
}

/** The registry entry of ReMixMatch. */
export const remixmatchMethod = defineLearner({
  name: 'remixmatch',
  kind: 'base',
  summary: 'distribution-aligned, sharpened weak-view guess anchors K strong views; mixup, pre-mixup and rotation losses',
  paper: 'Berthelot et al., ICLR 2020',
  code: 'ytaek-oh/daso lib/algorithm/remixmatch.py (forward layout of rm_daso.py)',
  sections: [remixmatchOptions, unlabeledRampupOptions],
  // A pseudo-label target add-ons may transform (rm_daso.py blends after alignment and sharpening),
  // the student's weak and strong views (with the unmixed labeled batch: ABC) and class weights
  // inside the mixed soft targets (SAW); no confidence mask, no per-sample loss to weight, no
  // plain CE on the strong logits to shift.
  capabilities: ['pseudo-label-target', 'weak-strong-views', 'class-loss-weights'],
  model: () => ({ auxHeads: [{ name: ROTATION_HEAD, outputs: 4 }] }),
  unlabeledViews: (values) => ({ weak: 1, strong: values.remixmatchStrongViews }),
  resolve: (values, data) => ({ ...values, remixmatchDistAlign: resolveDistAlign(values.remixmatchDistAlign, data.gammaL, data.gammaU) }),
  validate: (values, config) => {
    if (config.labeledLoss !== 'ce') {
      throw new UserError('--loss', `remixmatch trains the labeled rows on mixed soft labels with cross-entropy, and this run has --loss ${String(config.labeledLoss)}`, 'Drop --loss (remixmatch uses ce).');
    }
    // CReST+ aligns through ReMixMatch's own alignment (rm_crest.py): with that off it would
    // silently be plain CReST.
    const withAddOns = Array.isArray(config.with) ? (config.with as readonly unknown[]) : [];
    if (withAddOns.includes('crest') && config.crestAlign !== 'off' && resolveDistAlign(values.remixmatchDistAlign, Number(config.gammaL), Number(config.gammaU)) === 'off') {
      throw new UserError(
        '--crest-align',
        `is ${String(config.crestAlign)}, and on remixmatch CReST+ aligns through ReMixMatch's distribution alignment (DASO rm_crest.py aligns once, ReMixMatch's alignment at CReST+'s temperature), which is off here (--remixmatch-dist-align ${values.remixmatchDistAlign}${values.remixmatchDistAlign === 'auto' ? `: γ_l ${String(config.gammaL)} ≠ γ_u ${String(config.gammaU)}` : ''})`,
        'Pass --remixmatch-dist-align on for CReST+, or --crest-align off for plain CReST.',
      );
    }
  },
  create: (values, ctx, addOns) => {
    const align = values.remixmatchDistAlign;
    if (align === 'auto') throw new Error("remixmatch: remixmatchDistAlign is still 'auto'; the run's resolve step fills it from the data");
    return createReMixMatch({ ...values, remixmatchDistAlign: align }, ctx, addOns);
  },
});
