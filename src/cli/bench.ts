import { Command } from 'commander';
import { UserError } from '../errors.js';
import { BACKEND_CHOICES } from '../backend/select.js';
import { PRECISION_CHOICES, type PrecisionChoice } from '../backend/precision.js';
import { modelOptions, runtimeOptions } from '../options/run-options.js';
import { kebabCase, type OptionSpec } from '../options/option-spec.js';
import { BENCH_STEPS, type BenchStep } from '../bench/our-runner.js';
import { DEFAULT_METHOD } from '../algorithms/index.js';
import { formatReport } from '../bench/report.js';
import { BENCH_DEFAULTS, runBench, type BenchBackend, type BenchDeps, type BenchOptions } from '../bench/run-bench.js';
import { PYTORCH_MALLOC, type PyTorchMalloc } from '../bench/torch-reference.js';
import { processOutput, type CliOutput } from './output.js';
import { END_TO_END_ITERATIONS, MAIN_JOB, runEndToEnd } from '../bench/end-to-end.js';

/** Values of `ssl bench --backend`. */
export const BENCH_BACKENDS = [...BACKEND_CHOICES, 'all'] as const;

const HELP = `
Times the training step of our trainer (the one \`ssl run\` executes: batch to tensors, forward,
loss, gradients, SGD, EMA, read-back) on random 32x32x3 batches and, when a Python with torch is
found, the same net and step in PyTorch (scripts/bench_torch.py) in channels_last and NCHW, with
the same thread count, in interleaved rounds: ours 1, PyTorch channels_last 1, PyTorch NCHW 1,
ours 2, ... Reports the median images/second per runner and ours / PyTorch's best.
Augmentation and data loading are not timed; warm-up steps are not timed.
cpu and wasm (plain JS / WebAssembly) are three orders of magnitude slower: they time 1 step in
1 round without warm-up unless --steps/--rounds/--warmup are given.
See docs/bench.md for how to read the output.

Examples:
  $ ssl bench --net wrn-28-2 --step fixmatch              # torch backend vs PyTorch, 2 cores ~ 4 min
  $ ssl bench --net cnn-small --rounds 5 --json
  $ ssl bench --net cnn-small --steps 2000 --rounds 1 --no-torch-reference   # memory stays flat?
  $ ssl bench --net cnn-small --backend all                 # every installed backend
  $ ssl bench --python /usr/bin/python3                     # a Python that has torch
  $ ssl bench --net cnn-small --precision fp32,bf16            # bf16 convolutions against fp32 (avx512_bf16 / AMX CPUs)
  $ ssl bench --pytorch-malloc tuned                        # PyTorch with glibc told to reuse freed memory, as our allocator does
  $ ssl bench --net cnn-small --end-to-end                  # and the real \`ssl run daso\` loop, 200 iterations ~ 4 min`;

function positiveInt(flag: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new UserError(flag, `'${value}' is not an integer ≥ ${min}`, `Pass an integer ≥ ${min}`);
    }
    return n;
  };
}

/** A flag shared with `ssl run`: validated by the same spec (schema, allowed values, default). */
function specValue<T>(key: string, spec: OptionSpec<T>, raw: unknown): T {
  const value = raw === undefined ? spec.default : typeof spec.default === 'number' && typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  const parsed = spec.schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const choices = (spec.schema as { options?: readonly string[] }).options;
  if (choices) throw new UserError(`--${kebabCase(key)}`, `unknown value '${String(raw)}'`, `Use one of: ${choices.join(', ')}`);
  throw new UserError(`--${kebabCase(key)}`, `value ${JSON.stringify(raw)} is invalid`, `Allowed: ${spec.describe}.`);
}

function oneOf<T extends string>(flag: string, allowed: readonly T[], value: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UserError(flag, `unknown value '${value}'`, `Use one of: ${allowed.join(', ')}`);
}

/** Validates the parsed flags into BenchOptions (UserError naming the flag on bad input). */
export function benchOptionsFromFlags(flags: Record<string, unknown>, explicit: (key: string) => boolean): BenchOptions {
  return {
    net: specValue('net', modelOptions.net, flags.net),
    step: oneOf<BenchStep>('--step', BENCH_STEPS, String(flags.step)),
    backend: oneOf<BenchBackend>('--backend', BENCH_BACKENDS, String(flags.backend)),
    steps: explicit('steps') ? positiveInt('--steps', 1)(String(flags.steps)) : undefined,
    rounds: explicit('rounds') ? positiveInt('--rounds', 1)(String(flags.rounds)) : undefined,
    warmup: explicit('warmup') ? positiveInt('--warmup', 0)(String(flags.warmup)) : undefined,
    threads: specValue('threads', runtimeOptions.threads, flags.threads),
    torchReference: flags.torchReference !== false,
    python: typeof flags.python === 'string' ? flags.python : undefined,
    pytorchMalloc: oneOf<PyTorchMalloc>('--pytorch-malloc', PYTORCH_MALLOC, String(flags.pytorchMalloc ?? 'stock')),
    precisions: String(flags.precision ?? 'fp32').split(',').map((p) => oneOf<PrecisionChoice>('--precision', PRECISION_CHOICES, p.trim())),
  };
}

