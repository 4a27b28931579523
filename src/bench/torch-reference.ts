import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchRunner, RoundResult } from './runner.js';
import type { BenchStep } from './our-runner.js';

/** PyTorch memory formats the reference times. */
export const TORCH_FORMATS = ['channels_last', 'nchw'] as const;
export type TorchFormat = (typeof TORCH_FORMATS)[number];

/**
 * Pythons tried in order when `--python` is not given: the one on PATH, then the system one
 * (on Debian, python3-torch installs into /usr/bin/python3 while a pyenv may shadow it on PATH).
 */
export const DEFAULT_PYTHONS = ['python3', '/usr/bin/python3'] as const;

/** scripts/bench_torch.py of this package (two levels above src/bench and dist/bench). */
export function torchScriptPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'scripts', 'bench_torch.py');
}

/** A Python that imports torch, or why none does. */
export type PythonProbe = { readonly python: string; readonly torchVersion: string } | { readonly python: null; readonly reason: string };

/**
 * Finds the first of `candidates` where `import torch` works (a few seconds per candidate).
 * Never throws: the reason lists what each candidate said.
 */
export function findTorchPython(candidates: readonly string[] = DEFAULT_PYTHONS): PythonProbe {
  const failures: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.error) {
      failures.push(`${python}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}`);
    } else if (r.status === 0) {
      return { python, torchVersion: r.stdout.trim() };
    } else {
      const last = r.stderr.trim().split('\n').at(-1) ?? `exit code ${r.status}`;
      failures.push(`${python}: ${last}`);
    }
  }
  return { python: null, reason: failures.join('; ') };
}

/** One JSON line of scripts/bench_torch.py. */
export type TorchScriptEvent =
  | {
      readonly event: 'ready';
      readonly torch: string;
      readonly threads: number;
      readonly formats: string[];
      readonly imagesPerStep: number;
      readonly warmup: number;
      /** OMP_WAIT_POLICY the script saw. */
      readonly ompWaitPolicy: string;
    }
  | {
      readonly event: 'round';
      readonly format: string;
      readonly round: number | null;
      readonly steps: number;
      readonly seconds: number;
      readonly imagesPerSecond: number;
      /** The Python process's resident set size after the round, bytes (absent from older scripts). */
      readonly rss?: number;
    }
  | { readonly event: 'error'; readonly message: string };

/**
 * Parses one line the script printed. Throws on anything else (a line that is not JSON, an
 * unknown event, a missing field), naming the line.
 */
export function parseTorchScriptLine(line: string): TorchScriptEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`bench_torch.py printed a line that is not JSON: ${line.slice(0, 200)}`);
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const num = (k: string): number => {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new Error(`bench_torch.py: '${k}' missing or not a number in ${line.slice(0, 200)}`);
    return o[k];
  };
  switch (o.event) {
    case 'ready':
      return {
        event: 'ready',
        torch: String(o.torch),
        threads: num('threads'),
        formats: Array.isArray(o.formats) ? o.formats.map(String) : [],
        imagesPerStep: num('imagesPerStep'),
        warmup: num('warmup'),
        ompWaitPolicy: typeof o.ompWaitPolicy === 'string' ? o.ompWaitPolicy : 'unknown',
      };
    case 'round':
      return {
        event: 'round',
        format: String(o.format),
        round: typeof o.round === 'number' ? o.round : null,
        steps: num('steps'),
        seconds: num('seconds'),
        imagesPerSecond: num('imagesPerSecond'),
        ...(typeof o.rss === 'number' ? { rss: o.rss } : {}),
      };
    case 'error':
      return { event: 'error', message: String(o.message) };
    default:
      throw new Error(`bench_torch.py: unknown event in ${line.slice(0, 200)}`);
  }
}

/**
 * How the Python process's glibc malloc is set up. `stock` (default): PyTorch as installed, as
 * its users run it. `tuned`: MALLOC_MMAP_MAX_=0 and a
 * 64 GiB MALLOC_TRIM_THRESHOLD_, so memory freed after a step is reused by the next one instead of
 * being unmapped and page-faulted in afresh (stock PyTorch CPU allocates every activation with
 * malloc, and blocks above 32 MB always get their own mmap). Our torch backend gets the same effect
 * from its caching allocator (native/src/caching-allocator.h), so `tuned` compares allocator with
 * allocator, as jemalloc/tcmalloc do for PyTorch users who tune (engine against engine).
 */
export const PYTORCH_MALLOC = ['stock', 'tuned'] as const;
export type PyTorchMalloc = (typeof PYTORCH_MALLOC)[number];

/**
 * The environment of the Python process beyond ours: the OpenMP wait policy our torch backend runs
 * with (src/backend/torch/addon.ts sets OMP_WAIT_POLICY=PASSIVE unless the user set it, before
 * libtorch loads, because spinning idle threads slow steps badly on a busy machine; keep this
 * default in step with it), and the malloc setup of {@link PYTORCH_MALLOC}.
 */
