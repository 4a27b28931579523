/**
 * Bilinear resize of uint8 HWC images with the arithmetic of Pillow's `Image.resize(size,
 * BILINEAR)` (`libImaging/Resample.c`), which is what torchvision's `transforms.Resize` runs on PIL
 * images and so what DASO's STL-10 pipeline (96 -> 32) does: a triangle filter widened by the
 * downscale factor (antialiased), 22-bit fixed-point coefficients, horizontal pass first with a
 * uint8 intermediate, then the vertical pass. Pure JS, no sharp, so it is exact and runs anywhere.
 */

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

interface Coefficients {
  /** First source pixel of each output pixel. */
  readonly start: Int32Array;
  /** Number of source pixels of each output pixel. */
  readonly size: Int32Array;
  /** Fixed-point weights, `ksize` per output pixel. */
  readonly weights: Int32Array;
  readonly ksize: number;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear filter (support 1). */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) / filterScale);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x] / ww : k[x];
      weights[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[xx] = xmin;
    size[xx] = xmax;
  }
  return { start, size, weights, ksize };
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

/**
 * Resizes one uint8 HWC image. Returns a new [outHeight, outWidth, channels] array.
 * A dimension whose size does not change skips its pass, as in Pillow.
 */
export function resizeBilinear(
  src: Uint8Array,
  height: number,
  width: number,
  channels: number,
  outHeight: number,
  outWidth: number,
): Uint8Array {
  if (src.length !== height * width * channels) {
    throw new Error(`resizeBilinear: src has ${src.length} bytes, expected ${height}x${width}x${channels}`);
  }
  let cur = src;
  let curW = width;
  if (outWidth !== width) {
    const c = coefficients(width, outWidth);
    const out = new Uint8Array(height * outWidth * channels);
    for (let y = 0; y < height; y++) {
      const row = y * width * channels;
      for (let xx = 0; xx < outWidth; xx++) {
        const k0 = xx * c.ksize;
        for (let ch = 0; ch < channels; ch++) {
          let ss = HALF;
          for (let x = 0; x < c.size[xx]; x++) ss += cur[row + (x + c.start[xx]) * channels + ch] * c.weights[k0 + x];
          out[(y * outWidth + xx) * channels + ch] = clip8(ss);
        }
      }
    }
    cur = out;
    curW = outWidth;
  }
  if (outHeight !== height) {
    const c = coefficients(height, outHeight);
    const out = new Uint8Array(outHeight * curW * channels);
    const stride = curW * channels;
    for (let yy = 0; yy < outHeight; yy++) {
      const k0 = yy * c.ksize;
      for (let i = 0; i < stride; i++) {
        let ss = HALF;
        for (let y = 0; y < c.size[yy]; y++) ss += cur[(y + c.start[yy]) * stride + i] * c.weights[k0 + y];
        out[yy * stride + i] = clip8(ss);
      }
    }
    cur = out;
  }
  return cur === src ? src.slice() : cur;
}
