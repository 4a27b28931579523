/**
 * FixMatch/DASO strong augmentation (docs/methods.md §4): the weak augmentation, then RandAugment, then
 * ALWAYS Cutout (official `Augmentation(strong_aug=True, ra_first=True)` in ytaek-oh/daso
 * `lib/dataset/transform/transforms.py`).
 */
import { cutout, defaultCutoutSize } from './cutout.js';
import { randAugment, type RandAugmentOptions } from './rand-augment.js';
import { weakAugment, type WeakAugmentOptions } from './weak.js';
import type { ImageDims } from './image.js';
import type { Rng } from '../util/rng.js';

/** Options of the strong augmentation. */
export interface StrongAugmentOptions extends WeakAugmentOptions {
  /**
   * Cutout side in pixels. Default: half the image side (16 at 32 px as the official code,
   * 14 at 28 px for Fashion-MNIST).
   */
  readonly cutoutSize?: number;
  readonly randAugment?: RandAugmentOptions;
}

/** weak -> RandAugment -> Cutout, all draws from `rng` in that order. Returns a new image. */
export function strongAugment(img: Uint8Array, dims: ImageDims, rng: Rng, opts: StrongAugmentOptions): Uint8Array {
  const weak = weakAugment(img, dims, rng, opts);
  const ra = randAugment(weak, dims, rng, opts.randAugment);
  return cutout(ra, dims, opts.cutoutSize ?? defaultCutoutSize(dims), rng);
}
