import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { option, type SectionValues } from '../../options/option-spec.js';
import type { AddOn } from '../add-on.js';
import type { AlgorithmState, StepContext, StepPseudoLabels, TrainBatch } from '../algorithm.js';
import { defineAddOn } from '../method.js';
import { smoothedClassWeights } from './class-weights.js';

/**
 * SAW options (ZJUJeffLai/SAW_SSL `train_example.sh`, `imbOptim/classWeights.py`; USB
 * `semilearn/imb_algorithms/saw/utils.py`). This file is the only home of their defaults.
 */
export const sawOptions = {
  sawBeta: option(
    z.union([z.number().gt(0).lt(1), z.literal('auto')]),
    0.99,
    'effective-number β of the smoothed class weights (1 − β)/(1 − β^n_c), labeled and unlabeled (SAW_SSL train_example.sh: --effective 0.99; auto = (N − 1)/N with N the mean class count, USB)',
    '<beta|auto>',
  ),
  sawUpdateEvery: option(
    z.number().int().positive(),
    500,
    'steps between updates of the unlabeled class weights from the pseudo-label distribution (SAW_SSL: once per epoch, --val-iteration 500)',
  ),
} as const;

export type SawOptions = Readonly<SectionValues<typeof sawOptions>>;

/** What SAW needs to know about the run besides its options. */
export interface SawContext {
  readonly numClasses: number;
  /** n_c of the labeled split [C]: the labeled weights. */
  readonly labeledClassCounts: readonly number[];
  /** Size of the unlabeled split: one stored pseudo-label per image. */
  readonly numUnlabeled: number;
}

/**
 * SAW, Smoothed Adaptive Weighting (Lai et al., ICML 2022), as an add-on, following the official
 * ZJUJeffLai/SAW_SSL `train_fix_cifar10.py` with `train_example.sh` (`--effective 0.99 --distbl
 * gt_l --distbu pseudo --normalize 1`) and USB `semilearn/imb_algorithms/saw/`:
 * - labeled loss weighted by w^l = smoothed weights of the labeled counts, fixed
 *   (`labeledClassWeights`): mean_i w^l_{y_i}·CE_i on a learner that weights samples (its
 *   `labeledTerm` takes it instead of the slot's loss), mean_i −Σ_c w^l_c·t_ic·log p_ic on
 *   ReMixMatch's mixed soft labels t (SAW_SSL train_remix_cifar10.py `SemiLoss`);
 * - unlabeled loss weighted by w^u (`unlabeledClassWeights`): of each row's final pseudo-label on a
 *   per-sample learner, inside the soft cross-entropy of the mixed rows on ReMixMatch (its
 *   pre-mixup term unweighted, as the official `Le`); w^u = 1 until the first update;
 * - every `sawUpdateEvery` steps (the official epoch), w^u = smoothed weights of the histogram of
 *   every unlabeled image's latest weak-view argmax (the official `pseudo_orig`: each step
 *   overwrites the prediction of the images it saw, and the histogram counts them all). We read
 *   the base learner's `linear` pseudo-label (argmax of its weak-view distribution, before any
 *   add-on's target transform, as `pseudo_orig` is before DARP; on ReMixMatch after its own
 *   alignment and sharpening, as train_remix's `pseudo_orig`).
 * The histogram, normalised, is the run's estimate of the unlabeled distribution (`priorEstimate`).
 *
 * Deviations: images not seen yet are left out of the histogram (the official code starts every
 * stored prediction uniform, and torch's argmax counts those as class 0); USB instead scores the
 * EMA model on un-augmented images after each epoch and uses β = (N − 1)/N (`--saw-beta auto`),
 * and on ReMixMatch takes each mixed row's weight at its target's argmax (semilearn saw/utils.py,
 * which also hardens the unlabeled targets); we weight inside the soft targets, as SAW_SSL does.
 */
