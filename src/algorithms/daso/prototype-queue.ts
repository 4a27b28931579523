/**
 * DASO's per-class feature queues and their prototypes (ytaek-oh/daso lib/models/feature_queue.py,
 * balanced queue): each class keeps the newest L features (FIFO); its prototype is the mean of its
 * queue. A class never seen has a zero prototype. Plain typed arrays: the queue is small
 * (C·L·D floats), lives on the CPU and is saved in checkpoints as is.
 */
export class PrototypeQueue {
  readonly numClasses: number;
  readonly featureDim: number;
  readonly capacity: number;
  /** [C, L, D] ring buffers. */
  private readonly bank: Float32Array;
  /** Per class: number of valid rows (≤ L) and next write position. */
  private readonly size: Int32Array;
  private readonly head: Int32Array;
  /** [C, D] class means. */
  private readonly protos: Float32Array;

  constructor(numClasses: number, featureDim: number, capacity: number) {
    this.numClasses = numClasses;
    this.featureDim = featureDim;
    this.capacity = capacity;
    this.bank = new Float32Array(numClasses * capacity * featureDim);
    this.size = new Int32Array(numClasses);
    this.head = new Int32Array(numClasses);
    this.protos = new Float32Array(numClasses * featureDim);
  }

  /**
   * Pushes features [B, D] (row-major) with labels [B]; rows are appended in batch order, so when
   * a class overflows the oldest rows go first. Refreshes the prototypes of the classes present.
   */
  push(features: Float32Array, labels: Int32Array): void {
    const d = this.featureDim;
    if (features.length !== labels.length * d) {
      throw new Error(`PrototypeQueue.push: features has ${features.length} values, expected ${labels.length}×${d}`);
    }
    const touched = new Set<number>();
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i];
      if (c < 0 || c >= this.numClasses) throw new Error(`PrototypeQueue.push: label ${c} out of range [0, ${this.numClasses})`);
      const row = (c * this.capacity + this.head[c]) * d;
      this.bank.set(features.subarray(i * d, (i + 1) * d), row);
      this.head[c] = (this.head[c] + 1) % this.capacity;
      this.size[c] = Math.min(this.size[c] + 1, this.capacity);
      touched.add(c);
    }
    for (const c of touched) this.refreshPrototype(c);
  }

  /** Prototypes [C, D] row-major (a view; copy before mutating). */
  prototypes(): Float32Array {
    return this.protos;
  }

  /** Number of features queued for class c. */
  count(c: number): number {
    return this.size[c];
  }

  /** The queued features of class c, oldest first, [count, D]. */
  features(c: number): Float32Array {
    const d = this.featureDim;
    const n = this.size[c];
    const out = new Float32Array(n * d);
    const start = n < this.capacity ? 0 : this.head[c];
    for (let k = 0; k < n; k++) {
      const slot = (start + k) % this.capacity;
      out.set(this.bank.subarray((c * this.capacity + slot) * d, (c * this.capacity + slot + 1) * d), k * d);
    }
    return out;
  }

  private refreshPrototype(c: number): void {
    const d = this.featureDim;
    const n = this.size[c];
    const sum = new Float64Array(d);
    for (let k = 0; k < n; k++) {
      const base = (c * this.capacity + k) * d;
      for (let j = 0; j < d; j++) sum[j] += this.bank[base + j];
    }
    for (let j = 0; j < d; j++) this.protos[c * d + j] = sum[j] / n;
  }

  state(): { bank: Float32Array; size: Int32Array; head: Int32Array; protos: Float32Array } {
    return { bank: this.bank.slice(), size: this.size.slice(), head: this.head.slice(), protos: this.protos.slice() };
  }

  restore(s: { bank: Float32Array; size: Int32Array; head: Int32Array; protos: Float32Array }): void {
    if (s.bank.length !== this.bank.length || s.protos.length !== this.protos.length) {
      throw new Error(`PrototypeQueue.restore: saved queue has ${s.bank.length} values, this one ${this.bank.length}`);
    }
    this.bank.set(s.bank);
    this.size.set(s.size);
    this.head.set(s.head);
    this.protos.set(s.protos);
  }
}
