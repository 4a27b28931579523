/**
 * The SSL training batch stream (docs/ARCHITECTURE.md, "Pull, don't flood"): samplers -> weak/strong
 * augmentation in worker threads -> uint8 NHWC batches, pulled by the trainer with a bounded
 * prefetch.
 *
 * Determinism: the samples of step t come from the epoch samplers (a pure function of t) and every
 * augmented view is drawn from its own `Rng(deriveSeed(seed, AUG_STREAM, t, view, position))`, so a
 * batch is identical whatever the worker count, the scheduling, or the step the stream started
 * at. The stream's whole state is the next step index (`startStep` on resume).
 *
 * Bounded prefetch: steps are requested from an RxJS Subject and produced through `mergeMap` with
 * concurrency `prefetch`; a new step is requested only when the consumer takes one, so batches
 * in flight + batches ready never exceed `prefetch`, however slow the consumer.
 */
import { Subject, from, mergeMap, type Subscription } from 'rxjs';
import { defaultCutoutSize } from '../augment/cutout.js';
import type { ImageDims } from '../augment/image.js';
import type { ImageSet } from '../data/image-set.js';
import { EpochSampler, SamplerStream, type BatchSampler } from '../data/samplers.js';
import { deriveSeed } from '../util/rng.js';
import type { AugmentMode, AugmentTask } from './augment-task.js';
import { createAugmentPool, defaultWorkerCount, type AugmentPool } from './worker-pool.js';

/** `deriveSeed` stream id of augmentation seeds (samplers use 1 and 2). */
export const AUG_STREAM = 3;

/** The three views of a batch, as the `view` component of a sample's seed. */
export const View = { labeledWeak: 0, unlabeledWeak: 1, unlabeledStrong: 2 } as const;

/**
 * The `view` seed component of the k-th (0-based) weak or strong view of the unlabeled images.
 * View 0 keeps the ids of `View` (so one-view batches are unchanged); further views take the odd
 * (weak: 3, 5, ...) and even (strong: 4, 6, ...) ids above them, so no two views share seeds.
 */
export function unlabeledViewId(kind: 'weak' | 'strong', k: number): number {
  if (!(Number.isInteger(k) && k >= 0)) throw new Error(`unlabeledViewId: k must be an integer >= 0, got ${k}`);
  if (k === 0) return kind === 'weak' ? View.unlabeledWeak : View.unlabeledStrong;
  return kind === 'weak' ? 2 * k + 1 : 2 * k + 2;
}

/** Augmentation settings of the stream. */
export interface SslAugmentOptions {
  /** Reflect padding of the weak crop, pixels (4 in FixMatch/DASO). */
  readonly padding: number;
  /** Cutout side of the strong view; default half the image side (16 at 32 px, 14 at 28 px). */
  readonly cutoutSize?: number;
  /** Produce the strong view of unlabeled images; when false `strongImages` is empty. */
  readonly strong: boolean;
  /** Weak views per unlabeled image (MixMatch: K = 2); default 1. Views 2.. go to `extraWeakImages`. */
  readonly weakViews?: number;
  /** Strong views per unlabeled image when `strong` (ReMixMatch: K = 2); default 1. Views 2.. go to `extraStrongImages`. */
  readonly strongViews?: number;
}

/** Options of `createSslBatchStream`. */
export interface SslBatchStreamOptions {
  /** The training set the index arrays point into. Borrowed; not modified. */
  readonly train: ImageSet;
  /** Indices into `train` of the labeled split. */
  readonly labeledIdx: Int32Array;
  /**
   * Labels of `labeledIdx`, position by position; default `train.labels` at those indices. CReST's
   * pseudo-labeled additions are trained on their pseudo-labels.
   */
  readonly labeledLabels?: Int32Array;
  /** Indices into `train` of the unlabeled split (may be empty when `unlabeledBatch` is 0). */
  readonly unlabeledIdx: Int32Array;
  /** Labeled images per step (B, 64 in FixMatch/DASO). */
  readonly labeledBatch: number;
  /** Unlabeled images per step (μ·B, 128 in FixMatch/DASO). */
  readonly unlabeledBatch: number;
  /** Run seed: sampling order and augmentation. */
  readonly seed: number;
  /** First step to produce (0, or the checkpoint's next step on resume). */
  readonly startStep: number;
  /** Batches ready or in flight at most. Default 3. */
  readonly prefetch?: number;
  /** Augmentation worker threads; 0 = in-process. Default min(2, cores). */
  readonly workers?: number;
  readonly augment: SslAugmentOptions;
  /**
   * Sampler of positions into `labeledIdx` (e.g. `ClassAwareSampler` over the labeled split's
   * labels). It must be a pure function of the step, or batches stop being reproducible.
   * Default: `EpochSampler(labeledIdx.length, seed, SamplerStream.labeled)`.
   */
  readonly labeledSampler?: BatchSampler;
}

