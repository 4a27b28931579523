import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { registry, type Composition, type LearnerHooks } from '../algorithms/index.js';
import type { ConfigLayer, RunConfig } from '../config/run-config.js';
import { UserError } from '../errors.js';
import { kebabCase } from '../options/option-spec.js';
import { loadCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { checkpointPath, loadVariables } from '../train/run-checkpoint.js';
import type { TrainingState } from '../train/training-state.js';
import { readRunConfig } from './run-config-file.js';

/** A validated, finished stage-1 run. */
export interface StageOne {
  readonly dir: string;
  readonly config: Record<string, unknown>;
  readonly checkpoint: Checkpoint;
}

/**
 * Reads the stage-1 run a decoupled stage 2 starts from, refusing one that does not exist, has not
 * finished, or was trained on other data, split or net than this run (`from.sameAs`).
 */
export async function readStageOne(from: NonNullable<LearnerHooks['startsFrom']>, config: RunConfig): Promise<StageOne> {
  const flag = `--${kebabCase(from.option)}`;
  const dir = (config as unknown as Record<string, unknown>)[from.option];
  if (typeof dir !== 'string' || dir === '') {
    throw new UserError(flag, `is required: ${config.algorithm} starts from a finished run`, `Pass ${flag} runs/<id> (a run of ssl run supervised, for example).`);
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(flag, `${dir} is not a directory`, `Point ${flag} at a finished run directory, runs/<id>.`);
  }
  const saved = await readRunConfig(dir, flag);
  if (!existsSync(path.join(dir, 'summary.json'))) {
    throw new UserError(flag, `${dir} has not finished (it has no summary.json)`, `Finish it first: ssl run --resume ${dir}`);
  }
  const file = checkpointPath(dir);
  if (!existsSync(file)) throw new UserError(flag, `${dir} has no ${path.relative(dir, file)}`, 'Use a run made by `ssl run` whose checkpoint is intact.');
  const own = config as unknown as Record<string, unknown>;
  for (const key of from.sameAs) {
    if (JSON.stringify(saved[key]) !== JSON.stringify(own[key])) {
      throw new UserError(
        flag,
        `${dir} was trained with ${key} = ${JSON.stringify(saved[key])}, this run has ${JSON.stringify(own[key])}`,
        `Drop --${kebabCase(key)} to inherit the stage-1 value, or use a stage-1 run of the same ${key}.`,
      );
    }
  }
  return { dir, config: saved, checkpoint: await loadCheckpoint(file) };
}

/**
 * For a learner that starts from a finished run: the layer of stage-1 settings (data, split, net)
 * that goes under the command line's, so that `ssl run decoupled --stage1 runs/<id>` needs no other
 * flag. Null for other learners, or when no layer names the stage-1 run (resolution then says so).
 */
export async function stageOneLayer(c: Composition, layers: readonly ConfigLayer[]): Promise<ConfigLayer | null> {
  const from = registry.learner(c.algorithm).startsFrom;
  if (!from) return null;
  const dir = layers.map((l) => l.values[from.option]).filter((v) => v !== undefined).at(-1);
  if (typeof dir !== 'string') return null;
  const saved = await readRunConfig(dir, `--${kebabCase(from.option)}`);
  const values: Record<string, unknown> = {};
  for (const key of from.sameAs) if (key in saved) values[key] = saved[key];
  return { source: `stage-1 run ${dir}`, values };
}

/**
 * Copies the stage-1 run's evaluated (EMA) weights into the student and the EMA model: the
 * backbone always, the head only with `keepHead` (head variables stage 1 lacks, LWS's scales,
 * keep their init).
 */
export function loadStageOneWeights(stageOne: StageOne, state: TrainingState, keepHead: boolean): void {
  for (const model of [state.model, state.ema.model]) {
    const vars = [...model.params, ...model.buffers].filter((v) => {
      if (!model.headVariables.has(v.name)) return true;
      return keepHead && `ema/${v.name}` in stageOne.checkpoint.arrays;
    });
    try {
      loadVariables(stageOne.checkpoint, 'ema', vars);
    } catch (err) {
      throw new UserError('--stage1', `${stageOne.dir} does not fit this model: ${(err as Error).message}`, 'Use a stage-1 run of the same --net and dataset.');
    }
  }
}
