/**
 * FixMatch's weak augmentation (docs/methods.md §4): horizontal flip with p = 0.5, then reflect-pad by
 * `padding` pixels and crop a random window of the original size (torchvision
 * `RandomHorizontalFlip` + `RandomCrop(size, padding, padding_mode="reflect")`).
 */
import { assertImage, type ImageDims } from './image.js';
import type { Rng } from '../util/rng.js';

/** Options of the weak augmentation. */
export interface WeakAugmentOptions {
  /** Reflect padding in pixels before the random crop (4 in FixMatch/DASO for 32 px and 28 px). */
  readonly padding: number;
}

/** Mirrors the image left-right. */
export function flipHorizontal(img: Uint8Array, dims: ImageDims): Uint8Array {
  assertImage('flipHorizontal', img, dims);
  const { height: h, width: w, channels: ch } = dims;
  const out = new Uint8Array(img.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = (y * w + (w - 1 - x)) * ch;
      const dst = (y * w + x) * ch;
      for (let k = 0; k < ch; k++) out[dst + k] = img[src + k];
    }
  }
  return out;
}

/** numpy/torch "reflect" index (edge not repeated): -1 -> 1, n -> n-2. Requires padding < n. */
function reflectIndex(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/**
 * The crop of the reflect-padded image whose top-left corner is (top, left) in padded coordinates,
 * each in 0..2·padding; (padding, padding) returns the image unchanged.
 */
export function reflectPadCrop(
  img: Uint8Array,
  dims: ImageDims,
  padding: number,
  top: number,
  left: number,
): Uint8Array {
  assertImage('reflectPadCrop', img, dims);
  const { height: h, width: w, channels: ch } = dims;
  if (!(Number.isInteger(padding) && padding >= 0 && padding < h && padding < w)) {
    throw new Error(`reflectPadCrop: padding must be an integer in 0..${Math.min(h, w) - 1}, got ${padding}`);
  }
  if (!(top >= 0 && top <= 2 * padding && left >= 0 && left <= 2 * padding)) {
    throw new Error(`reflectPadCrop: top/left must be in 0..${2 * padding}, got ${top}, ${left}`);
  }
  const out = new Uint8Array(img.length);
  for (let y = 0; y < h; y++) {
    const ys = reflectIndex(y + top - padding, h);
    for (let x = 0; x < w; x++) {
      const src = (ys * w + reflectIndex(x + left - padding, w)) * ch;
      const dst = (y * w + x) * ch;
      for (let k = 0; k < ch; k++) out[dst + k] = img[src + k];
    }
  }
  return out;
}

/**
 * Weak augmentation: flip if `rng.float() < 0.5`, then a crop at top = rng.int(2p+1),
 * left = rng.int(2p+1) of the reflect-padded image. Draws exactly three numbers from `rng`.
 */
export function weakAugment(img: Uint8Array, dims: ImageDims, rng: Rng, opts: WeakAugmentOptions): Uint8Array {
  const flip = rng.float() < 0.5;
  const top = rng.int(2 * opts.padding + 1);
  const left = rng.int(2 * opts.padding + 1);
  const flipped = flip ? flipHorizontal(img, dims) : img;
  return reflectPadCrop(flipped, dims, opts.padding, top, left);
}
