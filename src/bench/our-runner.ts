import * as tf from '@tensorflow/tfjs-core';
import { setTorchPrecision, type Precision } from '../backend/precision.js';
import { performance } from 'node:perf_hooks';
import { resolveRunConfig } from '../config/run-config.js';
import { liveNativeTensors } from '../backend/torch/index.js';
import { createTrainingState, trainStep } from '../train/training-state.js';
import { registry } from '../algorithms/index.js';
import { buildAlgorithm } from '../run/build-algorithm.js';
import type { SslBatch } from '../pipeline/index.js';
import { FIXMATCH_BATCH, randomSslBatch } from './random-batch.js';
import type { BenchRunner, RoundResult } from './runner.js';

/**
 * The steps `ssl bench` times: base learners of the registry that scripts/bench_torch.py also
 * implements in PyTorch (a step added here needs its twin there).
 */
export const BENCH_STEPS = ['fixmatch', 'supervised'] as const;
export type BenchStep = (typeof BENCH_STEPS)[number];

/** CIFAR-10 channel statistics: only so that the step normalises as a real run does. */
const CIFAR_MEAN = [0.4914, 0.4822, 0.4465] as const;
const CIFAR_STD = [0.2471, 0.2435, 0.2616] as const;

/** Process memory at one moment, for the flat-memory check of long benchmarks. */
export interface MemorySnapshot {
  /** Resident set size in bytes (process.memoryUsage().rss: JS heap + native allocations). */
  readonly rss: number;
  /** Live tfjs tensors (tf.memory().numTensors, all backends). */
  readonly tfjsTensors: number;
  /** Tensors the libtorch addon holds for JavaScript; undefined for other backends. */
  readonly nativeTensors?: number;
}

/** Options of {@link createOurRunner}. */
export interface OurRunnerOptions {
  /** The tfjs backend, already registered (selectBackend / listAvailableBackends). */
  readonly backend: string;
  readonly net: string;
  readonly step: BenchStep;
  /** Timed steps per round. */
  readonly steps: number;
  readonly rounds: number;
  /** Untimed steps before the first round (kernel selection, allocator caches, JIT). */
  readonly warmup: number;
  readonly seed?: number;
  /** Convolution arithmetic on the torch backend (default fp32); a bf16 runner is labeled `torch bf16`. */
  readonly precision?: Precision;
}

/** Our trainer as a bench participant, plus its memory at the start and end of the timed rounds. */
export interface OurRunner extends BenchRunner {
  readonly backend: string;
  readonly imagesPerStep: number;
  /** When the first timed round starts (after every runner's warm-up). */
  readonly memoryStart: MemorySnapshot;
  /** After the latest timed round. */
  memoryEnd(): MemorySnapshot;
  dispose(): void;
}

/** Whether the step's learner trains on unlabeled weak/strong views (a `base` learner) or labeled images only. */
export function stepUsesUnlabeled(step: BenchStep): boolean {
  return registry.learner(step).kind === 'base';
}

/** Images one step trains on: 64 + 128 + 128 for FixMatch, 64 for the supervised step. */
export function imagesPerStep(step: BenchStep): number {
  return FIXMATCH_BATCH.labeled + (stepUsesUnlabeled(step) ? 2 * FIXMATCH_BATCH.unlabeled : 0);
}

/** Reads the process and tensor counters. */
export function memorySnapshot(backend: string): MemorySnapshot {
  return {
    rss: process.memoryUsage().rss,
    tfjsTensors: tf.memory().numTensors,
    ...(backend === 'torch' ? { nativeTensors: liveNativeTensors() } : {}),
  };
}

/**
 * Builds our training state (model, EMA, SGD velocity, algorithm) for `net` on `backend`, as
 * `ssl run` does (RunConfig defaults: SGD lr 0.03, momentum 0.9, Nesterov, wd 5e-4, EMA 0.999,
 * FixMatch τ 0.95, λ_u 1), runs the warm-up steps, and returns a runner whose rounds time
 * `trainStep` — the trainer's own step, with the method built by the registry — on one fixed random batch. Activates `backend`; each
 * round re-activates it, so runners on different backends can be interleaved.
 *
 * The caller owns the runner (`dispose()`).
 */
export async function createOurRunner(opts: OurRunnerOptions): Promise<OurRunner> {
  const precision = opts.precision ?? 'fp32';
  const activate = async (): Promise<void> => {
    await activateBackend(opts.backend);
    // Each round sets its own precision: runners of both precisions interleave in one process.
    if (opts.backend === 'torch') setTorchPrecision(precision);
  };
  await activate();
  const config = resolveRunConfig(opts.step, [
    { source: 'ssl bench', values: { net: opts.net, labeledBatch: FIXMATCH_BATCH.labeled, unlabeledRatio: FIXMATCH_BATCH.unlabeled / FIXMATCH_BATCH.labeled, seed: opts.seed ?? 0 } },
  ]);
  const numClasses = FIXMATCH_BATCH.numClasses;
  const state = createTrainingState(config, { numClasses, inputChannels: FIXMATCH_BATCH.channels, mean: CIFAR_MEAN, std: CIFAR_STD }, (model) =>
    buildAlgorithm(config, {
      numClasses,
      featureDim: model.featureDim,
      labeledClassCounts: new Array<number>(numClasses).fill(FIXMATCH_BATCH.labeled / numClasses),
      numUnlabeled: FIXMATCH_BATCH.unlabeled,
    }),
  );
  const batch: SslBatch = randomSslBatch({ ...FIXMATCH_BATCH, unlabeled: stepUsesUnlabeled(opts.step) ? FIXMATCH_BATCH.unlabeled : 0 }, opts.seed ?? 0);
  let stepIndex = 0;
  const perStep = imagesPerStep(opts.step);
  try {
    for (let i = 0; i < opts.warmup; i++) trainStep(state, batch, stepIndex++);
  } catch (err) {
    state.dispose();
    throw err;
  }
  // Taken when the first timed round starts, once every runner of the bench is built: the process's
  // tensors then include all of them, so a second runner does not look like the first one's leak.
  let memoryStart: MemorySnapshot | null = null;
  let memoryEnd: MemorySnapshot | null = null;
  return {
    label: precision === 'fp32' ? opts.backend : `${opts.backend} ${precision}`,
    kind: 'ours',
    backend: opts.backend,
    rounds: opts.rounds,
    imagesPerStep: perStep,
    get memoryStart(): MemorySnapshot {
      return memoryStart ?? memorySnapshot(opts.backend);
    },
    memoryEnd: () => memoryEnd ?? memorySnapshot(opts.backend),
    async round(): Promise<RoundResult> {
      await activate();
      memoryStart ??= memorySnapshot(opts.backend);
      const start = performance.now();
      for (let i = 0; i < opts.steps; i++) trainStep(state, batch, stepIndex++);
      const seconds = (performance.now() - start) / 1000;
      memoryEnd = memorySnapshot(opts.backend);
      return { steps: opts.steps, seconds, imagesPerSecond: (opts.steps * perStep) / seconds };
    },
    dispose() {
      state.dispose();
    },
  };
}

async function activateBackend(backend: string): Promise<void> {
  if (tf.getBackend() === backend) return;
  if (!(await tf.setBackend(backend))) throw new Error(`ssl bench: backend '${backend}' failed to initialise`);
}
