import * as tf from '@tensorflow/tfjs-core';
import { isBbnClassifier } from '../models/bbn-classifier.js';
import type { Algorithm } from './algorithm.js';
import { assertLinearHead, defineLearner, type RunContext } from './method.js';

/**
 * BBN's cumulative learning weight (Megvii-Nanjing/BBN `combiner.py`, `bbn_mix`):
 * α = 1 − ((epoch − 1)/T_max)², here per step, α_t = 1 − (t/T)², the same curve without the
 * per-epoch staircase. α = 1 at the start (conventional branch), → 0 at the end (re-balancing).
 */
export function bbnAlpha(step: number, iterations: number): number {
  if (iterations <= 0) return 0.5;
  return 1 - (step / iterations) ** 2;
}

/**
 * BBN: each step's labeled batch is two halves, the slot's sampler (uniform for the conventional
 * branch) and the reversed sampler (re-balancing branch, w_c = n_max/n_c). Logits of the α-mixed,
 * concatenated branch features; loss α·L(z, y_c) + (1 − α)·L(z, y_r) with L the labeled-loss slot.
 */
export function createBbn(ctx: Pick<RunContext, 'labeledLoss' | 'iterations'>): Algorithm {
  return {
    name: 'bbn',
    usesUnlabeled: false,
    prepare() {},
    loss(batch, stepCtx) {
      const model = stepCtx.model;
      if (!isBbnClassifier(model)) throw new Error('bbn: the model has no BBN branches');
      const half = batch.labeledImages.shape[0] / 2;
      const [xc, xr] = tf.split(batch.labeledImages, 2, 0) as tf.Tensor4D[];
      const [yc, yr] = tf.split(batch.labeledLabels, [half, half], 0) as tf.Tensor1D[];
      const alpha = bbnAlpha(stepCtx.step, ctx.iterations);
      const logits = model.forwardMixed(xc, xr, alpha, true);
      const lc = ctx.labeledLoss(logits, yc, stepCtx.step);
      const lr = ctx.labeledLoss(logits, yr, stepCtx.step);
      const total = tf.add(tf.mul(lc, alpha), tf.mul(lr, 1 - alpha)) as tf.Scalar;
      return { total, terms: { lossLabeled: total.clone(), lossConventional: lc, lossRebalancing: lr, bbnAlpha: tf.scalar(alpha) } };
    },
    afterStep() {},
    state: () => ({ json: {}, arrays: {} }),
    restore() {},
    dispose() {},
  };
}

/** The registry entry of BBN. */
export const bbnMethod = defineLearner({
  name: 'bbn',
  kind: 'supervised',
  summary: 'bilateral-branch network: uniform and reversed samplers, cumulative α, one shared classifier',
  paper: 'Zhou et al., CVPR 2020',
  code: 'Megvii-Nanjing/BBN',
  sections: [],
  create: (_values, ctx) => createBbn(ctx),
  model: () => ({ bbn: true }),
  labeledSamplers: (_values, slot) => [slot, 'reversed'],
  validate: (_values, config) => assertLinearHead('bbn', 'its one classifier reads both branches', config),
});
