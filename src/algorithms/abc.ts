import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { option, type SectionValues } from '../options/option-spec.js';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { stopGradient } from '../ops/stop-gradient.js';
import { Rng, deriveSeed } from '../util/rng.js';
import type { AddOn, TargetTransform, UnlabeledView } from './add-on.js';
import { defineAddOn } from './method.js';

/** The auxiliary head ABC adds, and evaluates. */
export const ABC_HEAD = 'abc';

/** `deriveSeed` stream of ABC's Bernoulli masks (samplers 1, 2, 4+; augmentation 3; equalization 7; remix 8). */
const ABC_STREAM = 11;

/**
 * Annealing stages of the unlabeled mask: ytaek-oh/daso counts `int(iter / 500)` of 500 "epochs"
 * over its 250k steps; here the run is cut into the same 500 stages whatever its length.
 */
export const ABC_STAGES = 500;

/** ABC options (ytaek-oh/daso lib/config/defaults.py ALGORITHM.ABC, ALGORITHM.CONFIDENCE_THRESHOLD). */
export const abcOptions = {
  abcThreshold: option(z.number().gt(0).lte(1), 0.95, 'confidence threshold of the balanced head\'s pseudo-labels (DASO shares CONFIDENCE_THRESHOLD: 0.95)'),
  abcBlendTargets: option(
    z.boolean(),
    true,
    'pass the balanced head\'s soft targets through the other add-ons\' target transforms, i.e. DASO\'s blend (DASO ABC.DASO_PSEUDO_LABEL: true)',
  ),
} as const;

export type AbcOptions = Readonly<SectionValues<typeof abcOptions>>;

/**
 * ABC's Bernoulli parameters: labeled p_c = n_min / n_c (official: n_{C−1} / n_c, "the last
 * element is the most tail class", the same on DASO's splits), and the unlabeled ones annealed
 * from 1 to p_c: 1 − (s / 500)·(1 − p_c) at stage s = ⌊500·step / T⌋.
 */
export function abcMaskParameters(classCounts: readonly number[], step: number, iterations: number): { readonly labeled: number[]; readonly unlabeled: number[] } {
  const min = Math.min(...classCounts);
  const labeled = classCounts.map((n) => min / n);
  const stage = Math.floor((ABC_STAGES * step) / Math.max(1, iterations));
  return { labeled, unlabeled: labeled.map((p) => 1 - (stage / ABC_STAGES) * (1 - p)) };
}

/**
 * Bernoulli(param[class_i]) per sample, from uniforms drawn as a function of (seed, step, part):
 * resume-exact, and the class ids stay on the device.
 *
 * @param classes [B] int32. @returns [B] float32 in {0, 1}; caller owns it.
 */
export function bernoulliMask(param: readonly number[], classes: tf.Tensor1D, uniforms: Float32Array): tf.Tensor1D {
  // The tape passes through here (classes come from an argmax): a one-hot product instead of
  // gather, whose gradient rejects int32 indices, and step(p − u) = [u < p] instead of Less,
  // which has no gradient; both have zero gradients by definition.
  return tf.tidy(() => {
    const p = tf.sum(tf.mul(tf.oneHot(classes, param.length), tf.tensor1d([...param])), 1);
    return tf.step(tf.sub(p, tf.tensor1d(uniforms))) as tf.Tensor1D;
  });
}

function uniforms(seed: number, step: number, part: number, n: number): Float32Array {
  const rng = new Rng(deriveSeed(seed, ABC_STREAM, step, part));
  return Float32Array.from({ length: n }, () => rng.float());
}

/**
 * ABC (Lee et al., NeurIPS 2021) as DASO ports it (ytaek-oh/daso lib/algorithm/fm_abc.py, and
 * lib/models/daso_model.py `with_abc` for the combination): an auxiliary balanced linear head on
 * the shared features of the same forward;
 * - labeled loss mean_i m_i·CE(z^abc_i, y_i), m_i ~ Bernoulli(n_min / n_{y_i}) (CE, as the
 *   official default labeled loss; the learner's slot loss trains the classifier head);
 * - unlabeled loss −mean_i M_i·Σ_k p_ik log softmax(z^abc_strong)_ik with soft targets p =
 *   softmax(z^abc_weak) (through DASO's blend when composed with it), M_i = [max p_i ≥ τ]·
 *   Bernoulli(annealed p_{ŷ_i}), ŷ_i = argmax p_i;
 * - the balanced head is the one evaluated (the run reports head `abc`).
 */