export function createSaw(opts: SawOptions, ctx: SawContext): AddOn {
  const C = ctx.numClasses;
  if (ctx.labeledClassCounts.length !== C) throw new Error(`saw: ${ctx.labeledClassCounts.length} labeled class counts for ${C} classes`);
  const labeledWeights = Float32Array.from(smoothedClassWeights(ctx.labeledClassCounts, opts.sawBeta));
  let unlabeledWeights = new Float32Array(C).fill(1);
  // −1: not seen yet.
  let latest = new Int32Array(ctx.numUnlabeled).fill(-1);
  let estimate: Float32Array | null = null;
  // The positions of this step's batch, from `prepare` to `afterStep` of the same step.
  let positions: Int32Array | null = null;

  const update = (): void => {
    const counts = new Array<number>(C).fill(0);
    for (const k of latest) if (k >= 0) counts[k]! += 1;
    const seen = counts.reduce((a, b) => a + b, 0);
    if (seen === 0) return;
    unlabeledWeights = Float32Array.from(smoothedClassWeights(counts, opts.sawBeta));
    estimate = Float32Array.from(counts, (n) => n / seen);
  };

  return {
    name: 'saw',
    prepare(batch: TrainBatch) {
      positions = batch.unlabeledPositions;
    },
    labeledClassWeights: () => tf.tensor1d(labeledWeights),
    unlabeledClassWeights: () => tf.tensor1d(unlabeledWeights),
    afterStep(pseudoLabels: StepPseudoLabels, stepCtx: StepContext) {
      const linear = pseudoLabels.sources.linear;
      if (!linear || !positions) throw new Error('saw: afterStep needs the step\'s linear pseudo-labels and the positions prepare saw');
      if (linear.length !== positions.length) throw new Error(`saw: ${linear.length} pseudo-labels for ${positions.length} unlabeled positions`);
      for (let i = 0; i < positions.length; i++) latest[positions[i]!] = linear[i]!;
      positions = null;
      if ((stepCtx.step + 1) % opts.sawUpdateEvery === 0) update();
    },
    priorEstimate: () => (estimate ? Array.from(estimate) : null),
    state(): AlgorithmState {
      return {
        json: { hasEstimate: estimate !== null },
        arrays: { latest, unlabeledWeights, estimate: estimate ?? new Float32Array(C) },
      };
    },
    restore(state: AlgorithmState) {
      const a = state.arrays;
      if (a.latest?.length !== ctx.numUnlabeled || a.unlabeledWeights?.length !== C) throw new Error('saw: checkpoint state does not match this run (unlabeled split size or classes)');
      latest = Int32Array.from(a.latest);
      unlabeledWeights = Float32Array.from(a.unlabeledWeights);
      estimate = state.json.hasEstimate === true && a.estimate ? Float32Array.from(a.estimate) : null;
    },
  };
}

/** The registry entry of SAW: `ssl run saw` is FixMatch + SAW. */
export const sawMethod = defineAddOn({
  name: 'saw',
  kind: 'add-on',
  summary: 'smoothed class weights on the labeled loss (labeled counts) and the unlabeled loss (pseudo-label distribution)',
  paper: 'Lai et al., ICML 2022',
  code: 'ZJUJeffLai/SAW_SSL train_fix_cifar10.py, train_remix_cifar10.py, imbOptim/classWeights.py; USB semilearn/imb_algorithms/saw',
  pairedWith: 'SAW_SSL pairs it with FixMatch and ReMixMatch: train_fix_cifar10.py, train_remix_cifar10.py',
  defaultBase: 'fixmatch',
  claims: ['labeled-weights'],
  requires: ['class-loss-weights'],
  sections: [sawOptions],
  validate: (_values, config) => {
    if (config.labeledLoss !== 'ce') {
      throw new UserError(
        '--loss',
        `saw weights the labeled cross-entropy per class (mean_i w_{y_i}·CE_i), which replaces the labeled-loss slot, so --loss ${String(config.labeledLoss)} would never be applied`,
        'Drop --loss (saw needs ce), or drop --with saw.',
      );
    }
    if (config.drw === true) {
      throw new UserError('--drw', 'saw\'s class weights replace the labeled-loss slot, so deferred re-weighting would never be applied', 'Drop --drw, or drop --with saw.');
    }
  },
  create: (values, ctx) => createSaw(values, { numClasses: ctx.numClasses, labeledClassCounts: ctx.labeledClassCounts, numUnlabeled: ctx.numUnlabeled }),
});
