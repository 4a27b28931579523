/**
 * Runs `AugmentTask`s either in worker threads (node:worker_threads) or in-process. The training
 * images are shared with the workers once, at start (one SharedArrayBuffer copy unless they
 * already live in one), never per batch; results come back as transferred ArrayBuffers.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { runAugmentTask, type AugmentTask } from './augment-task.js';
import type { AugmentReply, AugmentRequest, AugmentWorkerData } from './augment-worker.js';
import type { ImageDims } from '../augment/image.js';

/** Something that runs augmentation tasks. */
export interface AugmentPool {
  /** Number of worker threads (0 = in-process). */
  readonly size: number;
  /** Runs a task; resolves to [n, h, w, c] uint8 owned by the caller. */
  run(task: AugmentTask): Promise<Uint8Array>;
  /** Stops the workers; pending tasks reject. Idempotent. */
  close(): Promise<void>;
}

/** Default worker count: min(2, cores). */
export function defaultWorkerCount(): number {
  return Math.min(2, availableParallelism());
}

/**
 * Creates a pool. `workers = 0` runs tasks on the main thread (one per macrotask, so the event
 * loop keeps turning).
 */
export function createAugmentPool(images: Uint8Array, dims: ImageDims, workers: number): AugmentPool {
  if (!(Number.isInteger(workers) && workers >= 0)) {
    throw new Error(`createAugmentPool: workers must be an integer >= 0, got ${workers}`);
  }
  return workers === 0 ? new InProcessPool(images, dims) : new WorkerThreadPool(images, dims, workers);
}

class InProcessPool implements AugmentPool {
  readonly size = 0;
  private closed = false;
  constructor(
    private readonly images: Uint8Array,
    private readonly dims: ImageDims,
  ) {}

  async run(task: AugmentTask): Promise<Uint8Array> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.closed) throw new Error('AugmentPool: closed');
    return runAugmentTask(this.images, this.dims, task);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * How to start the worker: the compiled `augment-worker.js` next to this file; or, when running
 * from sources (vitest, tsx: this file is `.ts`), a small ESM bootstrap that registers tsx's loader
 * in the worker and then imports `augment-worker.ts` (Node 20 ignores `--import` in a worker's
 * `execArgv`, so tsx has to be registered from inside the worker).
 */
function workerEntry(): { script: URL | string; eval: boolean } {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return { script: new URL('./augment-worker.js', self), eval: false };
  const entry = new URL('./augment-worker.ts', self).href;
  const api = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return { script: bootstrap, eval: true };
}

interface Pending {
  readonly resolve: (data: Uint8Array) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Id of the task it runs, or -1 when idle. */
  busy: number;
}

class WorkerThreadPool implements AugmentPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: AugmentRequest[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private closed = false;

  constructor(images: Uint8Array, dims: ImageDims, workers: number) {
    this.size = workers;
    let shared: SharedArrayBuffer;
    if (images.buffer instanceof SharedArrayBuffer && images.byteOffset === 0 && images.byteLength === images.buffer.byteLength) {
      shared = images.buffer;
    } else {
      shared = new SharedArrayBuffer(images.byteLength);
      new Uint8Array(shared).set(images);
    }
    const data: AugmentWorkerData = { images: shared, dims };
    const entry = workerEntry();
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(entry.script, { workerData: data, eval: entry.eval });
      const slot: Slot = { worker, busy: -1 };
      // Idle workers must not keep the process alive; a busy one is ref'd while its task runs.
      worker.unref();
      worker.on('message', (reply: AugmentReply) => this.onReply(slot, reply));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`AugmentPool: worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  run(task: AugmentTask): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('AugmentPool: closed'));
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.queue.push({ id, task });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy !== -1) continue;
      const req = this.queue.shift() as AugmentRequest;
      slot.busy = req.id;
      slot.worker.ref();
      // Index and seed arrays are small; copying them (no transfer list) leaves the caller's intact.
      slot.worker.postMessage(req);
    }
  }

  private onReply(slot: Slot, reply: AugmentReply): void {
    slot.busy = -1;
    slot.worker.unref();
    const p = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (p !== undefined) {
      if (reply.ok) p.resolve(reply.data);
      else p.reject(new Error(`AugmentPool: task failed in worker: ${reply.error}`));
    }
    this.dispatch();
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.rejectAll(err);
  }

  private rejectAll(err: Error): void {
    this.queue.length = 0;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new Error('AugmentPool: closed'));
    // terminate() of a worker that was ever unref'd does not reliably keep the event loop alive
    // until its exit event (seen on Node 20: the process exited with code 13 mid-close, losing the
    // error being handled). A timer holds the loop open for the duration of the close.
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      await Promise.all(this.slots.map((s) => s.worker.terminate()));
    } finally {
      clearInterval(keepAlive);
    }
  }
}
