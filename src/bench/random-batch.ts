import type { SslBatch } from '../pipeline/index.js';
import { Rng } from '../util/rng.js';

/** Shape of the benchmark batches: CIFAR-sized images, FixMatch's 64 labeled and μ·64 = 128 unlabeled. */
export interface BenchBatchShape {
  readonly labeled: number;
  /** Unlabeled images per view (weak and strong); 0 for the supervised step. */
  readonly unlabeled: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly numClasses: number;
}

/** 64 labeled + 128 weak + 128 strong 32x32x3 images, 10 classes. */
export const FIXMATCH_BATCH: BenchBatchShape = { labeled: 64, unlabeled: 128, height: 32, width: 32, channels: 3, numClasses: 10 };

/**
 * A batch of uniformly random uint8 pixels and labels, made once and fed to every timed step.
 * Augmentation is not part of the timed step (it runs in worker threads during training and
 * overlaps with it); random pixels cost the network exactly what real ones do.
 */
export function randomSslBatch(shape: BenchBatchShape, seed: number): SslBatch {
  const rng = new Rng(seed);
  const pixels = shape.height * shape.width * shape.channels;
  const bytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n * pixels);
    for (let i = 0; i < out.length; i++) out[i] = rng.nextUint32() & 0xff;
    return out;
  };
  const labels = (n: number): Int32Array => Int32Array.from({ length: n }, () => rng.int(shape.numClasses));
  return {
    step: 0,
    labeledImages: bytes(shape.labeled),
    labeledLabels: labels(shape.labeled),
    weakImages: bytes(shape.unlabeled),
    strongImages: bytes(shape.unlabeled),
    unlabeledLabels: labels(shape.unlabeled),
    unlabeledIndices: Int32Array.from({ length: shape.unlabeled }, (_, i) => i),
    unlabeledPositions: Int32Array.from({ length: shape.unlabeled }, (_, i) => i),
    height: shape.height,
    width: shape.width,
    channels: shape.channels,
  };
}
