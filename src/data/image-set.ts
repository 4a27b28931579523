/**
 * Images as they come from disk: uint8 NHWC (0..255) plus int32 labels. Data stays uint8 until a
 * batch tensor is formed (docs/ARCHITECTURE.md); augmentation works on these arrays in worker threads.
 */
export interface ImageSet {
  /** uint8, length count*height*width*channels, NHWC order. */
  readonly images: Uint8Array;
  /** int32 class ids in [0, numClasses). */
  readonly labels: Int32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** A dataset with a training set (split into labeled/unlabeled/validation) and a test set. */
export interface Dataset {
  /** Name as given by `--dataset`, e.g. `fashion-mnist`, `cifar10`. */
  readonly name: string;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly train: ImageSet;
  readonly test: ImageSet;
  /** Per-channel normalisation applied when a batch tensor is formed (values in 0..1 units). */
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Bytes per image. */
export function imageSize(set: Pick<ImageSet, 'height' | 'width' | 'channels'>): number {
  return set.height * set.width * set.channels;
}
