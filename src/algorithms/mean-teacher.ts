import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { stopGradient } from '../ops/stop-gradient.js';
import { option, type SectionValues } from '../options/option-spec.js';
import { weakViews, type Algorithm, type StepContext, type StepLoss, type TrainBatch } from './algorithm.js';
import type { AddOnChain } from './add-on.js';
import { labeledTerm } from './labeled-term.js';
import { defineLearner, type RunContext } from './method.js';
import { unlabeledRampupOptions, unlabeledRampupWeight, type UnlabeledRampupOptions } from './unlabeled-rampup.js';
import { stepView } from './joint-forward.js';
import { plusLossTerms, addOnLifecycle } from './add-on-delegation.js';

/** MeanTeacher options (docs/methods.md §4c; ytaek-oh/daso configs/cifar10/meanteacher.yaml). */
export const meanTeacherOptions = {
  consistencyWeight: option(
    z.number().min(0),
    50,
    'weight of the student-teacher consistency (MSE of softmaxes, mean over samples and classes), before ramp-up (DASO meanteacher.yaml UNLABELED_LOSS_WEIGHT: 50)',
  ),
} as const;

/** What `createMeanTeacher` reads: the consistency weight and the ramp-up. */
export type MeanTeacherOptions = Readonly<SectionValues<typeof meanTeacherOptions>> & UnlabeledRampupOptions;

/**
 * Mean Teacher's consistency: Σ_i w_i · Σ_c (softmax(z_i)_c − t_ic)² / (B·C), the mean squared
 * error over every element as DASO's MSELoss reduces it (`reduction='mean'`, no avg_factor), with
 * per-sample weights w_i broadcast over the classes as its `weight_reduce_loss` does.
 *
 * @param studentLogits [B, C] (gradient flows). @param target [B, C] probabilities (no gradient).
 * @param weights [B] per-sample weights, or null for 1. @returns a scalar the caller owns.
 */
export function softmaxMseLoss(studentLogits: tf.Tensor2D, target: tf.Tensor2D, weights: tf.Tensor1D | null = null): tf.Scalar {
  return tf.tidy(() => {
    const [b, c] = studentLogits.shape;
    const perSample = tf.sum(tf.squaredDifference(tf.softmax(studentLogits), target), 1);
    const weighted = weights ? tf.mul(perSample, weights) : perSample;
    return tf.div(tf.sum(weighted), b * c) as tf.Scalar;
  });
}

/**
 * Mean Teacher (Tarvainen & Valpola, NeurIPS 2017) as DASO runs it, ytaek-oh/daso
 * lib/algorithm/mean_teacher.py (docs/methods.md §4c): the student forward over [labeled |
 * student view]; the teacher is the run's EMA model (`StepContext.ema`, the one evaluated, as in
 * DASO where `ema_model` is both teacher and evaluated model) forwarded on the teacher view in
 * train mode (DASO's EMA model stays in train mode: batch statistics, and its BN running
 * statistics move before the EMA update blends them); target = softmax(teacher logits), no
 * gradient; loss = labeled + consistencyWeight · ramp-up(t) · softmaxMseLoss. Every sample enters
 * the loss: no threshold, so the mask is all ones and the `final` pseudo-label is argmax target.
 *
 * Add-ons see the teacher as the weak side (`probs`, `featuresWeak`: the EMA features, which is
 * what DASO's MeanTeacher variant builds its semantic pseudo-labels from) and the student as the
 * strong side (`featuresStrong`, `logitsStrong`). Every point of {@link AddOnChain} applies but
 * `thresholds` (there is no mask to set; the registry refuses add-ons that need one); unlabeled
 * weights multiply the per-sample squared error.
 *
 * Views: two independent WEAK views of each unlabeled image (`unlabeledViews`: 2 weak, no
 * strong), the first for the teacher, the second for the student, as DASO's MeanTeacher
 * (`(ul_student, ul_teacher)`, STRONG_AUG False).
 *
 * Deviations: with `--with daso`, DASO's own
 * MeanTeacher variant has no semantic alignment loss and pushes the queue from the same EMA
 * forward as the teacher's; this add-on adds L_align (`--daso-align off` drops it) and forwards
 * the labeled images through the EMA model separately (its BN running statistics move twice).
 */
