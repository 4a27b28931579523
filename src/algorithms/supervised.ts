import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { option } from '../options/option-spec.js';
import { softmaxCrossEntropy } from '../ops/cross-entropy.js';
import { UserError } from '../errors.js';
import { Rng, deriveSeed } from '../util/rng.js';
import { defineLearner, type RunContext } from './method.js';
import type { Algorithm, StepLoss } from './algorithm.js';

/** Options of the supervised learner: Remix, its one batch transform (Chou et al., ECCV-W 2020). */
export const supervisedOptions = {
  remix: option(z.boolean(), false, 'Remix: mix image pairs with λ ~ U(0, 1) and give the label to the rarer class when the counts differ by κ'),
  remixKappa: option(z.number().gt(1), 3, 'Remix κ: count ratio from which the rarer class takes the label (paper: 3)'),
  remixTau: option(z.number().gt(0).lte(1), 0.5, 'Remix τ: the rarer class takes the label when its mixing weight exceeds 1 − τ (paper: 0.5)'),
} as const;

/** `deriveSeed` stream of Remix's λ and pairing (samplers 1, 2, 4; augmentation 3; equalization 7). */
const REMIX_STREAM = 8;

/**
 * Remix's label weight of sample i in a pair (i, j) mixed as λ·x_i + (1 − λ)·x_j:
 * 0 when n_i/n_j ≥ κ and λ < τ (the label goes to the rarer j), 1 when n_i/n_j ≤ 1/κ and
 * 1 − λ < τ (to the rarer i), else λ (mixup).
 */
export function remixLabelWeight(ni: number, nj: number, lambda: number, kappa: number, tau: number): number {
  if (ni / nj >= kappa && lambda < tau) return 0;
  if (ni / nj <= 1 / kappa && 1 - lambda < tau) return 1;
  return lambda;
}

/** One step's Remix draw: λ and the partner permutation, a pure function of (seed, step). */
export function remixDraw(seed: number, step: number, batch: number): { readonly lambda: number; readonly partner: Int32Array } {
  const rng = new Rng(deriveSeed(seed, REMIX_STREAM, step));
  const lambda = rng.float();
  return { lambda, partner: rng.permutation(batch) };
}

type Options = { remix: boolean; remixKappa: number; remixTau: number };

/**
 * The supervised-only learner: the labeled-loss slot on the student's logits of the labeled
 * batch, nothing else (no unlabeled batch is fed). With `--loss` and `--sampler` it is the base of
 * the long-tailed methods; with the defaults it is plain cross-entropy on the labeled split, the
 * lower bound every SSL method should beat. `--remix` mixes the batch first; its loss is
 * mean_i [w_i·CE(z_i, y_i) + (1 − w_i)·CE(z_i, y_j)], the official mixup criterion.
 */
export function createSupervised(opts: Options, ctx: Pick<RunContext, 'labeledLoss' | 'labeledClassCounts' | 'seed'>): Algorithm {
  return {
    name: opts.remix ? 'supervised+remix' : 'supervised',
    usesUnlabeled: false,
    prepare() {},
    loss(batch, stepCtx): StepLoss {
      if (!opts.remix) {
        const { logits } = stepCtx.model.forward(batch.labeledImages, true);
        const lossLabeled = ctx.labeledLoss(logits, batch.labeledLabels, stepCtx.step);
        // `terms` gets its own tensor: the trainer disposes the total it gets back from the tape.
        return { total: lossLabeled, terms: { lossLabeled: lossLabeled.clone() } };
      }
      const b = batch.labeledImages.shape[0];
      const { lambda, partner } = remixDraw(ctx.seed, stepCtx.step, b);
      const labels = batch.labeledLabels.dataSync();
      const weights = new Float32Array(b);
      for (let i = 0; i < b; i++) {
        const [ni, nj] = [ctx.labeledClassCounts[labels[i]], ctx.labeledClassCounts[labels[partner[i]]]];
        weights[i] = remixLabelWeight(ni, nj, lambda, opts.remixKappa, opts.remixTau);
      }
      const idx = tf.tensor1d(partner, 'int32');
      const mixed = tf.add(tf.mul(batch.labeledImages, lambda), tf.mul(tf.gather(batch.labeledImages, idx), 1 - lambda)) as tf.Tensor4D;
      const { logits } = stepCtx.model.forward(mixed, true);
      const w = tf.tensor1d(weights);
      const own = softmaxCrossEntropy(logits, batch.labeledLabels);
      const other = softmaxCrossEntropy(logits, tf.gather(batch.labeledLabels, idx) as tf.Tensor1D);
      const total = tf.mean(tf.add(tf.mul(w, own), tf.mul(tf.sub(1, w), other))) as tf.Scalar;
      return { total, terms: { lossLabeled: total.clone(), remixLambda: tf.scalar(lambda) } };
    },
    afterStep() {},
    state: () => ({ json: {}, arrays: {} }),
    restore() {},
    dispose() {},
  };
}

/** The registry entry of the supervised learner. */
export const supervisedMethod = defineLearner({
  name: 'supervised',
  kind: 'supervised',
  summary: 'the labeled split only, with the labeled loss and sampler of the run (and --remix)',
  paper: '-',
  code: '-',
  sections: [supervisedOptions],
  create: (values, ctx) => createSupervised(values, ctx),
  validate: (values, config) => {
    if (values.remix && config.labeledLoss !== 'ce') {
      throw new UserError('--remix', `mixes labels with cross-entropy, and this run has --loss ${String(config.labeledLoss)}`, 'Drop --loss (Remix uses ce), or drop --remix.');
    }
  },
});
