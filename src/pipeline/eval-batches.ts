/** Plain (unaugmented) uint8 batches for evaluation. */
import type { ImageSet } from '../data/image-set.js';

/** One evaluation batch: n images, uint8 NHWC, with their labels and indices into the set. */
export interface EvalBatch {
  /** [n, H, W, C] uint8, a copy owned by the receiver. */
  readonly images: Uint8Array;
  /** [n] int32. */
  readonly labels: Int32Array;
  /** [n] indices into the set. */
  readonly indices: Int32Array;
}

/**
 * Yields `indices` of `set` (all images in order when null) in batches of `batchSize`; the last
 * batch may be smaller. No augmentation.
 */
export function* iterateEvalBatches(
  set: ImageSet,
  indices: Int32Array | null,
  batchSize: number,
): Generator<EvalBatch, void, undefined> {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new Error(`iterateEvalBatches: batchSize must be a positive integer, got ${batchSize}`);
  }
  const size = set.height * set.width * set.channels;
  const total = indices === null ? set.count : indices.length;
  for (let start = 0; start < total; start += batchSize) {
    const n = Math.min(batchSize, total - start);
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = indices === null ? start + i : indices[start + i];
    const images = new Uint8Array(n * size);
    const labels = new Int32Array(n);
    if (indices === null) {
      images.set(set.images.subarray(start * size, (start + n) * size));
      labels.set(set.labels.subarray(start, start + n));
    } else {
      for (let i = 0; i < n; i++) {
        const k = idx[i];
        if (!(k >= 0 && k < set.count)) throw new Error(`iterateEvalBatches: index ${k} outside 0..${set.count - 1}`);
        images.set(set.images.subarray(k * size, (k + 1) * size), i * size);
        labels[i] = set.labels[k];
      }
    }
    yield { images, labels, indices: idx };
  }
}