export function createMeanTeacher(opts: MeanTeacherOptions, ctx: Pick<RunContext, 'labeledLoss'>, addOns: AddOnChain): Algorithm {
  return {
    name: ['mean-teacher', ...addOns.names].join('+'),
    usesUnlabeled: true,
    prepare(batch, stepCtx) {
      addOns.prepare(batch, stepCtx);
    },
    loss(batch: TrainBatch, stepCtx: StepContext): StepLoss {
      const numLabeled = batch.labeledImages.shape[0];
      const numUnlabeled = batch.weakImages.shape[0];
      const logitCtx = { step: stepCtx.step, iterations: stepCtx.iterations };
      const [teacherView, studentView] = weakViews(batch);
      if (!studentView) throw new Error('mean-teacher: the batch has one weak view; the student needs a second (unlabeledViews: 2 weak)');
      const student = stepCtx.model.forward(tf.concat([batch.labeledImages, studentView], 0), true);
      const [logitsX, logitsStudent] = tf.split(student.logits, [numLabeled, numUnlabeled], 0) as tf.Tensor2D[];
      const [featuresX, featuresStudent] = tf.split(student.features, [numLabeled, numUnlabeled], 0) as tf.Tensor2D[];
      const teacher = stepCtx.ema.forward(teacherView!, true);
      const logitsTeacher = stopGradient(teacher.logits) as tf.Tensor2D;

      const lossX = labeledTerm(ctx.labeledLoss, addOns, logitsX, batch.labeledLabels, logitCtx);
      const probs = stopGradient(tf.softmax(addOns.adjustUnlabeledLogits(logitsTeacher, logitCtx))) as tf.Tensor2D;
      const linear = tf.argMax(probs, 1) as tf.Tensor1D;

      const view = stepView(batch, stepCtx, { probs, featuresWeak: stopGradient(teacher.features) as tf.Tensor2D, featuresStrong: featuresStudent, logitsStrong: logitsStudent, labeledFeatures: featuresX! });
      const target = stopGradient(addOns.transformTarget(probs, view)) as tf.Tensor2D;
      const lossU = softmaxMseLoss(logitsStudent, target, addOns.unlabeledWeights(target, view));
      const rampup = unlabeledRampupWeight(stepCtx.step, stepCtx.iterations, opts);
      const extra = addOns.lossTerms(view);
      const total = plusLossTerms(tf.add(lossX, tf.mul(lossU, opts.consistencyWeight * rampup)) as tf.Scalar, extra);
      const mask = tf.ones([numUnlabeled]) as tf.Tensor1D;
      return {
        total,
        terms: { lossLabeled: lossX, lossUnlabeled: lossU, ...extra, maskRate: tf.mean(mask) as tf.Scalar, unlabeledRampup: tf.scalar(rampup) },
        pseudoLabels: { sources: { final: tf.argMax(target, 1) as tf.Tensor1D, linear, ...addOns.pseudoLabelSources(view) }, mask },
      };
    },
    ...addOnLifecycle(addOns),
  };
}

/** The registry entry of MeanTeacher. */
export const meanTeacherMethod = defineLearner({
  name: 'mean-teacher',
  kind: 'base',
  summary: 'the student matches the EMA teacher\'s softmax on the unlabeled images (MSE), weight ramped up',
  paper: 'Tarvainen & Valpola, NeurIPS 2017',
  code: 'ytaek-oh/daso lib/algorithm/mean_teacher.py',
  sections: [meanTeacherOptions, unlabeledRampupOptions],
  // No 'confidence-threshold': every sample enters the consistency, so an add-on that sets
  // per-sample thresholds (Adsh) has nothing to set and is refused by the registry.
  capabilities: ['pseudo-label-target', 'unlabeled-sample-weights', 'labeled-sample-weights', 'class-loss-weights'],
  unlabeledViews: () => ({ weak: 2, strong: 0 }),
  create: (values, ctx, addOns) => createMeanTeacher(values, ctx, addOns),
});
