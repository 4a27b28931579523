/**
 * The `ssl` library API: data sources and the long-tailed split, augmentations, the batch
 * pipeline, models, losses, the method registry and its algorithms, the trainer, reports and
 * studies — the pieces `ssl run` and `ssl study` are built from.
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
export { losses, lossHelpers, labeledLosses, type LabeledLossEntry, type LabeledLossName } from './losses/index.js';
export { Rng, deriveSeed, type RngState } from './util/rng.js';
export { UserError } from './errors.js';
export { option, type OptionSpec, type OptionSection, type SectionValues } from './options/option-spec.js';
export {
  resolveRunConfig,
  loadPreset,
  defaultPresetPath,
  shippedPresetLayers,
  describeComposition,
  type RunConfig,
  type AlgorithmName,
  type ConfigLayer,
} from './config/run-config.js';
export { selectBackend, listAvailableBackends } from './backend/select.js';
export { runExperiment, type ExperimentOptions, type ExperimentResult } from './run/run-experiment.js';
export { buildAlgorithm, runContext, type AlgorithmFacts } from './run/build-algorithm.js';
export { train, type TrainResult, type TrainerSetup } from './train/loop.js';
export { trainStep, createTrainingState, type TrainingState, type StepResult } from './train/training-state.js';
export { TrainingInterrupted } from './train/interrupted.js';
export { predict, evaluateModel, type Predictions } from './train/evaluate.js';
export { saveCheckpoint, loadCheckpoint, type Checkpoint } from './train/checkpoint.js';
export { readRunHistory } from './report/run-history.js';
export { loadStudyFile, validateDefinition, parseMethod, type StudyDefinition } from './study/definition.js';
export { planStudy, readStudyPlan, writeStudyPlan, stableRunId, type StudyPlan, type PlannedRun } from './study/plan.js';
export { readStudyStatus, type RunStatus, type RunState } from './study/run-state.js';
export { executeStudyRun, type ExecuteRunOptions } from './study/execute-run.js';
export { runStudyLocally, type LocalExecutorOptions, type StudyOutcome } from './study/local-executor.js';
export { aggregateStudy, readStudyResults } from './study/aggregate.js';
export { enqueueStudy, runWorker, assertRedisReachable, QUEUE_NAME, type RunJobData, type WorkerOptions } from './study/queue.js';
export { rewriteRunReport } from './run/rewrite-report.js';
