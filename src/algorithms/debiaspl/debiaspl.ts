import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { stopGradient } from '../../ops/stop-gradient.js';
import { option, type SectionValues } from '../../options/option-spec.js';
import type { AddOn, LogitContext, UnlabeledView } from '../add-on.js';
import type { AlgorithmState } from '../algorithm.js';
import { defineAddOn } from '../method.js';
import { debiasedLogits, meanPrediction, updateClassPrior } from './class-prior.js';
import { cldLoss } from './cld-loss.js';

/**
 * DebiasPL options (frank-xwang/debiased-pseudo-labeling `main_DebiasPL.py` and
 * `scripts/*-ssl/train_DebiasPL.sh`; USB `debiaspl_tau`, `debiaspl_ema_p`). This file is the only
 * home of their defaults.
 */
export const debiasplOptions = {
  debiasplTau: option(z.number().min(0), 0.4, 'τ, strength of the debiasing z − τ·log p̂ (DebiasPL scripts --tau 0.4; USB 0.4; argparse default 1.0)'),
  debiasplMomentum: option(z.number().min(0).lt(1), 0.999, 'momentum m of p̂ ← m·p̂ + (1 − m)·mean_batch softmax(z_weak) (DebiasPL --qhat_m 0.999; USB ema_p 0.999)'),
  debiasplCldWeight: option(
    z.number().min(0),
    0.3,
    'λ_cld of the instance-group discrimination loss on the unlabeled views, 0 = off (DebiasPL scripts --CLDLoss --lambda-cld 0.3; off in argparse and USB)',
  ),
} as const;

export type DebiasplOptions = Readonly<SectionValues<typeof debiasplOptions>>;

/** The weak-view probabilities of one step, shared by DebiasPL's points of that step. */
interface WeakStep {
  readonly step: number;
  /** softmax of the raw weak logits [B_u, C], no gradient; kept until `afterStep` disposes it. */
  readonly probs: tf.Tensor2D;
}

/**
 * DebiasPL (Wang et al., CVPR 2022), debiased pseudo-labels, as an add-on, following the official
 * frank-xwang/debiased-pseudo-labeling `main_DebiasPL.py` (`train`, `causal_inference`,
 * `update_qhat`, `CLDLoss`):
 * 1. the pseudo-label distribution is softmax(z_weak − τ·log p̂), with p̂ BEFORE this step's update
 *    (`adjustUnlabeledLogits`; exclusive point `unlabeled-logits`);
 * 2. after the step, p̂ ← m·p̂ + (1 − m)·mean over the batch axis of softmax(z_weak), the raw
 *    (not debiased) weak probabilities, p̂ starting uniform (`afterStep`; the batch mean is taken
 *    in the step's forward and read back once, a [C] vector);
 * 3. the adaptive margin: the unlabeled loss is taken on z_strong + τ·log p̂', p̂' = this step's
 *    updated p̂ (`adjustStrongLogits`; exclusive point `strong-logits`);
 * 4. the CLD loss λ_cld · {@link cldLoss}(softmax(z_strong), softmax(z_weak)) (`lossTerms`, `lossCld`).
 * p̂ is the run's estimate of the unlabeled distribution (`priorEstimate`), checkpointed.
 *
 * Not carried: the official `--multiviews`
 * (two weak and two strong views per image: our learners draw one of each), and `--masked-qhat`
 * (off in every official script).
 */
export function createDebiaspl(opts: DebiasplOptions, ctx: { readonly numClasses: number }): AddOn {
  const C = ctx.numClasses;
  let prior: Float32Array = new Float32Array(C).fill(1 / C);
  // This step's batch mean of softmax(z_weak) [C], kept from the tape until `afterStep` reads it
  // (and the weak probabilities for the CLD loss): a step's tensors, never a later step's.
  let pendingMean: tf.Tensor1D | null = null;
  let weak: WeakStep | null = null;
  let weakStep = -1;

  const dropPending = (): void => {
    pendingMean?.dispose();
    pendingMean = null;
    weak?.probs.dispose();
    weak = null;
  };

  return {
    name: 'debiaspl',
    adjustUnlabeledLogits(logits: tf.Tensor2D, logitCtx: LogitContext) {
      dropPending();
      weakStep = logitCtx.step;
      pendingMean = tf.keep(meanPrediction(logits));
      if (opts.debiasplCldWeight > 0) weak = { step: logitCtx.step, probs: tf.keep(tf.tidy(() => tf.softmax(stopGradient(logits)) as tf.Tensor2D)) };
      return debiasedLogits(logits, prior, opts.debiasplTau);
    },
    adjustStrongLogits(logitsStrong: tf.Tensor2D, view: UnlabeledView) {
      if (!pendingMean || weakStep !== view.step) throw new Error('debiaspl: adjustStrongLogits before this step\'s adjustUnlabeledLogits');
      const mean = pendingMean;
      // p̂' = m·p̂ + (1 − m)·mean on the device; the official code updates q̂ before this loss.
      return tf.tidy(() => {
        const updated = tf.add(tf.mul(tf.tensor1d(prior), opts.debiasplMomentum), tf.mul(mean, 1 - opts.debiasplMomentum));
        return tf.add(logitsStrong, tf.mul(tf.log(updated), opts.debiasplTau)) as tf.Tensor2D;
      });
    },
    lossTerms(view: UnlabeledView): Record<string, tf.Scalar> {
      if (opts.debiasplCldWeight <= 0) return {};
      if (!weak || weak.step !== view.step) throw new Error('debiaspl: lossTerms before this step\'s adjustUnlabeledLogits');
      const probsWeak = weak.probs;
      return { lossCld: tf.tidy(() => tf.mul(cldLoss(tf.softmax(view.logitsStrong) as tf.Tensor2D, probsWeak), opts.debiasplCldWeight) as tf.Scalar) };
    },
    afterStep() {
      if (pendingMean) prior = updateClassPrior(prior, pendingMean.dataSync(), opts.debiasplMomentum);
      dropPending();
    },
    priorEstimate() {
      const total = prior.reduce((a, p) => a + p, 0);
      return Array.from(prior, (p) => p / total);
    },
    state(): AlgorithmState {
      return { json: {}, arrays: { prior } };
    },
    restore(state: AlgorithmState) {
      const p = state.arrays.prior;
      if (p?.length !== C) throw new Error(`debiaspl: checkpoint p̂ has ${p?.length ?? 0} classes, this run ${C}`);
      prior = Float32Array.from(p);
    },
    dispose: dropPending,
  };
}

/** The registry entry of DebiasPL: `ssl run debiaspl` is FixMatch + DebiasPL. */
export const debiasplMethod = defineAddOn({
  name: 'debiaspl',
  kind: 'add-on',
  summary: 'pseudo-labels from z − τ·log p̂, p̂ a running mean of the predicted class distribution',
  paper: 'Wang et al., CVPR 2022',
  code: 'frank-xwang/debiased-pseudo-labeling main_DebiasPL.py',
  pairedWith: 'DebiasPL is built on FixMatch: main_DebiasPL.py shifts the logits of its strong-view cross-entropy',
  defaultBase: 'fixmatch',
  claims: ['unlabeled-logits', 'strong-logits'],
  requires: ['pseudo-label-target', 'unlabeled-logits-loss'],
  sections: [debiasplOptions],
  create: (values, ctx) => createDebiaspl(values, { numClasses: ctx.numClasses }),
});