export function referenceEnv(malloc: PyTorchMalloc = 'stock'): Record<string, string> {
  const env: Record<string, string> = { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' };
  if (malloc === 'tuned') {
    env.MALLOC_MMAP_MAX_ = '0';
    env.MALLOC_TRIM_THRESHOLD_ = String(64 * 1024 ** 3);
  }
  return env;
}

/** Options of {@link startTorchReference}. */
export interface TorchReferenceOptions {
  readonly python: string;
  readonly net: string;
  readonly step: BenchStep;
  readonly threads: number;
  /** Timed steps per round. */
  readonly steps: number;
  readonly rounds: number;
  /** Untimed steps per format, before the ready line. */
  readonly warmup: number;
  readonly formats?: readonly TorchFormat[];
  /** glibc malloc setup of the Python process (default `stock`). */
  readonly malloc?: PyTorchMalloc;
  /** Defaults to {@link torchScriptPath}. */
  readonly script?: string;
}

/** The running reference process; one runner per format, all served by the same process. */
export interface TorchReference {
  readonly torchVersion: string;
  /** Threads PyTorch reports after torch.set_num_threads. */
  readonly threads: number;
  /** OMP_WAIT_POLICY of the Python process. */
  readonly ompWaitPolicy: string;
  readonly malloc: PyTorchMalloc;
  readonly runners: BenchRunner[];
  close(): Promise<void>;
}

/**
 * Starts `python scripts/bench_torch.py --serve`: one process for the whole benchmark, which
 * builds one model per memory format, runs the warm-up steps and then waits on stdin. Each round
 * sends one JSON command and reads one JSON answer, so PyTorch rounds interleave with ours while
 * the idle side only blocks on a pipe (no CPU). Resolves when the script is ready.
 */
export async function startTorchReference(opts: TorchReferenceOptions): Promise<TorchReference> {
  const formats = opts.formats ?? TORCH_FORMATS;
  const script = opts.script ?? torchScriptPath();
  if (!existsSync(script)) throw new Error(`ssl bench: the PyTorch reference script is missing at ${script}`);
  const args = [
    script,
    '--serve',
    '--net', opts.net,
    '--step', opts.step,
    '--threads', String(opts.threads),
    '--warmup', String(opts.warmup),
    '--formats', formats.join(','),
  ];
  const child: ChildProcessWithoutNullStreams = spawn(opts.python, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...referenceEnv(opts.malloc) } });
  const lines = new LineQueue(child);
  const ready = await lines.next();
  if (ready.event !== 'ready') throw new Error(`bench_torch.py: expected the ready line, got ${JSON.stringify(ready)}`);

  const runners: BenchRunner[] = formats.map((format) => ({
    label: `pytorch ${format}`,
    kind: 'pytorch',
    rounds: opts.rounds,
    async round(index: number): Promise<RoundResult> {
      child.stdin.write(`${JSON.stringify({ format, steps: opts.steps, round: index })}\n`);
      const answer = await lines.next();
      if (answer.event === 'error') throw new Error(`bench_torch.py: ${answer.message}`);
      if (answer.event !== 'round' || answer.format !== format) throw new Error(`bench_torch.py: expected a ${format} round, got ${JSON.stringify(answer)}`);
      return { steps: answer.steps, seconds: answer.seconds, imagesPerSecond: answer.imagesPerSecond, ...(answer.rss !== undefined ? { rss: answer.rss } : {}) };
    },
  }));
  return {
    torchVersion: ready.torch,
    threads: ready.threads,
    ompWaitPolicy: ready.ompWaitPolicy,
    malloc: opts.malloc ?? 'stock',
    runners,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.stdin.end();
      await exited;
    },
  };
}

/**
 * The child's stdout as a queue of parsed events. If the process dies, pending and later reads
 * reject with its exit status and the tail of its stderr (a Python traceback names the problem).
 */
class LineQueue {
  private readonly events: TorchScriptEvent[] = [];
  private readonly waiting: Array<{ resolve: (e: TorchScriptEvent) => void; reject: (e: Error) => void }> = [];
  private failure: Error | null = null;
  private stderr = '';

  constructor(child: ChildProcessWithoutNullStreams) {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.trim() === '') return;
      try {
        this.push(parseTorchScriptLine(line));
      } catch (err) {
        this.fail(err as Error);
      }
    });
    child.on('error', (err) => this.fail(new Error(`bench_torch.py could not start: ${err.message}`)));
    child.on('close', (code, signal) => {
      const tail = this.stderr.trim().split('\n').slice(-5).join('\n');
      this.fail(new Error(`bench_torch.py exited (${signal ?? `code ${code}`})${tail ? `:\n${tail}` : ''}`));
    });
  }

  next(): Promise<TorchScriptEvent> {
    const e = this.events.shift();
    if (e) return Promise.resolve(e);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private push(e: TorchScriptEvent): void {
    const w = this.waiting.shift();
    if (w) w.resolve(e);
    else this.events.push(e);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}
