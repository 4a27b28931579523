/** The SSL batch stream: determinism across workers and restarts, content, bounded prefetch. */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { weakAugment } from '../../src/augment/weak.js';
import { strongAugment } from '../../src/augment/strong.js';
import {
  AUG_STREAM,
  View,
  createAugmentPool,
  createSslBatchStream,
  unlabeledViewId,
  type SslBatch,
  type SslBatchSource,
  type SslBatchStreamOptions,
} from '../../src/pipeline/index.js';
import { ClassAwareSampler, EpochSampler, SamplerStream } from '../../src/data/samplers.js';
import { Rng, deriveSeed } from '../../src/util/rng.js';
import { constantSet, randomSet } from './fixtures.js';

const open: SslBatchSource[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function stream(opts: SslBatchStreamOptions): SslBatchSource {
  const s = createSslBatchStream(opts);
  open.push(s);
  return s;
}

const train = randomSet(60, 8, 8, 3);
const labeledIdx = Int32Array.from({ length: 20 }, (_, i) => i * 3);
const unlabeledIdx = Int32Array.from({ length: 40 }, (_, i) => i + (i >= 20 ? 20 : 0) + 1).map((v) => Math.min(v, 59));

function base(overrides: Partial<SslBatchStreamOptions> = {}): SslBatchStreamOptions {
  return {
    train,
    labeledIdx,
    unlabeledIdx,
    labeledBatch: 6,
    unlabeledBatch: 12,
    seed: 5,
    startStep: 0,
    workers: 0,
    augment: { padding: 2, strong: true },
    ...overrides,
  };
}

async function take(s: SslBatchSource, n: number): Promise<SslBatch[]> {
  const out: SslBatch[] = [];
  for (let i = 0; i < n; i++) out.push(await s.next());
  return out;
}

const plain = (b: SslBatch) => ({
  step: b.step,
  labeledImages: Array.from(b.labeledImages),
  labeledLabels: Array.from(b.labeledLabels),
  weakImages: Array.from(b.weakImages),
  strongImages: Array.from(b.strongImages),
  unlabeledLabels: Array.from(b.unlabeledLabels),
  unlabeledIndices: Array.from(b.unlabeledIndices),
});

describe('determinism', () => {
  it('workers 0 and workers 2 give identical batches', async () => {
    const inProcess = await take(stream(base({ workers: 0 })), 5);
    const threaded = await take(stream(base({ workers: 2 })), 5);
    expect(threaded.map(plain)).toEqual(inProcess.map(plain));
  });

  it('startStep = k gives the batch k of a run from 0', async () => {
    const fromZero = await take(stream(base()), 6);
    const resumed = stream(base({ startStep: 4 }));
    expect(resumed.step).toBe(4);
    const [b4, b5] = await take(resumed, 2);
    expect(resumed.step).toBe(6);
    expect(plain(b4)).toEqual(plain(fromZero[4]));
    expect(plain(b5)).toEqual(plain(fromZero[5]));
  });

  it('each view is the augmentation of its image with seed deriveSeed(seed, AUG_STREAM, step, view, position)', async () => {
    const [, b] = await take(stream(base()), 2);
    const dims = { height: 8, width: 8, channels: 3 };
    const size = 192;
    const img = (k: number) => train.images.subarray(k * size, (k + 1) * size);
    const uPos = new EpochSampler(unlabeledIdx.length, 5, SamplerStream.unlabeled).batchAt(1, 12);
    expect(Array.from(b.unlabeledIndices)).toEqual(Array.from(uPos, (p) => unlabeledIdx[p]));
    expect(Array.from(b.unlabeledPositions)).toEqual(Array.from(uPos));
    for (const i of [0, 11]) {
      const k = b.unlabeledIndices[i];
      const weak = weakAugment(img(k), dims, new Rng(deriveSeed(5, AUG_STREAM, 1, View.unlabeledWeak, i)), { padding: 2 });
      const strong = strongAugment(img(k), dims, new Rng(deriveSeed(5, AUG_STREAM, 1, View.unlabeledStrong, i)), {
        padding: 2,
      });
      expect(Array.from(b.weakImages.subarray(i * size, (i + 1) * size))).toEqual(Array.from(weak));
      expect(Array.from(b.strongImages.subarray(i * size, (i + 1) * size))).toEqual(Array.from(strong));
      expect(b.unlabeledLabels[i]).toBe(train.labels[k]);
    }
  });
});

describe('several views per unlabeled image (MixMatch: K weak; ReMixMatch: 1 weak + K strong)', () => {
  const views = (b: SslBatch) => ({
    ...plain(b),
    extraWeakImages: (b.extraWeakImages ?? []).map((v) => Array.from(v)),
    extraStrongImages: (b.extraStrongImages ?? []).map((v) => Array.from(v)),
  });

  it('view ids: view 0 keeps View\'s ids, further views take 3, 5, ... (weak) and 4, 6, ... (strong)', () => {
    expect([0, 1, 2].map((k) => unlabeledViewId('weak', k))).toEqual([View.unlabeledWeak, 3, 5]);
    expect([0, 1, 2].map((k) => unlabeledViewId('strong', k))).toEqual([View.unlabeledStrong, 4, 6]);
  });

  it('extra views are the augmentations of the same images with their own seeds; the first views are unchanged', async () => {
    const one = (await take(stream(base()), 2))[1];
    const s = stream(base({ augment: { padding: 2, strong: true, weakViews: 3, strongViews: 2 } }));
    const b = (await take(s, 2))[1];
    // A one-view run's batch is the first views of a many-view run: existing learners see the same data.
    expect(plain(b)).toEqual(plain(one));
    expect(b.extraWeakImages?.length).toBe(2);
    expect(b.extraStrongImages?.length).toBe(1);
    const dims = { height: 8, width: 8, channels: 3 };
    const size = 192;
    for (const i of [0, 11]) {
      const img = train.images.subarray(b.unlabeledIndices[i] * size, (b.unlabeledIndices[i] + 1) * size);
      for (const k of [1, 2]) {
        const weak = weakAugment(img, dims, new Rng(deriveSeed(5, AUG_STREAM, 1, unlabeledViewId('weak', k), i)), { padding: 2 });
        expect(Array.from(b.extraWeakImages![k - 1].subarray(i * size, (i + 1) * size))).toEqual(Array.from(weak));
      }
      const strong = strongAugment(img, dims, new Rng(deriveSeed(5, AUG_STREAM, 1, unlabeledViewId('strong', 1), i)), { padding: 2 });
      expect(Array.from(b.extraStrongImages![0].subarray(i * size, (i + 1) * size))).toEqual(Array.from(strong));
    }
    // Views of one image differ (independent draws).
    expect(Array.from(b.extraWeakImages![0])).not.toEqual(Array.from(b.weakImages));
  });

  it('are identical across worker counts and on resume (startStep)', async () => {
    const augment = { padding: 2, strong: false, weakViews: 2 };
    const inProcess = await take(stream(base({ augment })), 4);
    const threaded = await take(stream(base({ augment, workers: 2 })), 4);
    expect(threaded.map(views)).toEqual(inProcess.map(views));
    const resumed = await take(stream(base({ augment, startStep: 3 })), 1);
    expect(views(resumed[0])).toEqual(views(inProcess[3]));
    expect(inProcess[0].strongImages.length).toBe(0);
    expect(inProcess[0].extraStrongImages).toEqual([]);
  });

  it('refuses a view count below 1', () => {
    expect(() => createSslBatchStream(base({ augment: { padding: 2, strong: true, weakViews: 0 } }))).toThrow(/augment.weakViews must be an integer >= 1/);
  });
});

describe('content', () => {
  it('labeled images and labels match, epochs cover the labeled split once', async () => {
    // Image i is constant i, so a flipped/cropped view still says which image it is.
    const set = constantSet(30, 6, 6, 1);
    const lIdx = Int32Array.from([2, 5, 7, 11, 13, 17, 19, 23, 29, 1]);
    const s = stream({ ...base(), train: set, labeledIdx: lIdx, unlabeledIdx: Int32Array.from([0, 3]), labeledBatch: 5, unlabeledBatch: 2 });
    const seen: number[] = [];
    for (const b of await take(s, 2)) {
      expect([b.height, b.width, b.channels]).toEqual([6, 6, 1]);
      expect(b.labeledImages.length).toBe(5 * 36);
      expect(b.weakImages.length).toBe(2 * 36);
      expect(b.strongImages.length).toBe(2 * 36);
      for (let i = 0; i < 5; i++) {
        const k = b.labeledImages[i * 36];
        expect(b.labeledImages.subarray(i * 36, (i + 1) * 36).every((v) => v === k)).toBe(true);
        expect(b.labeledLabels[i]).toBe(set.labels[k]);
        seen.push(k);
      }
      for (let i = 0; i < 2; i++) expect(b.weakImages[i * 36]).toBe(b.unlabeledIndices[i]);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from(lIdx).sort((a, b) => a - b));
  });

  it('strong: false gives an empty strong view; unlabeledBatch 0 gives empty unlabeled arrays', async () => {
    const [b] = await take(stream(base({ augment: { padding: 2, strong: false } })), 1);
    expect(b.strongImages.length).toBe(0);
    expect(b.weakImages.length).toBe(12 * 192);
    const [c] = await take(stream(base({ unlabeledBatch: 0, unlabeledIdx: new Int32Array(0) })), 1);
    expect([c.weakImages.length, c.strongImages.length, c.unlabeledLabels.length]).toEqual([0, 0, 0]);
    expect(c.labeledLabels.length).toBe(6);
  });

  it('takes a custom labeled sampler (class-aware, q = 0)', async () => {
    const labels = Int32Array.from(labeledIdx, (k) => train.labels[k]);
    const sampler = new ClassAwareSampler(labels, 0, 5, SamplerStream.labeled);
    const [b] = await take(stream(base({ labeledSampler: sampler, labeledBatch: 8 })), 1);
    expect(Array.from(b.labeledLabels)).toEqual(Array.from(sampler.batchAt(0, 8), (p) => labels[p]));
    expect(() => createSslBatchStream(base({ labeledSampler: new EpochSampler(3, 1, 1) }))).toThrow(/labeledSampler/);
  });

  it('rejects indices outside the training set, naming the argument', () => {
    expect(() => createSslBatchStream(base({ labeledIdx: Int32Array.from([0, 60]) }))).toThrow(/labeledIdx\[1\] = 60/);
    expect(() => createSslBatchStream(base({ prefetch: 0 }))).toThrow(/prefetch/);
  });
});

describe('bounded prefetch', () => {
  const idle = async (s: SslBatchSource): Promise<void> => {
    // Let production settle (bounded wait; the assertions below do not depend on timing).
    for (let i = 0; i < 500 && s.stats().inFlight > 0; i++) await new Promise((r) => setTimeout(r, 2));
  };

  it('a slow consumer never sees more than `prefetch` batches queued or in flight', async () => {
    const prefetch = 2;
    const s = stream(base({ workers: 1, prefetch }));
    const batchBytes = (6 + 12 + 12) * 192;
    for (let t = 0; t < 12; t++) {
      await s.next();
      await idle(s);
      const st = s.stats();
      // Idle producer: exactly `prefetch` batches ready, nothing more was made.
      expect(st.inFlight).toBe(0);
      expect(st.ready).toBe(prefetch);
      expect(st.delivered).toBe(t + 1);
    }
    const st = s.stats();
    expect(st.maxOutstanding).toBe(prefetch);
    expect(st.maxReady).toBe(prefetch);
    expect(st.maxReadyBytes).toBe(prefetch * batchBytes);
  });

  it('memory stays flat over many slowly consumed batches', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const big = randomSet(200, 16, 16, 3);
    const s = stream({
      ...base(),
      train: big,
      labeledIdx: Int32Array.from({ length: 100 }, (_, i) => i),
      unlabeledIdx: Int32Array.from({ length: 100 }, (_, i) => 100 + i),
      labeledBatch: 32,
      unlabeledBatch: 64,
      prefetch: 3,
    });
    const batchBytes = (32 + 64 + 64) * 16 * 16 * 3; // 122,880
    const arrayBuffersAfter = async (steps: number): Promise<number> => {
      for (let t = 0; t < steps; t++) {
        await s.next();
        await new Promise((r) => setTimeout(r, 1));
      }
      await idle(s);
      // Array buffer backing stores are freed after a sweep; collect twice around a pause.
      gc();
      await new Promise((r) => setTimeout(r, 50));
      gc();
      return process.memoryUsage().arrayBuffers;
    };
    const early = await arrayBuffersAfter(10);
    const late = await arrayBuffersAfter(150);
    // 150 unbounded batches would hold 18 MB; allow a few batches of slack.
    expect(late - early).toBeLessThan(8 * batchBytes);
    expect(s.stats().maxOutstanding).toBe(3);
  });
});

describe('lifecycle and errors', () => {
  it('close() rejects pending and later next() calls', async () => {
    const s = createSslBatchStream(base({ workers: 1 }));
    const pending = expect(s.next()).rejects.toThrow(/closed/);
    await s.close();
    await pending;
    await expect(s.next()).rejects.toThrow(/closed/);
    await s.close();
  });

  it('a failing worker task rejects with its message', async () => {
    const pool = createAugmentPool(train.images, { height: 8, width: 8, channels: 3 }, 1);
    try {
      const task = { mode: 'weak' as const, indices: Int32Array.from([99]), seeds: Uint32Array.from([1]), padding: 2, cutoutSize: 4 };
      await expect(pool.run(task)).rejects.toThrow(/index 99 outside/);
    } finally {
      await pool.close();
    }
  });
});
