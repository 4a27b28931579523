import * as tf from '@tensorflow/tfjs-core';
import { Rng, deriveSeed } from '../../util/rng.js';
import { sampleBeta } from '../../util/beta.js';

/** `deriveSeed` stream of MixMatch's and ReMixMatch's mixup draws (samplers 1, 2, 4+; augmentation 3; equalization 7; remix 8; abc 11; rotation 14). */
export const MIXUP_STREAM = 13;

/** One step's mixup draw. */
export interface MixupDraw {
  /** λ ~ Beta(α, α) as drawn. */
  readonly beta: number;
  /** λ' = max(λ, 1 − λ): the mixed sample stays closer to its own image (MixMatch eq. 9). */
  readonly lambda: number;
  /** partner[i]: the row sample i is mixed with; a permutation of all rows. */
  readonly partner: Int32Array;
}

/**
 * The mixup draw of step `step`: λ ~ Beta(α, α), λ' = max(λ, 1 − λ), and one permutation over
 * all `rows` of the batch (labeled and unlabeled together, as ytaek-oh/daso mixmatch.py
 * `torch.randperm(all_images.size(0))`). A pure function of (seed, step): resume-exact.
 */
export function mixupDraw(seed: number, step: number, rows: number, alpha: number): MixupDraw {
  if (!(alpha > 0)) throw new Error(`mixupDraw: alpha must be > 0, got ${alpha}`);
  const rng = new Rng(deriveSeed(seed, MIXUP_STREAM, step));
  const beta = sampleBeta(rng, alpha, alpha);
  return { beta, lambda: Math.max(beta, 1 - beta), partner: rng.permutation(rows) };
}

/**
 * Mixup of a batch with its permutation: x'_i = λ·x_i + (1 − λ)·x_{partner[i]}, for images
 * [N, H, W, C] and for their targets [N, C] alike.
 *
 * @param x [N, ...] (borrowed). @param partner [N] permutation of 0..N−1.
 * @returns [N, ...], owned by the caller.
 */
export function mixWithPartner<T extends tf.Tensor>(x: T, partner: Int32Array, lambda: number): T {
  if (partner.length !== x.shape[0]) throw new Error(`mixWithPartner: partner has ${partner.length} rows, x has ${x.shape[0]}`);
  return tf.tidy(() => tf.add(tf.mul(x, lambda), tf.mul(tf.gather(x, tf.tensor1d(partner, 'int32')), 1 - lambda)) as T);
}
