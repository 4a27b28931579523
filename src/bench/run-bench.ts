import { availableParallelism } from 'node:os';
import { registerGradients } from '../backend/gradients.js';
import { resolvePrecision, setTorchPrecision, type Precision, type PrecisionChoice } from '../backend/precision.js';
import { listAvailableBackends, selectBackend, type BackendChoice, type BackendSelection } from '../backend/select.js';
import { createOurRunner, imagesPerStep, type BenchStep, type OurRunner, type OurRunnerOptions } from './our-runner.js';
import { bestOf, formatRound, roundRatios, speedRatio, summarizeRecords, type BenchReport, type OurSummary } from './report.js';
import { runInterleaved, type BenchRunner, type RoundRecord } from './runner.js';
import type { runEndToEnd } from './end-to-end.js';
import { DEFAULT_PYTHONS, findTorchPython, startTorchReference, type PyTorchMalloc, type PythonProbe, type TorchReference, type TorchReferenceOptions } from './torch-reference.js';

/** `--backend` of `ssl bench`: one backend, the automatic choice, or every available one. */
export type BenchBackend = BackendChoice | 'all';

/**
 * Backends too slow to train these nets (the plain-JS cpu backend is ~1000x slower than libtorch):
 * unless the user sets --steps/--rounds/--warmup, they get 1 timed step in 1 round and no warm-up.
 */
export const SLOW_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

/** Defaults of the timing options. */
export const BENCH_DEFAULTS = { steps: 10, rounds: 3, warmup: 3 } as const;

/** Options of {@link runBench}; steps/rounds/warmup undefined = defaults (reduced for slow backends). */
export interface BenchOptions {
  readonly net: string;
  readonly step: BenchStep;
  readonly backend: BenchBackend;
  readonly steps?: number;
  readonly rounds?: number;
  readonly warmup?: number;
  /** Threads of the torch backend AND of PyTorch; default: number of cores. */
  readonly threads?: number;
  /** Time PyTorch too (default true). */
  readonly torchReference?: boolean;
  /** Python to run the reference with; default: the first of python3, /usr/bin/python3 that imports torch. */
  readonly python?: string;
  /** glibc malloc setup of the PyTorch process (default stock; see PYTORCH_MALLOC). */
  readonly pytorchMalloc?: PyTorchMalloc;
  /** Convolution precisions to time on the torch backend, one runner each (default fp32 only). */
  readonly precisions?: readonly PrecisionChoice[];
}

/** What runBench calls outside itself; tests substitute fakes. */
export interface BenchDeps {
  selectBackend(name: BackendChoice, threads?: number): Promise<BackendSelection>;
  listAvailableBackends(): Promise<string[]>;
  createOurRunner(opts: OurRunnerOptions): Promise<OurRunner>;
  findTorchPython(candidates: readonly string[]): PythonProbe;
  startTorchReference(opts: TorchReferenceOptions): Promise<TorchReference>;
  registerGradients(): Promise<void>;
  /** `ssl bench --end-to-end` (the CLI calls it after runBench; default the real one). */
  runEndToEnd?: typeof runEndToEnd;
}

const realDeps: BenchDeps = { selectBackend, listAvailableBackends, createOurRunner, findTorchPython, startTorchReference, registerGradients };

/**
 * Times our trainer's step on the chosen backend(s) and, when a Python with torch is found, the
 * same net and step in PyTorch (channels_last and NCHW), in interleaved rounds within this
 * process: ours round 1, PyTorch channels_last round 1, PyTorch NCHW round 1, ours round 2, ...
 * `log` receives progress lines (setup, one per round).
 */