export function createAbc(opts: AbcOptions, ctx: { readonly labeledClassCounts: readonly number[]; readonly seed: number }): AddOn {
  const targets = new WeakMap<UnlabeledView, { readonly probs: tf.Tensor2D; readonly strongLogits: tf.Tensor2D; readonly labeledLogits: tf.Tensor2D }>();
  const ensure = (view: UnlabeledView, others: TargetTransform | null) => {
    let t = targets.get(view);
    if (!t) {
      // The weak and labeled logits come from the same forward as the learner's (official: one encoder pass).
      const weak = stopGradient(tf.softmax(view.model.auxLogits(ABC_HEAD, view.featuresWeak))) as tf.Tensor2D;
      const probs = opts.abcBlendTargets && others ? others(weak) : weak;
      t = { probs, strongLogits: view.model.auxLogits(ABC_HEAD, view.featuresStrong), labeledLogits: view.model.auxLogits(ABC_HEAD, view.labeled.features) };
      targets.set(view, t);
    }
    return t;
  };
  return {
    name: 'abc',
    sources: [ABC_HEAD],
    lossTerms(view, others) {
      const { probs, strongLogits, labeledLogits } = ensure(view, others);
      const params = abcMaskParameters(ctx.labeledClassCounts, view.step, view.iterations);
      const numLabeled = view.labeled.labels.shape[0];
      const numUnlabeled = probs.shape[0];
      const labeledMask = bernoulliMask(params.labeled, view.labeled.labels, uniforms(ctx.seed, view.step, 0, numLabeled));
      const lossLabeled = tf.mean(tf.mul(softmaxCrossEntropy(labeledLogits, view.labeled.labels), labeledMask));
      const predicted = tf.argMax(probs, 1) as tf.Tensor1D;
      const confident = tf.cast(tf.greaterEqual(tf.max(probs, 1), opts.abcThreshold), 'float32');
      const mask = tf.mul(confident, bernoulliMask(params.unlabeled, predicted, uniforms(ctx.seed, view.step, 1, numUnlabeled)));
      const soft = tf.sum(tf.mul(probs, tf.logSoftmax(strongLogits)), 1);
      const lossUnlabeled = tf.neg(tf.mean(tf.mul(mask, soft)));
      return { lossAbc: tf.add(lossLabeled, lossUnlabeled) as tf.Scalar };
    },
    pseudoLabelSources(view) {
      return { [ABC_HEAD]: tf.argMax(ensure(view, null).probs, 1) as tf.Tensor1D };
    },
  };
}

/** The registry entry: `ssl run fixmatch --with abc` (and `--with daso`, whose blend ABC's targets go through). */
export const abcMethod = defineAddOn({
  name: 'abc',
  kind: 'add-on',
  summary: 'auxiliary balanced head trained with Bernoulli class masks; the balanced head is evaluated',
  paper: 'Lee et al., NeurIPS 2021',
  code: 'ytaek-oh/daso lib/algorithm/fm_abc.py, lib/models/daso_model.py (with_abc)',
  pairedWith: 'LeeHyuck/ABC pairs it with FixMatch and ReMixMatch only: ABCfix.py, ABCremix.py',
  defaultBase: 'fixmatch',
  // Its consistency loss needs the student's weak and strong views (MeanTeacher's weak side is the teacher's).
  requires: ['pseudo-label-target', 'weak-strong-views'],
  sections: [abcOptions],
  model: () => ({ auxHeads: [{ name: ABC_HEAD, outputs: 'classes' }], reportedHead: ABC_HEAD }),
  create: (values, ctx) => createAbc(values, ctx),
});
