import * as tf from '@tensorflow/tfjs-core';
import { Rng, deriveSeed } from '../../util/rng.js';

/** `deriveSeed` stream of ReMixMatch's per-sample rotations (mixup 13). */
export const ROTATION_STREAM = 14;

/**
 * Quarter turns r_i ∈ {0, 1, 2, 3} of step `step`, one per sample (ytaek-oh/daso remixmatch.py
 * `torch.randint(0, 4, (B,))`), a pure function of (seed, step).
 */
export function rotationDraw(seed: number, step: number, count: number): Int32Array {
  const rng = new Rng(deriveSeed(seed, ROTATION_STREAM, step));
  return Int32Array.from({ length: count }, () => rng.int(4));
}

/**
 * Each image [H, W, C] of a square NHWC batch turned by its own r_i quarter turns, as
 * `torch.rot90(x_i, r_i, [1, 2])` on CHW: one turn maps out[y][x] = in[x][W − 1 − y] (counter-
 * clockwise as displayed). All four turns of the batch are formed, then row i is taken from turn r_i.
 *
 * @param images [B, S, S, C] (borrowed). @param turns [B] in 0..3.
 * @returns [B, S, S, C] in the same row order, owned by the caller.
 */
export function rotateQuarterTurns(images: tf.Tensor4D, turns: Int32Array): tf.Tensor4D {
  const [b, h, w] = images.shape;
  if (h !== w) throw new Error(`rotateQuarterTurns: images must be square to rotate, got ${h}x${w}`);
  if (turns.length !== b) throw new Error(`rotateQuarterTurns: ${turns.length} turns for ${b} images`);
  for (const t of turns) if (!(t >= 0 && t <= 3)) throw new Error(`rotateQuarterTurns: turns must lie in 0..3, got ${t}`);
  return tf.tidy(() => {
    const transposed = tf.transpose(images, [0, 2, 1, 3]);
    const all = tf.concat([images, tf.reverse(transposed, 1), tf.reverse(images, [1, 2]), tf.reverse(transposed, 2)], 0);
    const rows = Int32Array.from(turns, (t, i) => t * b + i);
    return tf.gather(all, tf.tensor1d(rows, 'int32')) as tf.Tensor4D;
  });
}
