import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveRunConfig, shippedPresetLayers, type ConfigLayer, type RunConfig } from '../config/run-config.js';
import { registry } from '../algorithms/index.js';
import type { Dataset } from '../data/image-set.js';
import { runExperiment, type ExperimentOptions, type ExperimentResult } from '../run/run-experiment.js';
import type { PhaseSeconds } from '../report/loop-phases.js';

/** The README's main job, which `ssl bench --end-to-end` times: `ssl run daso --gamma-l 100 --gamma-u 1`. */
export const MAIN_JOB = { method: 'daso', gammaL: 100, gammaU: 1 } as const;

/** Default iterations of the timed run: 5 of the preset's 40-step evaluation periods and one 200-step checkpoint. */
export const END_TO_END_ITERATIONS = 200;

/** Options of {@link runEndToEnd}. */
export interface EndToEndOptions {
  /** Iterations of the timed run (the first ones of the main job). */
  readonly iterations: number;
  readonly net?: string;
  readonly threads?: number;
  readonly backend?: RunConfig['backend'];
  readonly precision?: RunConfig['precision'];
  /** More config values (tests shrink the run with them). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** An in-memory dataset instead of the preset's (tests). */
  readonly dataset?: Dataset;
  readonly log?: (line: string) => void;
}

/** What the timed run measured. */
export interface EndToEndReport {
  readonly command: string;
  readonly dataset: string;
  readonly net: string;
  readonly iterations: number;
  /** Iterations of the full main job, whose schedule (evaluation and checkpoint periods) the timed run keeps. */
  readonly fullIterations: number;
  readonly evaluations: number;
  /** Images one iteration trains on (labeled + every unlabeled view). */
  readonly imagesPerIteration: number;
  /** Wall seconds of the training loop (setup and the report after it excluded). */
  readonly seconds: number;
  /** Loop iterations per second, everything in the loop amortised. */
  readonly itPerSec: number;
  /** Iterations per second of the training steps alone, inside the same loop. */
  readonly stepItPerSec: number;
  readonly phases: PhaseSeconds;
}

/** Runs `ssl run` itself; tests substitute a fake. */
export type RunExperiment = (config: RunConfig, opts: ExperimentOptions) => Promise<ExperimentResult>;

/**
 * Times the first `iterations` of the README's main job with the real `ssl run` loop: data
 * pipeline and augmentation workers, EMA, DASO's queues and blending, evaluations and checkpoints
 * on the preset's schedule. The run goes to a temporary directory that is removed afterwards.
 */
export async function runEndToEnd(opts: EndToEndOptions, run: RunExperiment = runExperiment): Promise<EndToEndReport> {
  const c = registry.compositionOf(MAIN_JOB.method);
  const presets = await shippedPresetLayers(c);
  const preset = resolveRunConfig(c, presets);
  const outDir = await mkdtemp(path.join(tmpdir(), 'ssl-bench-e2e-'));
  const values: Record<string, unknown> = {
    gammaL: MAIN_JOB.gammaL,
    gammaU: MAIN_JOB.gammaU,
    iterations: opts.iterations,
    outDir,
    runId: 'end-to-end',
    ...(opts.net !== undefined ? { net: opts.net } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
    ...(opts.precision !== undefined ? { precision: opts.precision } : {}),
    ...opts.overrides,
  };
  const layers: ConfigLayer[] = [...presets, { source: 'ssl bench --end-to-end', values }];
  const config = resolveRunConfig(c, layers);
  try {
    const result = await run(config, { log: opts.log, ...(opts.dataset ? { dataset: opts.dataset } : {}) });
    const t = result.train;
    const steps = t.phases.steps;
    return {
      command: `ssl run ${MAIN_JOB.method} --gamma-l ${config.gammaL} --gamma-u ${config.gammaU} --iterations ${t.steps}${opts.net !== undefined ? ` --net ${opts.net}` : ''}${config.precision !== 'fp32' ? ` --precision ${config.precision}` : ''}`,
      dataset: config.dataset,
      net: config.net,
      iterations: t.steps,
      fullIterations: preset.iterations,
      evaluations: t.evaluations.length,
      imagesPerIteration: config.labeledBatch * (1 + 2 * config.unlabeledRatio),
      seconds: t.seconds,
      itPerSec: t.seconds > 0 ? t.steps / t.seconds : 0,
      stepItPerSec: steps > 0 ? t.steps / steps : 0,
      phases: t.phases,
    };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