export async function runBench(opts: BenchOptions, log: (line: string) => void = () => {}, deps: BenchDeps = realDeps): Promise<BenchReport> {
  const threads = opts.threads && opts.threads > 0 ? opts.threads : availableParallelism();
  const rounds = opts.rounds ?? BENCH_DEFAULTS.rounds;
  const steps = opts.steps ?? BENCH_DEFAULTS.steps;
  const warmup = opts.warmup ?? BENCH_DEFAULTS.warmup;
  const notes: string[] = [];
  const backendNotes: string[] = [];
  const unavailable: Array<{ backend: string; reason: string }> = [];
  await deps.registerGradients();

  // Start PyTorch first: its model building and warm-up overlap ours (nothing is timed yet).
  let referencePromise: Promise<TorchReference> | null = null;
  let pytorchNote: string | null = null;
  let python: string | null = null;
  if (opts.torchReference === false) {
    pytorchNote = 'skipped (--no-torch-reference)';
  } else {
    const probe = deps.findTorchPython(opts.python ? [opts.python] : DEFAULT_PYTHONS);
    if (probe.python === null) {
      pytorchNote = `no Python that imports torch (${probe.reason}); pass --python <path> to use another`;
    } else {
      python = probe.python;
      log(`starting the PyTorch ${probe.torchVersion} reference (${python}, ${threads} threads, ${warmup} warm-up steps per format)`);
      referencePromise = deps.startTorchReference({ python, net: opts.net, step: opts.step, threads, steps, rounds, warmup, malloc: opts.pytorchMalloc ?? 'stock' });
      // Observed below; this only keeps an early failure from being an unhandled rejection.
      referencePromise.catch(() => {});
    }
  }

  const ours: OurRunner[] = [];
  let reference: TorchReference | null = null;
  try {
    const names = await backendsToRun(opts.backend, threads, deps, backendNotes, unavailable);
    const precisions = opts.precisions ?? ['fp32'];
    const runs = names.flatMap((name) => {
      if (name !== 'torch') return [{ name, precision: 'fp32' as Precision }];
      const chosen = precisions.map((p) => resolvePrecision(p, 'torch'));
      for (const note of new Set(chosen.filter((c) => c.precision === 'bf16').map((c) => c.note))) backendNotes.push(`torch bf16: ${note}`);
      return [...new Set(chosen.map((c) => c.precision))].map((precision) => ({ name, precision }));
    });
    for (const { name, precision } of runs) {
      const slow = SLOW_BACKENDS.has(name);
      const runnerOpts: OurRunnerOptions = {
        backend: name,
        precision,
        net: opts.net,
        step: opts.step,
        steps: slow && opts.steps === undefined ? 1 : steps,
        rounds: slow && opts.rounds === undefined ? 1 : rounds,
        warmup: slow && opts.warmup === undefined ? 0 : warmup,
      };
      if (slow && (opts.steps === undefined || opts.rounds === undefined)) {
        notes.push(`${name} is a slow backend: timed ${runnerOpts.steps} step(s) in ${runnerOpts.rounds} round(s) with ${runnerOpts.warmup} warm-up (set --steps/--rounds/--warmup to change)`);
      }
      try {
        if (opts.backend === 'all' && name !== names[0] && precision === 'fp32') await deps.selectBackend(name as BackendChoice, threads);
        log(`building ${opts.net} on ${name}${precision === 'fp32' ? '' : ` (${precision} convolutions)`} and running ${runnerOpts.warmup} warm-up step(s)`);
        ours.push(await deps.createOurRunner(runnerOpts));
      } catch (err) {
        if (opts.backend !== 'all') throw err;
        unavailable.push({ backend: name, reason: `failed: ${(err as Error).message.split('\n')[0]}` });
      }
    }
    if (referencePromise) {
      try {
        reference = await referencePromise;
      } catch (err) {
        pytorchNote = `the PyTorch reference failed to start: ${(err as Error).message}`;
      }
    }
    const runners: BenchRunner[] = [...ours, ...(reference?.runners ?? [])];
    const { records, failures } = await runInterleaved(runners, rounds, (r) => log(formatRound(r)));
    return buildReport({ opts, threads, rounds, warmup, ours, records, failures, reference, python, pytorchNote, backendNotes, unavailable, notes });
  } finally {
    for (const r of ours) r.dispose();
    setTorchPrecision('fp32');
    if (reference) await reference.close();
    else if (referencePromise) await referencePromise.then((r) => r.close()).catch(() => {});
  }
}

/** Which backends to time; fills `notes` (how each was chosen) and `unavailable`. */
async function backendsToRun(
  choice: BenchBackend,
  threads: number,
  deps: BenchDeps,
  notes: string[],
  unavailable: Array<{ backend: string; reason: string }>,
): Promise<string[]> {
  if (choice !== 'all') {
    const sel = await deps.selectBackend(choice, threads);
    notes.push(sel.note);
    return [sel.name];
  }
  // listAvailableBackends registers every backend (and sets the torch thread count to the number
  // of cores), so the thread count is set again by selecting each backend afterwards.
  const names = await deps.listAvailableBackends();
  for (const known of ['tensorflow', 'torch', 'wasm', 'cpu']) {
    if (!names.includes(known)) unavailable.push({ backend: known, reason: 'not installed or not built on this machine' });
  }
  if (names.length === 0) return [];
  const first = await deps.selectBackend(names[0] as BackendChoice, threads);
  notes.push(first.note);
  return names;
}

interface ReportParts {
  readonly opts: BenchOptions;
  readonly threads: number;
  readonly rounds: number;
  readonly warmup: number;
  readonly ours: readonly OurRunner[];
  readonly records: RoundRecord[];
  readonly failures: BenchReport['failures'];
  readonly reference: TorchReference | null;
  readonly python: string | null;
  readonly pytorchNote: string | null;
  readonly backendNotes: string[];
  readonly unavailable: BenchReport['unavailable'];
  readonly notes: string[];
}

function pytorchRss(records: readonly RoundRecord[]): { first: number; last: number } | null {
  const rss = records.filter((r) => r.kind === 'pytorch' && r.rss !== undefined).map((r) => r.rss as number);
  return rss.length > 0 ? { first: rss[0], last: rss[rss.length - 1] } : null;
}

function buildReport(p: ReportParts): BenchReport {
  const summaries = summarizeRecords(p.records);
  const pytorchFormats = summaries.filter((s) => p.records.some((r) => r.label === s.label && r.kind === 'pytorch'));
  const best = bestOf(pytorchFormats);
  const ours: OurSummary[] = [];
  for (const runner of p.ours) {
    const s = summaries.find((x) => x.label === runner.label);
    if (!s) continue;
    ours.push({
      ...s,
      backend: runner.backend,
      memoryStart: runner.memoryStart,
      memoryEnd: runner.memoryEnd(),
      ratio: speedRatio(s.imagesPerSecond, best),
      roundRatios: roundRatios(p.records, runner.label),
    });
  }
  return {
    net: p.opts.net,
    step: p.opts.step,
    imagesPerStep: imagesPerStep(p.opts.step),
    threads: p.threads,
    ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? '(libgomp default)',
    rounds: p.rounds,
    warmup: p.warmup,
    backendNotes: p.backendNotes,
    ours,
    unavailable: p.unavailable,
    pytorch:
      p.reference && p.python
        ? { python: p.python, version: p.reference.torchVersion, threads: p.reference.threads, ompWaitPolicy: p.reference.ompWaitPolicy, malloc: p.reference.malloc, formats: pytorchFormats, best, rss: pytorchRss(p.records) }
        : null,
    pytorchNote: p.pytorchNote,
    records: p.records,
    failures: p.failures,
    notes: p.notes,
  };
}
