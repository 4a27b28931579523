import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveRunConfig, savedComposition, type RunConfig } from '../config/run-config.js';
import { UserError } from '../errors.js';
import { loadDataset } from '../data/sources/index.js';
import type { Dataset } from '../data/image-set.js';
import type { Classifier } from '../models/model.js';
import type { RunSummary } from '../report/run-summary.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { checkpointPath, loadVariables } from '../train/run-checkpoint.js';
import { createRunModel } from '../train/training-state.js';
import { readRunConfig } from './run-config-file.js';

/** What a model needs from its data to classify a new image. */
export interface InputFormat {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Per-channel mean and std in 0..1 units: input = (pixel/255 − mean)/std. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly classNames: readonly string[];
}

/** A finished run's evaluated (EMA) model with its config and input format; `model.dispose()` frees it. */
export interface TrainedModel {
  readonly config: RunConfig;
  readonly model: Classifier;
  readonly input: InputFormat;
  readonly step: number;
  readonly runId: string;
  /** The dataset the run trained on (its test split is what `ssl eval` scores). */
  readonly dataset: Dataset;
}

/** Loads the EMA model of the run in `runDir` (the model every evaluation of the run used). */
export async function loadTrainedModel(runDir: string, flag = '<runDir>'): Promise<TrainedModel> {
  const saved = await readRunConfig(runDir, flag);
  const source = path.join(runDir, 'config.json');
  const config = resolveRunConfig(savedComposition(saved, source), [{ source, values: saved }]);
  const file = checkpointPath(runDir);
  if (!existsSync(file)) throw new UserError(flag, `${runDir} has no ${path.relative(runDir, file)}`, 'Use a run made by `ssl run` whose checkpoint is intact.');
  const ckpt = await loadCheckpoint(file);
  const dataset = await loadDataset({ name: config.dataset, dataDir: config.dataDir ?? undefined });
  const summaryFile = path.join(runDir, 'summary.json');
  const classNames = existsSync(summaryFile) ? ((JSON.parse(await readFile(summaryFile, 'utf8')) as RunSummary).classNames ?? dataset.classNames) : dataset.classNames;
  const model = createRunModel(config, { numClasses: dataset.numClasses, inputChannels: dataset.train.channels });
  try {
    loadVariables(ckpt, 'ema', [...model.params, ...model.buffers]);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return {
    config,
    model,
    step: ckpt.meta.step as number,
    runId: path.basename(path.resolve(runDir)),
    dataset,
    input: { height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels, mean: dataset.mean, std: dataset.std, classNames: [...classNames] },
  };
}
