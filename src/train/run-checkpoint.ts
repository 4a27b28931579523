import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import type { RunConfig } from '../config/run-config.js';
import { PseudoLabelTracker, type PseudoLabelWindow } from '../eval/pseudo-label-tracker.js';
import type { EvalRecord } from '../report/select-reported.js';
import { saveCheckpoint, type Checkpoint, type SavedArray } from './checkpoint.js';
import type { TrainingState } from './training-state.js';
import type { GenerationRecord } from './generations.js';

/** Path of a run's checkpoint. */
export function checkpointPath(runDir: string): string {
  return path.join(runDir, 'checkpoints', 'last.ckpt');
}

/** The loop's own progress, saved beside the training state. */
export interface LoopProgress {
  /** Completed steps. */
  readonly step: number;
  /** Training seconds so far, resumed segments included. */
  readonly seconds: number;
  readonly tracker: PseudoLabelTracker;
  readonly evaluations: readonly EvalRecord[];
  readonly windows: readonly PseudoLabelWindow[];
  /** The generations started so far (CReST); empty for a run without. */
  readonly generations: readonly GenerationRecord[];
}

/**
 * Writes the training state (model, EMA model, SGD velocity, algorithm state) and the loop's
 * progress atomically to `runs/<id>/checkpoints/last.ckpt`; the previous file stays intact until
 * the new one is complete.
 */
export async function writeRunCheckpoint(runDir: string, config: RunConfig, state: TrainingState, progress: LoopProgress): Promise<void> {
  const arrays: Record<string, SavedArray> = {};
  const addVars = (prefix: string, vars: ReadonlyArray<{ name: string; variable: tf.Variable }>): void => {
    for (const { name, variable } of vars) arrays[`${prefix}/${name}`] = variable.dataSync() as Float32Array;
  };
  addVars('model', [...state.model.params, ...state.model.buffers]);
  addVars('ema', [...state.ema.model.params, ...state.ema.model.buffers]);
  state.velocity.forEach((v, i) => (arrays[`velocity/${i}`] = v.dataSync() as Float32Array));
  const algo = state.algorithm.state();
  for (const [k, v] of Object.entries(algo.arrays)) arrays[`algorithm/${k}`] = v;
  const meta = {
    step: progress.step,
    seconds: progress.seconds,
    config,
    algorithm: algo.json,
    tracker: progress.tracker.state(),
    evaluations: progress.evaluations,
    windows: progress.windows,
    generations: progress.generations,
  };
  await saveCheckpoint(checkpointPath(runDir), { meta, arrays });
}

/**
 * Assigns the checkpoint's `<prefix>/<name>` arrays to `vars` (prefix `model` or `ema`).
 * @throws naming the first variable that is missing or has another size
 */
export function loadVariables(ckpt: Checkpoint, prefix: string, vars: ReadonlyArray<{ name: string; variable: tf.Variable }>): void {
  tf.tidy(() => {
    for (const { name, variable } of vars) {
      const data = ckpt.arrays[`${prefix}/${name}`];
      if (!data || data.length !== variable.size) {
        throw new Error(`checkpoint: ${prefix}/${name} is missing or has ${data?.length ?? 0} values, expected ${variable.size}`);
      }
      variable.assign(tf.tensor(data, variable.shape, variable.dtype));
    }
  });
}

/**
 * Loads a checkpoint into a freshly built training state (same config, validated by the caller)
 * and returns the loop's progress to continue from.
 */
export function restoreRunCheckpoint(ckpt: Checkpoint, state: TrainingState): LoopProgress {
  const load = (prefix: string, vars: ReadonlyArray<{ name: string; variable: tf.Variable }>): void => loadVariables(ckpt, prefix, vars);
  tf.tidy(() => {
    load('model', [...state.model.params, ...state.model.buffers]);
    load('ema', [...state.ema.model.params, ...state.ema.model.buffers]);
    state.velocity.forEach((v, i) => v.assign(tf.tensor(ckpt.arrays[`velocity/${i}`], v.shape)));
  });
  const algoArrays: Record<string, Float32Array | Int32Array> = {};
  for (const [k, v] of Object.entries(ckpt.arrays)) if (k.startsWith('algorithm/')) algoArrays[k.slice('algorithm/'.length)] = v;
  state.algorithm.restore({ json: (ckpt.meta.algorithm ?? {}) as Record<string, unknown>, arrays: algoArrays });
  const meta = ckpt.meta as {
    step: number;
    seconds: number;
    evaluations: EvalRecord[];
    windows: PseudoLabelWindow[];
    generations?: GenerationRecord[];
    tracker: ReturnType<PseudoLabelTracker['state']>;
  };
  return {
    step: meta.step,
    seconds: meta.seconds,
    evaluations: meta.evaluations,
    windows: meta.windows,
    generations: meta.generations ?? [],
    tracker: PseudoLabelTracker.fromState(meta.tracker),
  };
}
