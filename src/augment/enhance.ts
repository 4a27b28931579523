/**
 * RandAugment's `ImageEnhance` ops: each blends the image with a "degenerate" image,
 * out = degenerate + factor · (img − degenerate), as PIL's `Image.blend` computes it: in single
 * precision (the factor is a C float) and truncated to uint8; outside [0, 1] the result is clipped.
 * Degenerate images: Brightness black, Color the grey (ITU-R 601-2 luma) image, Contrast a flat
 * image at the rounded mean luma, Sharpness the image smoothed by PIL's SMOOTH 3x3 kernel.
 */
import { assertImage, type ImageDims } from './image.js';

const f32 = Math.fround;

/**
 * `Image.blend(degenerate, img, factor)` on uint8 data of equal length. Reproduces PIL's C loop
 * `(UINT8)(in1 + alpha * (in2 - in1))` with `float alpha`, so results match PIL to the byte.
 */
export function blend(degenerate: Uint8Array, img: Uint8Array, factor: number): Uint8Array {
  if (degenerate.length !== img.length) {
    throw new Error(`blend: lengths differ (${degenerate.length} vs ${img.length})`);
  }
  const alpha = f32(factor);
  const out = new Uint8Array(img.length);
  const interpolate = alpha >= 0 && alpha <= 1;
  for (let i = 0; i < img.length; i++) {
    const a = degenerate[i];
    const v = f32(a + f32(alpha * (img[i] - a)));
    out[i] = interpolate ? Math.trunc(v) : v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return out;
}

/**
 * PIL's RGB -> L conversion (`L24` in Convert.c, Pillow 9): (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
 * Returns one value per pixel; a grey image is returned as a copy.
 */
export function toLuma(img: Uint8Array, dims: ImageDims): Uint8Array {
  const n = dims.height * dims.width;
  if (dims.channels === 1) return img.slice();
  const out = new Uint8Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    out[p] = (img[i] * 19595 + img[i + 1] * 38470 + img[i + 2] * 7471 + 0x8000) >>> 16;
  }
  return out;
}

/** `ImageEnhance.Brightness(img).enhance(factor)`: blend with black. */
export function brightness(img: Uint8Array, dims: ImageDims, factor: number): Uint8Array {
  assertImage('brightness', img, dims);
  return blend(new Uint8Array(img.length), img, factor);
}

/**
 * `ImageEnhance.Color(img).enhance(factor)`: blend with the grey version of the image. On a grey
 * image the degenerate image equals the image, so this is a copy, as in PIL.
 */
export function color(img: Uint8Array, dims: ImageDims, factor: number): Uint8Array {
  assertImage('color', img, dims);
  if (dims.channels === 1) return img.slice();
  const luma = toLuma(img, dims);
  const degenerate = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) degenerate[i] = luma[(i / 3) | 0];
  return blend(degenerate, img, factor);
}

/**
 * `ImageEnhance.Contrast(img).enhance(factor)`: blend with a flat image at
 * `int(mean(luma) + 0.5)` (every channel of it, for RGB).
 */
export function contrast(img: Uint8Array, dims: ImageDims, factor: number): Uint8Array {
  assertImage('contrast', img, dims);
  const luma = toLuma(img, dims);
  let sum = 0;
  for (let i = 0; i < luma.length; i++) sum += luma[i];
  const mean = Math.floor(sum / luma.length + 0.5);
  return blend(new Uint8Array(img.length).fill(mean), img, factor);
}

// PIL's SMOOTH kernel: weights 1 around a centre 5, divided by 13 in single precision.
const SMOOTH_EDGE = f32(1 / 13);
const SMOOTH_CENTRE = f32(f32(5) / f32(13));

/**
 * `img.filter(ImageFilter.SMOOTH)` as PIL's `ImagingFilter3x3` computes it: border rows and
 * columns are copied unfiltered; inside, the float sum 0.5 + Σ row sums (row below first) is
 * truncated, which rounds half up.
 */
export function smooth(img: Uint8Array, dims: ImageDims): Uint8Array {
  assertImage('smooth', img, dims);
  const { height: h, width: w, channels: c } = dims;
  const out = img.slice();
  if (h < 3 || w < 3) return out;
  const rowStride = w * c;
  const rowSum = (base: number, centre: boolean): number => {
    const k = centre ? SMOOTH_CENTRE : SMOOTH_EDGE;
    // (in[x-1]*k0 + in[x]*k1) + in[x+1]*k2, each step rounded to float as in C.
    return f32(f32(f32(img[base - c] * SMOOTH_EDGE) + f32(img[base] * k)) + f32(img[base + c] * SMOOTH_EDGE));
  };
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let ch = 0; ch < c; ch++) {
        const i = y * rowStride + x * c + ch;
        let ss = f32(0.5);
        ss = f32(ss + rowSum(i + rowStride, false));
        ss = f32(ss + rowSum(i, true));
        ss = f32(ss + rowSum(i - rowStride, false));
        out[i] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
      }
    }
  }
  return out;
}

/** `ImageEnhance.Sharpness(img).enhance(factor)`: blend with the SMOOTH-filtered image. */
export function sharpness(img: Uint8Array, dims: ImageDims, factor: number): Uint8Array {
  assertImage('sharpness', img, dims);
  return blend(smooth(img, dims), img, factor);
}