/**
 * `ssl bench`: images/second of the real training step per backend, side by side with PyTorch.
 * Throws (UserError for bad flags) instead of exiting; the CLI entry sets the exit code.
 * `deps` replaces the backends and the PyTorch process in tests.
 */
export function createBenchCommand(output: CliOutput = processOutput, deps?: BenchDeps): Command {
  const cmd = new Command('bench')
    .description('time the training step per backend, interleaved with the same net and step in PyTorch')
    .option('--net <name>', `${modelOptions.net.describe} (default: ${modelOptions.net.default})`)
    .option('--step <method>', `the training step of one of: ${BENCH_STEPS.join(', ')} (an SSL learner: 64 labeled + 128 weak + 128 strong images; supervised: 64 labeled)`, DEFAULT_METHOD)
    .option('--backend <name>', `tfjs backend: ${BENCH_BACKENDS.join(', ')} (all = every installed one)`, 'auto')
    .option('--steps <n>', `timed steps per round (default ${BENCH_DEFAULTS.steps}; 1 on cpu/wasm)`)
    .option('--rounds <n>', `interleaved rounds; the median is reported (default ${BENCH_DEFAULTS.rounds}; 1 on cpu/wasm)`)
    .option('--warmup <n>', `untimed steps before the first round, per runner (default ${BENCH_DEFAULTS.warmup}; 0 on cpu/wasm)`)
    .option('--threads <n>', `${runtimeOptions.threads.describe}, and of PyTorch (default: ${runtimeOptions.threads.default})`)
    .option('--python <path>', 'Python with torch for the reference (default: python3, then /usr/bin/python3)')
    .option('--pytorch-malloc <mode>', `PyTorch's glibc malloc: stock (PyTorch as installed) or tuned (freed memory reused, as our caching allocator does)`, 'stock')
    .option('--precision <list>', 'convolution arithmetic of the torch runner: fp32, bf16, auto, or a list (fp32,bf16 times both, interleaved; bf16 only on CPUs with avx512_bf16 or amx_bf16)', 'fp32')
    .option('--no-torch-reference', 'time only our backends')
    .option('--end-to-end', `then time the real \`ssl run ${MAIN_JOB.method} --gamma-l ${MAIN_JOB.gammaL} --gamma-u ${MAIN_JOB.gammaU}\` loop on the embedded data: pipeline, augmentation workers, EMA, DASO, evaluations and checkpoints on the preset's schedule`)
    .option('--iterations <n>', `iterations of the --end-to-end run (default ${END_TO_END_ITERATIONS})`)
    .option('--json', 'print the full report as one JSON object')
    .addHelpText('after', HELP);
  cmd.action(async (flags: Record<string, unknown>) => {
    const explicit = (key: string): boolean => cmd.getOptionValueSource(key) === 'cli';
    const opts = benchOptionsFromFlags(flags, explicit);
    const json = flags.json === true;
    const log = (line: string): void => output.err(`${line}\n`);
    // Checked before the step rounds, which take minutes.
    if (flags.endToEnd !== true && explicit('iterations')) throw new UserError('--iterations', 'sets the length of the --end-to-end run, which was not asked for', 'Add --end-to-end, or drop --iterations.');
    const iterations = flags.endToEnd === true ? positiveInt('--iterations', 1)(String(flags.iterations ?? END_TO_END_ITERATIONS)) : null;
    let report = await runBench(opts, log, deps);
    if (iterations !== null) {
      log(`end to end: the first ${iterations} iterations of \`ssl run ${MAIN_JOB.method}\` in a temporary directory`);
      const endToEnd = await (deps?.runEndToEnd ?? runEndToEnd)({
        iterations,
        ...(explicit('net') ? { net: opts.net } : {}),
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.backend !== 'all' ? { backend: opts.backend } : {}),
        precision: opts.precisions?.[0] ?? 'fp32',
        log,
      });
      report = { ...report, endToEnd };
    }
    if (json) output.out(`${JSON.stringify(report, null, 2)}\n`);
    else output.out(formatReport(report));
  });
  return cmd;
}
