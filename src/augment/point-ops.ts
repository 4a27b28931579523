/**
 * RandAugment's per-pixel ops (lookup tables), with PIL `ImageOps` semantics because FixMatch and
 * DASO (ytaek-oh/daso `lib/dataset/transform/transformation.py`) call PIL. Each channel gets its
 * own table, as PIL does for RGB; a grey image is one channel.
 */
import { applyLuts, assertImage, channelHistograms, type ImageDims } from './image.js';

/** Returns a copy of the image (the pool's `Identity`). */
export function identity(img: Uint8Array, dims: ImageDims): Uint8Array {
  assertImage('identity', img, dims);
  return img.slice();
}

/**
 * `ImageOps.autocontrast(img)` with cutoff 0: per channel, maps [lo, hi] (the lowest and highest
 * values present) linearly onto [0, 255] with truncation, `int(v * 255/(hi-lo) - lo * 255/(hi-lo))`;
 * a channel with a single value is left alone.
 */
export function autoContrast(img: Uint8Array, dims: ImageDims): Uint8Array {
  assertImage('autoContrast', img, dims);
  const luts = channelHistograms(img, dims.channels).map((h) => {
    const lut = new Uint8Array(256);
    let lo = 0;
    while (lo < 256 && h[lo] === 0) lo++;
    let hi = 255;
    while (hi >= 0 && h[hi] === 0) hi--;
    if (hi <= lo) {
      for (let i = 0; i < 256; i++) lut[i] = i;
      return lut;
    }
    // Same double arithmetic and truncation toward zero as PIL's Python loop.
    const scale = 255.0 / (hi - lo);
    const offset = -lo * scale;
    for (let i = 0; i < 256; i++) {
      const v = Math.trunc(i * scale + offset);
      lut[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    return lut;
  });
  return applyLuts(img, dims.channels, luts);
}

/**
 * `ImageOps.equalize(img)`: per channel, step = (pixels − count of the highest value present) // 255;
 * lut[i] = (step//2 + #pixels below i) // step. Identity when the channel has one value or step = 0.
 */
export function equalize(img: Uint8Array, dims: ImageDims): Uint8Array {
  assertImage('equalize', img, dims);
  const luts = channelHistograms(img, dims.channels).map((h) => {
    const lut = new Uint8Array(256);
    let total = 0;
    let last = 0;
    let distinct = 0;
    for (let i = 0; i < 256; i++) {
      if (h[i] > 0) {
        total += h[i];
        last = h[i];
        distinct++;
      }
    }
    const step = distinct <= 1 ? 0 : Math.floor((total - last) / 255);
    if (step === 0) {
      for (let i = 0; i < 256; i++) lut[i] = i;
      return lut;
    }
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      // PIL appends n // step without clipping; it never exceeds 255 because n <= total - last + step/2.
      lut[i] = Math.min(255, Math.floor(n / step));
      n += h[i];
    }
    return lut;
  });
  return applyLuts(img, dims.channels, luts);
}

/** `ImageOps.posterize(img, bits)`: keeps the top `bits` bits (1..8) of every value. */
export function posterize(img: Uint8Array, dims: ImageDims, bits: number): Uint8Array {
  assertImage('posterize', img, dims);
  if (!(Number.isInteger(bits) && bits >= 0 && bits <= 8)) {
    throw new Error(`posterize: bits must be an integer in 0..8, got ${bits}`);
  }
  const mask = ~((1 << (8 - bits)) - 1) & 0xff;
  const out = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = img[i] & mask;
  return out;
}

/** `ImageOps.solarize(img, threshold)`: values >= threshold become 255 − value. */
export function solarize(img: Uint8Array, dims: ImageDims, threshold: number): Uint8Array {
  assertImage('solarize', img, dims);
  const out = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = img[i] < threshold ? img[i] : 255 - img[i];
  return out;
}
