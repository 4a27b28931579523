/**
 * One unit of augmentation work, identical in worker threads and in-process, so batches do not
 * depend on where or in which order they were computed: every sample carries its own seed.
 */
import { strongAugment } from '../augment/strong.js';
import { weakAugment } from '../augment/weak.js';
import type { ImageDims } from '../augment/image.js';
import { Rng } from '../util/rng.js';

/** Which view to produce. `none` copies the image unchanged. */
export type AugmentMode = 'none' | 'weak' | 'strong';

/** Augment `indices.length` images of the shared training set. */
export interface AugmentTask {
  readonly mode: AugmentMode;
  /** Image indices into the training set, [n]. */
  readonly indices: Int32Array;
  /** One seed per image, [n]: the image's `Rng` seed. */
  readonly seeds: Uint32Array;
  /** Reflect padding of the weak crop. */
  readonly padding: number;
  /** Cutout side for `strong`. */
  readonly cutoutSize: number;
}

/**
 * Runs a task over `images` (uint8 NHWC of the whole training set). Returns a new
 * [n, h, w, c] uint8 array owned by the caller.
 */
export function runAugmentTask(images: Uint8Array, dims: ImageDims, task: AugmentTask): Uint8Array {
  const size = dims.height * dims.width * dims.channels;
  const n = task.indices.length;
  if (task.seeds.length !== n) throw new Error(`runAugmentTask: ${n} indices but ${task.seeds.length} seeds`);
  const out = new Uint8Array(n * size);
  const total = images.length / size;
  for (let i = 0; i < n; i++) {
    const idx = task.indices[i];
    if (!(idx >= 0 && idx < total)) throw new Error(`runAugmentTask: index ${idx} outside 0..${total - 1}`);
    const img = images.subarray(idx * size, (idx + 1) * size);
    const rng = new Rng(task.seeds[i]);
    let view: Uint8Array;
    if (task.mode === 'none') view = img;
    else if (task.mode === 'weak') view = weakAugment(img, dims, rng, { padding: task.padding });
    else view = strongAugment(img, dims, rng, { padding: task.padding, cutoutSize: task.cutoutSize });
    out.set(view, i * size);
  }
  return out;
}
