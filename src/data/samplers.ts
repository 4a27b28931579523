/**
 * Seeded samplers: pure functions of (seed, stream, step), no tfjs (they run anywhere, workers
 * included). Because the sample at global step t is a function of t alone, a pipeline's whole
 * state is "the next step index", which makes `--resume` trivial and exact.
 *
 * A sampler returns POSITIONS into a pool of `count` items (0..count−1); the caller maps them
 * through its index array (e.g. the labeled split's indices into the training set).
 */
import { deriveSeed, Rng } from '../util/rng.js';

/** Stream ids for `deriveSeed`, so labeled and unlabeled orders are independent. */
export const SamplerStream = {
  labeled: 1,
  unlabeled: 2,
} as const;

/** Draws the positions of one batch. */
export interface BatchSampler {
  /** Size of the pool sampled from. */
  readonly count: number;
  /** Positions (0..count−1) of the `batchSize` samples of global step `step` (0-based). */
  batchAt(step: number, batchSize: number): Int32Array;
}

/** The permutation of 0..count−1 used in `epoch` of a stream: `Rng(deriveSeed(seed, stream, epoch))`. */
export function epochPermutation(count: number, seed: number, stream: number, epoch: number): Int32Array {
  return new Rng(deriveSeed(seed, stream, epoch)).permutation(count);
}

function assertCount(fn: string, count: number): void {
  if (!(Number.isInteger(count) && count > 0)) throw new Error(`${fn}: count must be a positive integer, got ${count}`);
}

function assertStep(fn: string, step: number, batchSize: number): void {
  if (!(Number.isInteger(step) && step >= 0)) throw new Error(`${fn}: step must be an integer >= 0, got ${step}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 0)) {
    throw new Error(`${fn}: batchSize must be an integer >= 0, got ${batchSize}`);
  }
}

/**
 * Sampling without replacement, epoch by epoch, as the official code's `RandomSampler`
 * (ytaek-oh/daso `lib/dataset/loader/build.py`): the stream is the concatenation of one fresh
 * permutation per epoch, cut into consecutive batches; a batch may straddle two epochs (no sample
 * dropped, none repeated within an epoch). Step t reads stream positions t·B .. t·B+B−1.
 */
export class EpochSampler implements BatchSampler {
  readonly count: number;
  private readonly seed: number;
  private readonly stream: number;
  // Memo of the last two epochs' permutations (a batch spans at most two when B <= count).
  private readonly cache = new Map<number, Int32Array>();

  constructor(count: number, seed: number, stream: number) {
    assertCount('EpochSampler', count);
    this.count = count;
    this.seed = seed;
    this.stream = stream;
  }

  /** The permutation of one epoch. */
  permutation(epoch: number): Int32Array {
    let perm = this.cache.get(epoch);
    if (perm === undefined) {
      perm = epochPermutation(this.count, this.seed, this.stream, epoch);
      this.cache.set(epoch, perm);
      if (this.cache.size > 2) this.cache.delete(this.cache.keys().next().value as number);
    }
    return perm;
  }

  batchAt(step: number, batchSize: number): Int32Array {
    assertStep('EpochSampler.batchAt', step, batchSize);
    const out = new Int32Array(batchSize);
    const start = step * batchSize;
    for (let i = 0; i < batchSize; i++) {
      const pos = start + i;
      out[i] = this.permutation(Math.floor(pos / this.count))[pos % this.count];
    }
    return out;
  }
}

/**
 * Class-level sampling probabilities p_c ∝ n_c^q (docs/methods.md §3): q = 1 instance-balanced,
 * q = 0 class-balanced, q = ½ square-root. Classes with n_c = 0 get p_c = 0.
 */
export function classSamplingProbabilities(classCounts: ArrayLike<number>, q: number): Float64Array {
  const p = new Float64Array(classCounts.length);
  let total = 0;
  for (let c = 0; c < classCounts.length; c++) {
    p[c] = classCounts[c] > 0 ? Math.pow(classCounts[c], q) : 0;
    total += p[c];
  }
  if (!(total > 0)) throw new Error('classSamplingProbabilities: every class count is 0');
  for (let c = 0; c < p.length; c++) p[c] /= total;
  return p;
}

/**
 * Class-aware sampling with replacement: each sample picks class c with probability p_c ∝ n_c^q,
 * then a uniform member of that class. Step t uses `Rng(deriveSeed(seed, stream, t))`, so it is a
 * pure function of t like `EpochSampler`.
 */
export class ClassAwareSampler implements BatchSampler {
  readonly count: number;
  /** p_c per class. */
  readonly probabilities: Float64Array;
  private readonly seed: number;
  private readonly stream: number;
  private readonly cumulative: Float64Array;
  private readonly members: Int32Array[];

  /**
   * @param labels class of each pool item, [count], values in 0..numClasses−1
   * @param q exponent of n_c (1 instance-balanced, 0 class-balanced, ½ square-root)
   */
  constructor(labels: Int32Array, q: number, seed: number, stream: number) {
    assertCount('ClassAwareSampler', labels.length);
    this.count = labels.length;
    this.seed = seed;
    this.stream = stream;
    let numClasses = 0;
    for (const y of labels) {
      if (y < 0) throw new Error(`ClassAwareSampler: labels must be >= 0, got ${y}`);
      numClasses = Math.max(numClasses, y + 1);
    }
    const counts = new Int32Array(numClasses);
    for (const y of labels) counts[y]++;
    this.members = Array.from(counts, (n) => new Int32Array(n));
    const fill = new Int32Array(numClasses);
    labels.forEach((y, i) => {
      this.members[y][fill[y]++] = i;
    });
    this.probabilities = classSamplingProbabilities(counts, q);
    this.cumulative = new Float64Array(numClasses);
    let acc = 0;
    for (let c = 0; c < numClasses; c++) this.cumulative[c] = acc += this.probabilities[c];
  }

  batchAt(step: number, batchSize: number): Int32Array {
    assertStep('ClassAwareSampler.batchAt', step, batchSize);
    const rng = new Rng(deriveSeed(this.seed, this.stream, step));
    const out = new Int32Array(batchSize);
    const last = this.cumulative.length - 1;
    for (let i = 0; i < batchSize; i++) {
      const u = rng.float();
      let c = 0;
      while (c < last && (u >= this.cumulative[c] || this.members[c].length === 0)) c++;
      const m = this.members[c];
      out[i] = m[rng.int(m.length)];
    }
    return out;
  }
}

/**
 * Samplers `--sampler` accepts for the labeled batch: `instance-balanced` is the official
 * SSL code's epoch-wise shuffle (each image once per epoch); `class-balanced` (q = 0) and
 * `square-root` (q = ½) draw a class with p_c ∝ n_c^q, then a uniform member of it.
 */
export const LABELED_SAMPLERS = ['instance-balanced', 'class-balanced', 'square-root'] as const;
export type LabeledSamplerName = (typeof LABELED_SAMPLERS)[number];

/**
 * The labeled-batch sampler of a run, over positions into the labeled split.
 * @param labels class of each labeled image, in split order
 */
export function createLabeledSampler(name: LabeledSamplerName, labels: Int32Array, seed: number): BatchSampler {
  switch (name) {
    case 'instance-balanced':
      return new EpochSampler(labels.length, seed, SamplerStream.labeled);
    case 'class-balanced':
      return new ClassAwareSampler(labels, 0, seed, SamplerStream.labeled);
    case 'square-root':
      return new ClassAwareSampler(labels, 0.5, seed, SamplerStream.labeled);
  }
}
