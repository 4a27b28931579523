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
  /** A second labeled sampler of the same step (BBN's re-balancing branch). */
  labeledSecond: 4,
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

/** Members of each class 0..max label, in pool order. */
function membersByClass(fn: string, labels: Int32Array): Int32Array[] {
  let numClasses = 0;
  for (const y of labels) {
    if (y < 0) throw new Error(`${fn}: labels must be >= 0, got ${y}`);
    numClasses = Math.max(numClasses, y + 1);
  }
  const counts = new Int32Array(numClasses);
  for (const y of labels) counts[y]++;
  const members = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(numClasses);
  labels.forEach((y, i) => {
    members[y][fill[y]++] = i;
  });
  return members;
}

/** `batchSize` draws with replacement: a class by `probabilities`, then a uniform member of it. */
function drawByClass(members: readonly Int32Array[], probabilities: ArrayLike<number>, rng: Rng, batchSize: number): Int32Array {
  const out = new Int32Array(batchSize);
  const last = members.length - 1;
  for (let i = 0; i < batchSize; i++) {
    const u = rng.float();
    let c = 0;
    let acc = probabilities[0];
    while (c < last && (u >= acc || members[c].length === 0)) acc += probabilities[++c];
    const m = members[c];
    out[i] = m[rng.int(m.length)];
  }
  return out;
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
  private readonly members: Int32Array[];

  /**
   * @param labels class of each pool item, [count], values in 0..numClasses−1
   * @param q exponent of n_c (1 instance-balanced, 0 class-balanced, ½ square-root, −1 reversed)
   */
  constructor(labels: Int32Array, q: number, seed: number, stream: number) {
    assertCount('ClassAwareSampler', labels.length);
    this.count = labels.length;
    this.seed = seed;
    this.stream = stream;
    this.members = membersByClass('ClassAwareSampler', labels);
    this.probabilities = classSamplingProbabilities(
      this.members.map((m) => m.length),
      q,
    );
  }

  batchAt(step: number, batchSize: number): Int32Array {
    assertStep('ClassAwareSampler.batchAt', step, batchSize);
    return drawByClass(this.members, this.probabilities, new Rng(deriveSeed(this.seed, this.stream, step)), batchSize);
  }
}

/**
 * Class-balanced sampling in the form of facebookresearch/classifier-balancing
 * `data/ClassAwareSampler.py` (used by cRT and the decoupling paper): the class order is a fresh
 * shuffle of all classes per round; each visit to a class takes the next `perVisit` (4 there)
 * images of that class's own stream, a fresh shuffle of its members each time it runs out. Every
 * class is visited once per round, so its k-th visit is in round k: the sample at stream position
 * s is a pure function of s. (The official generator restarts its visit count each epoch of
 * max_c n_c · C samples; a continuous stream differs from it only where that length is not a
 * multiple of `perVisit`.)
 */
export class ClassCycleSampler implements BatchSampler {
  readonly count: number;
  private readonly members: Int32Array[];
  private readonly seed: number;
  private readonly stream: number;
  private readonly perVisit: number;

  constructor(labels: Int32Array, seed: number, stream: number, perVisit = 4) {
    assertCount('ClassCycleSampler', labels.length);
    if (!(Number.isInteger(perVisit) && perVisit > 0)) throw new Error(`ClassCycleSampler: perVisit must be a positive integer, got ${perVisit}`);
    this.count = labels.length;
    this.seed = seed;
    this.stream = stream;
    this.perVisit = perVisit;
    // Classes without members are never visited (the official sampler lists only present labels).
    this.members = membersByClass('ClassCycleSampler', labels).filter((m) => m.length > 0);
  }

  batchAt(step: number, batchSize: number): Int32Array {
    assertStep('ClassCycleSampler.batchAt', step, batchSize);
    const numClasses = this.members.length;
    const out = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      const s = step * batchSize + b;
      const visit = Math.floor(s / this.perVisit);
      const round = Math.floor(visit / numClasses);
      const cls = epochPermutation(numClasses, this.seed, this.stream, 2 * round)[visit % numClasses];
      const m = this.members[cls];
      const pos = round * this.perVisit + (s % this.perVisit);
      const cycle = Math.floor(pos / m.length);
      out[b] = m[new Rng(deriveSeed(this.seed, this.stream, 2 * cycle + 1, cls)).permutation(m.length)[pos % m.length]];
    }
    return out;
  }
}

/**
 * Progressively-balanced sampling (Kang et al., ICLR 2020): at epoch t of T, class c is drawn with
 * p_c(t) = (1 − t/T)·p_c^IB + (t/T)·p_c^CB (instance- to class-balanced), then a uniform member;
 * with replacement, a pure function of the step like {@link ClassAwareSampler}.
 */
export class ProgressiveSampler implements BatchSampler {
  readonly count: number;
  private readonly members: Int32Array[];
  private readonly instance: Float64Array;
  private readonly balanced: Float64Array;
  private readonly stepsPerEpoch: number;
  private readonly epochs: number;
  private readonly seed: number;
  private readonly stream: number;

