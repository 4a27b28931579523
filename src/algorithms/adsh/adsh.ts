import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { option, type SectionValues } from '../../options/option-spec.js';
import type { AddOn } from '../add-on.js';
import type { AlgorithmState, StepContext, TrainBatch } from '../algorithm.js';
import { defineAddOn } from '../method.js';
import { adaptiveThresholds } from './adaptive-thresholds.js';

/**
 * Adsh options (guolz-ml/Class-Imbalanced-SSL `train.py`; USB `adsh_tau_1`). This file is the
 * only home of their defaults.
 */
export const adshOptions = {
  adshTau1: option(z.number().gt(0).lte(1), 0.95, 'τ_1, the head class\'s confidence threshold; the other classes follow its rank (Adsh --threshold 0.95; USB adsh_tau_1 0.95)'),
  adshUpdateEvery: option(z.number().int().positive(), 512, 'steps between threshold updates, one scoring pass over the unlabeled set each (Adsh: once per epoch, --eval_steps 512)'),
  adshStart: option(z.number().int().nonnegative(), 1024, 'step of the first threshold update; τ_1 for every class before it (Adsh: before the third epoch, `epoch > 1`, = 2 × 512 steps)'),
} as const;

export type AdshOptions = Readonly<SectionValues<typeof adshOptions>>;

/** What Adsh needs to know about the run besides its options. */
export interface AdshContext {
  readonly numClasses: number;
  /** n_c of the labeled split [C]: the head class is the most frequent one. */
  readonly labeledClassCounts: readonly number[];
  /** Size of the unlabeled split: one stored confidence per image. */
  readonly numUnlabeled: number;
}

/**
 * Adsh (Guo & Li, ICML 2022), adaptive thresholding, as an add-on, following the official
 * guolz-ml/Class-Imbalanced-SSL `train.py` (`update_s`) and `algorithms/fixmatch.py` (`ADSH`):
 * - per-class thresholds s_k, all τ_1 until `adshStart`, then updated every `adshUpdateEvery`
 *   steps from one scoring pass over the unlabeled set ({@link adaptiveThresholds}: the head keeps
 *   τ_1, every other class takes the confidence at the rank where the head class crosses τ_1);
 * - the pseudo-label is argmax_k p_k / s_k and it is kept when max_k p_k / s_k ≥ 1 (`ADSH.forward`):
 *   `transformTarget` gives r / Σr with r = p / s, and `thresholds` gives Σ_k s_k t_k per sample,
 *   which is exactly 1 / Σr for that target, so the learner's max t ≥ threshold is max r ≥ 1.
 *   (USB's port keeps argmax p and thresholds it at exp(−s), and updates the head class too.)
 *
 * The scoring pass: the official `update_s` runs the student in eval mode over the unlabeled
 * training loader, i.e. over WEAK views (that loader yields (weak, strong) pairs), once before the
 * epoch. An add-on cannot reach the unlabeled split's images, so `prepare` scores the weak views of
 * the batches of the last ⌈N_u / B_u⌉ steps before each update (one pass of the epoch sampler,
 * which visits every image once): the same student, in eval mode, on weak views, keyed by
 * `unlabeledPositions`, the latest score of an image counting. The difference from the official
 * pass is only that the pass is spread over those steps, so the student moves a little within it.
 *
 * The head class is the most frequent labeled class (the official code takes class 0, the head
 * of its sorted long-tailed splits).
 */
export function createAdsh(opts: AdshOptions, ctx: AdshContext): AddOn {
  const C = ctx.numClasses;
  const head = ctx.labeledClassCounts.reduce((best, n, k, all) => (n > all[best]! ? k : best), 0);
  let thresholds: Float32Array = new Float32Array(C).fill(opts.adshTau1);
  let confidences = new Float32Array(ctx.numUnlabeled);
  // −1: not scored in the current pass.
  let predictions = new Int32Array(ctx.numUnlabeled).fill(-1);

  const isUpdate = (step: number): boolean => step >= opts.adshStart && (step - opts.adshStart) % opts.adshUpdateEvery === 0;
  const nextUpdateAfter = (step: number): number =>
    step < opts.adshStart ? opts.adshStart : opts.adshStart + (Math.floor((step - opts.adshStart) / opts.adshUpdateEvery) + 1) * opts.adshUpdateEvery;

  const update = (): void => {
    if (!predictions.some((k) => k >= 0)) return;
    thresholds = adaptiveThresholds(confidences, predictions, thresholds, opts.adshTau1, head);
    predictions.fill(-1);
  };

  const score = (batch: TrainBatch, stepCtx: StepContext): void => {
    const { conf, pred } = tf.tidy(() => {
      const probs = tf.softmax(stepCtx.model.forward(batch.weakImages, false).logits);
      return { conf: tf.max(probs, 1).dataSync() as Float32Array, pred: tf.argMax(probs, 1).dataSync() as Int32Array };
    });
    const positions = batch.unlabeledPositions;
    for (let i = 0; i < positions.length; i++) {
      confidences[positions[i]!] = conf[i]!;
      predictions[positions[i]!] = pred[i]!;
    }
  };

  return {
    name: 'adsh',
    prepare(batch: TrainBatch, stepCtx: StepContext) {
      const step = stepCtx.step;
      if (isUpdate(step)) update();
      const batchSize = batch.weakImages.shape[0];
      if (batchSize === 0) return;
      const next = nextUpdateAfter(step);
      const passSteps = Math.ceil(ctx.numUnlabeled / batchSize);
      if (next < stepCtx.iterations && next - step <= passSteps) score(batch, stepCtx);
    },
    transformTarget(target) {
      return tf.tidy(() => {
        const r = tf.div(target, tf.tensor1d(thresholds));
        return tf.div(r, tf.sum(r, 1, true)) as tf.Tensor2D;
      });
    },
    thresholds(target) {
      return tf.tidy(() => tf.sum(tf.mul(target, tf.tensor1d(thresholds)), 1) as tf.Tensor1D);
    },
    state(): AlgorithmState {
      return { json: { head }, arrays: { thresholds, confidences, predictions } };
    },
    restore(state: AlgorithmState) {
      const a = state.arrays;
      if (a.thresholds?.length !== C || a.confidences?.length !== ctx.numUnlabeled || a.predictions?.length !== ctx.numUnlabeled) {
        throw new Error('adsh: checkpoint state does not match this run (unlabeled split size or classes)');
      }
      thresholds = Float32Array.from(a.thresholds);
      confidences = Float32Array.from(a.confidences);
      predictions = Int32Array.from(a.predictions);
    },
  };
}

/** The registry entry of Adsh: `ssl run adsh` is FixMatch + Adsh. */
export const adshMethod = defineAddOn({
  name: 'adsh',
  kind: 'add-on',
  summary: 'per-class confidence thresholds that follow the head class\'s rank in each class\'s sorted confidences',
  paper: 'Guo & Li, ICML 2022',
  code: 'guolz-ml/Class-Imbalanced-SSL train.py (update_s), algorithms/fixmatch.py (ADSH)',
  pairedWith: 'the Adsh paper and its code run it on FixMatch only, and USB asserts "Adsh only supports FixMatch as the base algorithm"',
  defaultBase: 'fixmatch',
  claims: ['threshold'],
  requires: ['pseudo-label-target', 'confidence-threshold'],
  sections: [adshOptions],
  chartMarkers: (values) => [{ step: values.adshStart, label: 'Adsh thresholds start' }],
  create: (values, ctx) => createAdsh(values, { numClasses: ctx.numClasses, labeledClassCounts: ctx.labeledClassCounts, numUnlabeled: ctx.numUnlabeled }),
});
