/**
 * RandAugment's geometric ops with PIL semantics (`Image.transform(size, AFFINE, ...)` and
 * `Image.rotate`, nearest neighbour, fill black), because the official FixMatch/DASO code calls
 * PIL. An affine `matrix = [a, b, c, d, e, f]` maps an OUTPUT pixel (x, y) to the INPUT point
 * (a·x + b·y + c, d·x + e·y + f), pixel centres at +0.5, as PIL does.
 */
import { assertImage, type ImageDims } from './image.js';

/** An affine map from output to input coordinates, PIL's AFFINE `data` order. */
export type AffineMatrix = readonly [number, number, number, number, number, number];

/**
 * `img.transform(img.size, Image.AFFINE, matrix)` with NEAREST resampling and black fill.
 *
 * PIL (Geometry.c) takes two paths and we follow both, because they round differently:
 * - no rotation/shear terms (b = d = 0): `ImagingScaleAffine`, source = int(a·(x+0.5) + c),
 *   computed by repeated double additions, negative -> outside;
 * - otherwise `affine_fixed`: the matrix in 16.16 fixed point, `FIX(v) = floor(v·65536 + 0.5)`,
 *   source = (FIX(c + b/2 + a/2) + y·FIX(b) + x·FIX(a)) >> 16. (Valid while |coords| < 32768,
 *   always true for training images; larger images would need PIL's float fallback.)
 */
export function affine(img: Uint8Array, dims: ImageDims, matrix: AffineMatrix): Uint8Array {
  assertImage('affine', img, dims);
  const { height: h, width: w, channels: ch } = dims;
  if (h >= 32768 || w >= 32768) throw new Error(`affine: images up to 32767 px supported, got ${h}x${w}`);
  const [a, b, c, d, e, f] = matrix;
  const out = new Uint8Array(img.length);
  const copy = (xo: number, yo: number, xi: number, yi: number): void => {
    const src = (yi * w + xi) * ch;
    const dst = (yo * w + xo) * ch;
    for (let k = 0; k < ch; k++) out[dst + k] = img[src + k];
  };
  if (b === 0 && d === 0) {
    const coord = (v: number): number => (v < 0 ? -1 : Math.trunc(v));
    const xin = new Int32Array(w);
    let xo = c + a * 0.5;
    for (let x = 0; x < w; x++) {
      xin[x] = coord(xo);
      xo += a;
    }
    let yo = f + e * 0.5;
    for (let y = 0; y < h; y++) {
      const yi = coord(yo);
      if (yi >= 0 && yi < h) {
        for (let x = 0; x < w; x++) if (xin[x] >= 0 && xin[x] < w) copy(x, y, xin[x], yi);
      }
      yo += e;
    }
    return out;
  }
  const fix = (v: number): number => Math.floor(v * 65536.0 + 0.5);
  const a0 = fix(a);
  const a1 = fix(b);
  const a3 = fix(d);
  const a4 = fix(e);
  let a2 = fix(c + b * 0.5 + a * 0.5);
  let a5 = fix(f + e * 0.5 + d * 0.5);
  for (let y = 0; y < h; y++) {
    let xx = a2;
    let yy = a5;
    for (let x = 0; x < w; x++) {
      // C's `>> 16` on int: floor division by 65536.
      const xi = Math.floor(xx / 65536);
      if (xi >= 0 && xi < w) {
        const yi = Math.floor(yy / 65536);
        if (yi >= 0 && yi < h) copy(x, y, xi, yi);
      }
      xx += a0;
      yy += a3;
    }
    a2 += a1;
    a5 += a4;
  }
  return out;
}

/** Python's `round(x, 15)` (round half even on the exact binary value; ties never occur here). */
function round15(x: number): number {
  return Number(x.toFixed(15));
}

/**
 * The affine matrix of PIL's `img.rotate(degrees)` (counter-clockwise, about (w/2, h/2), no
 * expand), built exactly as Pillow does: angle taken mod 360, cos/sin rounded to 15 decimals.
 */
export function rotationMatrix(degrees: number, dims: ImageDims): AffineMatrix {
  const mod = ((degrees % 360) + 360) % 360;
  const angle = -(mod * (Math.PI / 180));
  const cos = round15(Math.cos(angle));
  const sin = round15(Math.sin(angle));
  const negSin = round15(-Math.sin(angle));
  const cx = dims.width / 2;
  const cy = dims.height / 2;
  const c = cos * -cx + sin * -cy + 0.0 + cx;
  const f = negSin * -cx + cos * -cy + 0.0 + cy;
  return [cos, sin, c, negSin, cos, f];
}

/**
 * `img.rotate(degrees)`: counter-clockwise for positive degrees, nearest neighbour, black fill.
 * Like PIL, 0 and 180 degrees, and 90/270 on square images, are exact transposes.
 */
export function rotate(img: Uint8Array, dims: ImageDims, degrees: number): Uint8Array {
  assertImage('rotate', img, dims);
  const mod = ((degrees % 360) + 360) % 360;
  const { height: h, width: w, channels: ch } = dims;
  if (mod === 0) return img.slice();
  if (mod === 180 || ((mod === 90 || mod === 270) && h === w)) {
    const out = new Uint8Array(img.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Source of output (x, y): 180 -> (w-1-x, h-1-y); 90 ccw -> (w-1-y, x); 270 -> (y, h-1-x).
        const [xs, ys] = mod === 180 ? [w - 1 - x, h - 1 - y] : mod === 90 ? [w - 1 - y, x] : [y, h - 1 - x];
        const src = (ys * w + xs) * ch;
        const dst = (y * w + x) * ch;
        for (let k = 0; k < ch; k++) out[dst + k] = img[src + k];
      }
    }
    return out;
  }
  return affine(img, dims, rotationMatrix(degrees, dims));
}

/** `img.transform(size, AFFINE, (1, shear, 0, 0, 1, 0))`: output (x, y) reads input x + shear·y. */
export function shearX(img: Uint8Array, dims: ImageDims, shear: number): Uint8Array {
  return affine(img, dims, [1, shear, 0, 0, 1, 0]);
}

/** `img.transform(size, AFFINE, (1, 0, 0, shear, 1, 0))`: output (x, y) reads input y + shear·x. */
export function shearY(img: Uint8Array, dims: ImageDims, shear: number): Uint8Array {
  return affine(img, dims, [1, 0, 0, shear, 1, 0]);
}

/**
 * TranslateX with the official code's magnitude: `fraction` of the width, truncated toward zero
 * to whole pixels (`int(v · width)`); output (x, y) reads input (x + pixels, y), black outside.
 */
export function translateX(img: Uint8Array, dims: ImageDims, fraction: number): Uint8Array {
  return affine(img, dims, [1, 0, Math.trunc(fraction * dims.width), 0, 1, 0]);
}

/** TranslateY: `int(fraction · height)` pixels; output (x, y) reads input (x, y + pixels). */
export function translateY(img: Uint8Array, dims: ImageDims, fraction: number): Uint8Array {
  return affine(img, dims, [1, 0, 0, 0, 1, Math.trunc(fraction * dims.height)]);
}