  /** @param iterations the run's length; @param batchSize labeled images per step (epochs are counted in them). */
  constructor(labels: Int32Array, seed: number, stream: number, iterations: number, batchSize: number) {
    assertCount('ProgressiveSampler', labels.length);
    this.count = labels.length;
    this.members = membersByClass('ProgressiveSampler', labels);
    const counts = this.members.map((m) => m.length);
    this.instance = classSamplingProbabilities(counts, 1);
    this.balanced = classSamplingProbabilities(counts, 0);
    this.stepsPerEpoch = labels.length / Math.max(1, batchSize);
    this.epochs = Math.max(1, Math.floor(iterations / this.stepsPerEpoch));
    this.seed = seed;
    this.stream = stream;
  }

  /** t/T at a step: the epoch the step is in over the run's number of epochs, capped at 1. */
  balance(step: number): number {
    return Math.min(1, Math.floor(step / this.stepsPerEpoch) / this.epochs);
  }

  batchAt(step: number, batchSize: number): Int32Array {
    assertStep('ProgressiveSampler.batchAt', step, batchSize);
    const a = this.balance(step);
    const p = this.instance.map((pi, c) => (1 - a) * pi + a * this.balanced[c]);
    return drawByClass(this.members, p, new Rng(deriveSeed(this.seed, this.stream, step)), batchSize);
  }
}

/**
 * Samplers `--sampler` accepts for the labeled batch (docs/methods.md §3):
 * - `instance-balanced`: the official SSL code's epoch-wise shuffle (each image once per epoch);
 * - `class-balanced`: classifier-balancing's class cycle, 4 images per class visit;
 * - `square-root`: p_c ∝ n_c^½, then a uniform member;
 * - `progressively-balanced`: from instance- to class-balanced over the run's epochs;
 * - `reversed`: BBN's re-balancing branch, p_c ∝ n_max / n_c, then a uniform member.
 */
export const LABELED_SAMPLERS = ['instance-balanced', 'class-balanced', 'square-root', 'progressively-balanced', 'reversed'] as const;
export type LabeledSamplerName = (typeof LABELED_SAMPLERS)[number];

/** What the schedule-dependent samplers need besides the labels and the seed. */
export interface SamplerSchedule {
  readonly iterations: number;
  readonly batchSize: number;
}

/**
 * The labeled-batch sampler of a run, over positions into the labeled split.
 * @param labels class of each labeled image, in split order
 */
export function createLabeledSampler(name: LabeledSamplerName, labels: Int32Array, seed: number, schedule: SamplerSchedule, stream: number = SamplerStream.labeled): BatchSampler {
  switch (name) {
    case 'instance-balanced':
      return new EpochSampler(labels.length, seed, stream);
    case 'class-balanced':
      return new ClassCycleSampler(labels, seed, stream);
    case 'square-root':
      return new ClassAwareSampler(labels, 0.5, seed, stream);
    case 'progressively-balanced':
      return new ProgressiveSampler(labels, seed, stream, schedule.iterations, schedule.batchSize);
    case 'reversed':
      return new ClassAwareSampler(labels, -1, seed, stream);
  }
}

/**
 * Several samplers over one pool drawing one batch together: of a batch of k·B, sampler i gives
 * positions iB..(i+1)B−1 (BBN's uniform and reversed batches travel as one labeled batch).
 */
export class ConcatenatedSampler implements BatchSampler {
  readonly count: number;

  constructor(private readonly parts: readonly BatchSampler[]) {
    if (parts.length === 0) throw new Error('ConcatenatedSampler: needs at least one sampler');
    this.count = parts[0].count;
    if (parts.some((p) => p.count !== this.count)) throw new Error('ConcatenatedSampler: the samplers cover pools of different sizes');
  }

  batchAt(step: number, batchSize: number): Int32Array {
    const k = this.parts.length;
    if (batchSize % k !== 0) throw new Error(`ConcatenatedSampler: batch ${batchSize} does not split into ${k} equal parts`);
    const out = new Int32Array(batchSize);
    this.parts.forEach((p, i) => out.set(p.batchAt(step, batchSize / k), (i * batchSize) / k));
    return out;
  }
}

/**
 * A sampler whose step 0 is global step `start`: a generation of re-training (CReST) draws its
 * labeled batches as a fresh loader would, from the generation's first step on.
 */
export class OffsetSampler implements BatchSampler {
  readonly count: number;

  constructor(
    private readonly inner: BatchSampler,
    private readonly start: number,
  ) {
    this.count = inner.count;
  }

  batchAt(step: number, batchSize: number): Int32Array {
    if (step < this.start) throw new Error(`OffsetSampler: step ${step} is before the sampler's start ${this.start}`);
    return this.inner.batchAt(step - this.start, batchSize);
  }
}
