/**
 * Cutout as the official FixMatch/DASO code draws it (`CutoutAbs` in ytaek-oh/daso
 * `lib/dataset/transform/transformation.py`), which differs from the paper's "square of side v":
 * centre (x, y) uniform over the image, x0 = int(max(0, x − v/2)), x1 = min(width, x0 + v) (same
 * for y), then PIL's `ImageDraw.rectangle` paints BOTH end points (clipped to the image). So up to
 * (v+1)×(v+1) pixels are painted, and near the left/top edge the square is shifted inward, not
 * clipped. We follow the official code, not the paper.
 */
import { assertImage, type ImageDims } from './image.js';
import type { Rng } from '../util/rng.js';

/** Grey fill of the official code, (127, 127, 127); 127 on a grey image. */
export const CUTOUT_FILL = 127;

/** The painted rectangle, inclusive end points already clipped to the image. */
export interface CutoutBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** The default Cutout side: half the image side (16 at 32 px, 14 at 28 px). */
export function defaultCutoutSize(dims: ImageDims): number {
  return Math.floor(Math.min(dims.height, dims.width) / 2);
}

/**
 * The box painted for a centre (cx, cy) in continuous pixel units ([0, width) × [0, height)) and
 * side `size`, inclusive end points clipped to the image.
 */
export function cutoutBox(dims: ImageDims, size: number, cx: number, cy: number): CutoutBox {
  const x0 = Math.trunc(Math.max(0, cx - size / 2));
  const y0 = Math.trunc(Math.max(0, cy - size / 2));
  const x1 = Math.trunc(Math.min(dims.width, x0 + size));
  const y1 = Math.trunc(Math.min(dims.height, y0 + size));
  return { x0, y0, x1: Math.min(x1, dims.width - 1), y1: Math.min(y1, dims.height - 1) };
}

/** Paints `box` (inclusive) with `CUTOUT_FILL` in every channel; returns a new image. */
export function paintCutout(img: Uint8Array, dims: ImageDims, box: CutoutBox): Uint8Array {
  assertImage('paintCutout', img, dims);
  const out = img.slice();
  const { width: w, channels: ch } = dims;
  for (let y = box.y0; y <= box.y1; y++) {
    out.fill(CUTOUT_FILL, (y * w + box.x0) * ch, (y * w + box.x1 + 1) * ch);
  }
  return out;
}

/** Cutout with a centre drawn from `rng` (x first, then y, as the official code). */
export function cutout(img: Uint8Array, dims: ImageDims, size: number, rng: Rng): Uint8Array {
  if (!(size >= 0)) throw new Error(`cutout: size must be >= 0, got ${size}`);
  const cx = rng.float() * dims.width;
  const cy = rng.float() * dims.height;
  return paintCutout(img, dims, cutoutBox(dims, size, cx, cy));
}
