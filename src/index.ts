/**
 * The `ssl` library API: data sources and the long-tailed split, augmentations, the batch
 * pipeline, models, algorithms, the trainer and reports — the pieces `ssl run` is built from.
 *
 * A backend must be selected first (`await selectBackend('auto')`); every function documents
 * which tensors the caller owns.
 */
export * from './data/index.js';
export * from './augment/index.js';
export * from './pipeline/index.js';
export * from './models/index.js';
export * from './algorithms/index.js';
export * from './eval/index.js';
export * from './report/index.js';
export { Rng, deriveSeed, type RngState } from './util/rng.js';
export { UserError } from './errors.js';
export {
  resolveRunConfig,
  loadPreset,
  defaultPresetPath,
  algorithmNames,
  type RunConfig,
  type AlgorithmName,
} from './config/run-config.js';
export { selectBackend, listAvailableBackends } from './backend/select.js';
export { runExperiment, type ExperimentOptions, type ExperimentResult } from './train/run-experiment.js';
export { train, trainStep, createTrainingState, TrainingInterrupted, type TrainingState, type TrainResult } from './train/trainer.js';
export { predict, type Predictions } from './train/evaluate.js';
export { saveCheckpoint, loadCheckpoint, type Checkpoint } from './train/checkpoint.js';
export { readRunHistory } from './report/run-history.js';
