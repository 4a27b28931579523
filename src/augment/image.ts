/**
 * One uint8 image in HWC order (0..255), as augmentation sees it. Augmentation is plain typed-array
 * code without tfjs so that it runs in worker threads (docs/ARCHITECTURE.md, "Data stays uint8").
 */
export interface ImageDims {
  readonly height: number;
  readonly width: number;
  /** 1 (grey, PIL mode `L`) or 3 (RGB). */
  readonly channels: number;
}

/**
 * An augmentation op: pure, returns a new image of the same dims and never writes to `img`.
 * `magnitude` is the op's argument after RandAugment's level -> magnitude mapping (an enhance
 * factor, a bit count, degrees, a shear, a fraction of the side...); ops without one ignore it.
 */
export type AugmentOp = (img: Uint8Array, dims: ImageDims, magnitude: number) => Uint8Array;

/** Bytes in one image. */
export function pixelCount(dims: ImageDims): number {
  return dims.height * dims.width * dims.channels;
}

/** Throws unless `img` holds exactly one image of `dims` with 1 or 3 channels. */
export function assertImage(fn: string, img: Uint8Array, dims: ImageDims): void {
  const { height, width, channels } = dims;
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0)) {
    throw new Error(`${fn}: dims must be positive integers, got ${height}x${width}`);
  }
  if (channels !== 1 && channels !== 3) {
    throw new Error(`${fn}: channels must be 1 or 3, got ${channels}`);
  }
  if (img.length !== height * width * channels) {
    throw new Error(
      `${fn}: img has ${img.length} bytes, expected ${height}x${width}x${channels} = ${height * width * channels}`,
    );
  }
}

/** Applies a 256-entry lookup table per channel (`luts[c]`), as PIL's `Image.point` does. */
export function applyLuts(img: Uint8Array, channels: number, luts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = luts[i % channels][img[i]];
  return out;
}

/** Per-channel 256-bin histograms of an HWC image. */
export function channelHistograms(img: Uint8Array, channels: number): Int32Array[] {
  const hist = Array.from({ length: channels }, () => new Int32Array(256));
  for (let i = 0; i < img.length; i++) hist[i % channels][img[i]]++;
  return hist;
}