/**
 * One training step's data, uint8 NHWC (0..255), every array owned by the receiver. Labeled
 * images got the weak augmentation; unlabeled images come as a weak and a strong view of the
 * same images (independent flips/crops, as the official code's two transforms).
 */
export interface SslBatch {
  readonly step: number;
  /** [B, H, W, C] uint8. */
  readonly labeledImages: Uint8Array;
  /** [B] int32. */
  readonly labeledLabels: Int32Array;
  /** [U, H, W, C] uint8. */
  readonly weakImages: Uint8Array;
  /** [U, H, W, C] uint8 (empty when `augment.strong` is false). */
  readonly strongImages: Uint8Array;
  /**
   * Weak views 2..K of the same unlabeled images, each [U, H, W, C] uint8, independently drawn
   * (seed view id `unlabeledViewId('weak', k)`); absent or empty when one weak view is asked for.
   */
  readonly extraWeakImages?: readonly Uint8Array[];
  /** Strong views 2..K likewise (`unlabeledViewId('strong', k)`); absent or empty for one. */
  readonly extraStrongImages?: readonly Uint8Array[];
  /** [U] ground-truth labels of the unlabeled images: only for pseudo-label quality reports. */
  readonly unlabeledLabels: Int32Array;
  /** [U] indices into the training set of the unlabeled images. */
  readonly unlabeledIndices: Int32Array;
  /** [U] positions of the unlabeled images in the unlabeled split (0..unlabeledIdx.length−1). */
  readonly unlabeledPositions: Int32Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Queue instrumentation, for tests and diagnostics. */
export interface SslBatchStreamStats {
  /** Batches being produced now. */
  readonly inFlight: number;
  /** Batches produced and not yet taken. */
  readonly ready: number;
  /** Highest inFlight + ready seen. Never above `prefetch`. */
  readonly maxOutstanding: number;
  /** Highest `ready` seen. */
  readonly maxReady: number;
  /** Bytes of image data held in ready batches now, and the most seen. */
  readonly readyBytes: number;
  readonly maxReadyBytes: number;
  /** Batches handed to the consumer so far. */
  readonly delivered: number;
}

/** A pull-based source of training batches. */
export interface SslBatchSource {
  /** The batch of step `this.step`; successive calls return successive steps. */
  next(): Promise<SslBatch>;
  /** The step the next call to `next()` returns (a checkpoint stores this). */
  readonly step: number;
  stats(): SslBatchStreamStats;
  /** Stops the workers; pending `next()` calls reject. Idempotent. */
  close(): Promise<void>;
}

function assertInt(name: string, v: number, min: number): void {
  if (!(Number.isInteger(v) && v >= min)) throw new Error(`createSslBatchStream: ${name} must be an integer >= ${min}, got ${v}`);
}

function assertIndices(name: string, idx: Int32Array, count: number): void {
  for (let i = 0; i < idx.length; i++) {
    if (!(idx[i] >= 0 && idx[i] < count)) {
      throw new Error(`createSslBatchStream: ${name}[${i}] = ${idx[i]} outside the training set 0..${count - 1}`);
    }
  }
}

/** Splits n samples into at most `parts` contiguous chunks [start, end). */
function chunks(n: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const k = Math.max(1, Math.min(parts, n));
  for (let i = 0; i < k; i++) {
    const start = Math.floor((i * n) / k);
    const end = Math.floor(((i + 1) * n) / k);
    if (end > start) out.push([start, end]);
  }
  return out;
}

interface Waiter {
  readonly resolve: (b: SslBatch) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Creates the batch stream and starts producing `prefetch` batches from `startStep`.
 * Call `close()` when done (idle workers do not keep the process alive, but they hold memory).
 */
export function createSslBatchStream(opts: SslBatchStreamOptions): SslBatchSource {
  const { train, labeledIdx, unlabeledIdx, labeledBatch, unlabeledBatch, seed, startStep } = opts;
  const prefetch = opts.prefetch ?? 3;
  const workers = opts.workers ?? defaultWorkerCount();
  assertInt('labeledBatch', labeledBatch, 0);
  assertInt('unlabeledBatch', unlabeledBatch, 0);
  assertInt('startStep', startStep, 0);
  assertInt('prefetch', prefetch, 1);
  assertInt('workers', workers, 0);
  assertInt('augment.padding', opts.augment.padding, 0);
  if (labeledBatch + unlabeledBatch === 0) throw new Error('createSslBatchStream: labeledBatch + unlabeledBatch must be > 0');
  if (labeledBatch > 0 && labeledIdx.length === 0) throw new Error('createSslBatchStream: labeledIdx is empty');
  if (unlabeledBatch > 0 && unlabeledIdx.length === 0) throw new Error('createSslBatchStream: unlabeledIdx is empty');
  assertIndices('labeledIdx', labeledIdx, train.count);
  assertIndices('unlabeledIdx', unlabeledIdx, train.count);
  const labelsOf = opts.labeledLabels;
  if (labelsOf !== undefined && labelsOf.length !== labeledIdx.length) {
    throw new Error(`createSslBatchStream: labeledLabels has ${labelsOf.length} entries but labeledIdx has ${labeledIdx.length}`);
  }

  const dims: ImageDims = { height: train.height, width: train.width, channels: train.channels };
  const size = dims.height * dims.width * dims.channels;
  const cutoutSize = opts.augment.cutoutSize ?? defaultCutoutSize(dims);
  const strong = opts.augment.strong;
  const weakViews = opts.augment.weakViews ?? 1;
  const strongViews = strong ? (opts.augment.strongViews ?? 1) : 0;
  assertInt('augment.weakViews', weakViews, 1);
  if (strong) assertInt('augment.strongViews', strongViews, 1);
  if (opts.labeledSampler !== undefined && opts.labeledSampler.count !== labeledIdx.length) {
    throw new Error(
      `createSslBatchStream: labeledSampler covers ${opts.labeledSampler.count} items but labeledIdx has ${labeledIdx.length}`,
    );
  }
  const labeledSampler =
    labeledBatch > 0 ? (opts.labeledSampler ?? new EpochSampler(labeledIdx.length, seed, SamplerStream.labeled)) : null;
  const unlabeledSampler =
    unlabeledBatch > 0 ? new EpochSampler(unlabeledIdx.length, seed, SamplerStream.unlabeled) : null;
  const pool: AugmentPool = createAugmentPool(train.images, dims, workers);
  const parts = Math.max(1, pool.size);

  /** Augments `indices` as one view, split across the workers; resolves to [n, h, w, c]. */
  const augmentView = async (mode: AugmentMode, indices: Int32Array, step: number, view: number): Promise<Uint8Array> => {
    const out = new Uint8Array(indices.length * size);
    const jobs = chunks(indices.length, parts).map(async ([s, e]) => {
      const seeds = new Uint32Array(e - s);
      for (let i = s; i < e; i++) seeds[i - s] = deriveSeed(seed, AUG_STREAM, step, view, i);
      const task: AugmentTask = { mode, indices: indices.slice(s, e), seeds, padding: opts.augment.padding, cutoutSize };
      out.set(await pool.run(task), s * size);
    });
    await Promise.all(jobs);
    return out;
  };

  const produce = async (step: number): Promise<SslBatch> => {
    const lIdx = new Int32Array(labeledBatch);
    const lLab = new Int32Array(labeledBatch);
    if (labeledSampler !== null) {
      const pos = labeledSampler.batchAt(step, labeledBatch);
      for (let i = 0; i < labeledBatch; i++) {
        lIdx[i] = labeledIdx[pos[i]];
        lLab[i] = labelsOf !== undefined ? labelsOf[pos[i]] : train.labels[lIdx[i]];
      }
    }
    const uIdx = new Int32Array(unlabeledBatch);
    const uLab = new Int32Array(unlabeledBatch);
    let uPos: Int32Array = new Int32Array(unlabeledBatch);
    if (unlabeledSampler !== null) {
      const pos = unlabeledSampler.batchAt(step, unlabeledBatch);
      uPos = pos;
      for (let i = 0; i < unlabeledBatch; i++) {
        uIdx[i] = unlabeledIdx[pos[i]];
        uLab[i] = train.labels[uIdx[i]];
      }
    }
    const views = (mode: 'weak' | 'strong', count: number): Array<Promise<Uint8Array>> =>
      Array.from({ length: count }, (_, k) => augmentView(mode, uIdx, step, unlabeledViewId(mode, k)));
    const [labeledImages, weak, strongs] = await Promise.all([
      augmentView('weak', lIdx, step, View.labeledWeak),
      Promise.all(views('weak', weakViews)),
      Promise.all(views('strong', strongViews)),
    ]);
    return {
      step,
      labeledImages,
      labeledLabels: lLab,
      weakImages: weak[0],
      strongImages: strongs[0] ?? new Uint8Array(0),
      extraWeakImages: weak.slice(1),
      extraStrongImages: strongs.slice(1),
      unlabeledLabels: uLab,
      unlabeledIndices: uIdx,
      unlabeledPositions: uPos,
      height: dims.height,
      width: dims.width,
      channels: dims.channels,
    };
  };

  const batchBytes = (b: SslBatch): number =>
    [b.labeledImages, b.weakImages, b.strongImages, ...(b.extraWeakImages ?? []), ...(b.extraStrongImages ?? [])].reduce((n, a) => n + a.length, 0);

  // Stream state.
  let nextStep = startStep; // next step handed out by next()
  let requested = startStep; // next step to request from the producer
  let inFlight = 0;
  const ready = new Map<number, SslBatch>();
  const waiters = new Map<number, Waiter>();
  let failure: Error | null = null;
  let closed = false;
  let maxOutstanding = 0;
  let maxReady = 0;
  let readyBytes = 0;
  let maxReadyBytes = 0;
  let delivered = 0;

  const requests$ = new Subject<number>();
  const note = (): void => {
    maxOutstanding = Math.max(maxOutstanding, inFlight + ready.size);
    maxReady = Math.max(maxReady, ready.size);
    maxReadyBytes = Math.max(maxReadyBytes, readyBytes);
  };
  const request = (): void => {
    inFlight++;
    note();
    requests$.next(requested++);
  };
  const failAll = (err: Error): void => {
    if (failure === null) failure = err;
    for (const w of waiters.values()) w.reject(failure);
    waiters.clear();
  };
  const handOver = (batch: SslBatch, w: Waiter): void => {
    delivered++;
    w.resolve(batch);
    if (!closed && failure === null) request();
  };

  const subscription: Subscription = requests$
    .pipe(mergeMap((step) => from(produce(step)), prefetch))
    .subscribe({
      next: (batch) => {
        inFlight--;
        const w = waiters.get(batch.step);
        if (w !== undefined) {
          waiters.delete(batch.step);
          handOver(batch, w);
        } else {
          ready.set(batch.step, batch);
          readyBytes += batchBytes(batch);
          note();
        }
      },
      error: (err: unknown) => failAll(err instanceof Error ? err : new Error(String(err))),
    });

  for (let i = 0; i < prefetch; i++) request();

  return {
    get step(): number {
      return nextStep;
    },
    next(): Promise<SslBatch> {
      if (closed) return Promise.reject(new Error('SslBatchSource: closed'));
      if (failure !== null) return Promise.reject(failure);
      const step = nextStep++;
      return new Promise<SslBatch>((resolve, reject) => {
        const w: Waiter = { resolve, reject };
        const batch = ready.get(step);
        if (batch !== undefined) {
          ready.delete(step);
          readyBytes -= batchBytes(batch);
          handOver(batch, w);
        } else {
          waiters.set(step, w);
        }
      });
    },
    stats(): SslBatchStreamStats {
      return { inFlight, ready: ready.size, maxOutstanding, maxReady, readyBytes, maxReadyBytes, delivered };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      failAll(new Error('SslBatchSource: closed'));
      subscription.unsubscribe();
      requests$.complete();
      ready.clear();
      readyBytes = 0;
      await pool.close();
    },
  };
}
