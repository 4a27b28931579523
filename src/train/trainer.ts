import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import type { RunConfig } from '../config/run-config.js';
import type { Dataset } from '../data/image-set.js';
import type { LongTailSplit } from '../data/longtail.js';
import { createModel, EmaModel, type NetName } from '../models/index.js';
import type { Classifier } from '../models/model.js';
import { createAlgorithm } from '../algorithms/index.js';
import type { Algorithm, StepLoss, StepPseudoLabels, TrainBatch } from '../algorithms/algorithm.js';
import { sgdUpdate } from '../ops/sgd.js';
import { createSslBatchStream, toInputTensor, type SslBatch } from '../pipeline/index.js';
import { classificationMetrics, expectedCalibrationError } from '../eval/metrics.js';
import { PseudoLabelTracker, type PseudoLabelWindow, type PseudoLabelObservation } from '../eval/pseudo-label-tracker.js';
import type { EvalRecord } from '../report/select-reported.js';
import { predict } from './evaluate.js';
import { saveCheckpoint, type Checkpoint, type SavedArray } from './checkpoint.js';
import type { EventLog } from './event-log.js';
import type { Progress } from './progress.js';

/** Everything a training run needs, assembled by `runExperiment`. */
export interface TrainerSetup {
  readonly config: RunConfig;
  readonly dataset: Dataset;
  readonly split: LongTailSplit;
  readonly runDir: string;
  readonly events: EventLog;
  readonly progress: Progress;
  /** A checkpoint to continue from (validated against the config by the caller). */
  readonly resume?: Checkpoint;
  /** Called after every completed step (tests use it to interrupt a run). */
  readonly onStep?: (step: number) => void;
}

/** What a finished (or stopped) training run hands to the report. */
export interface TrainResult {
  /** Completed steps. */
  readonly steps: number;
  readonly evaluations: EvalRecord[];
  readonly pseudoLabelWindows: PseudoLabelWindow[];
  /** Training seconds, resumed segments included. */
  readonly seconds: number;
  /** ECE of the last test evaluation. */
  readonly testEce?: number;
}

/** A run stopped before its last iteration (Ctrl-C, or thrown by `onStep` in tests). */
export class TrainingInterrupted extends Error {
  constructor(step: number, resume?: { runDir: string; algorithm: string }) {
    super(
      `training interrupted after step ${step}` +
        (resume ? `; the checkpoint is saved, continue with: ssl run ${resume.algorithm} --resume ${resume.runDir}` : ''),
    );
    this.name = 'TrainingInterrupted';
  }
}

/**
 * A flag set by the first SIGINT/SIGTERM while training runs; a second signal exits at once, as
 * a user pressing Ctrl-C twice expects. `release()` restores the default handling.
 */
function interruptFlag(): (() => boolean) & { release(): void } {
  let requested = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (requested) process.exit(signal === 'SIGINT' ? 130 : 143);
    requested = true;
    process.stderr.write(`\n${signal}: finishing this step and writing a checkpoint (again to quit now)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return Object.assign(() => requested, {
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  });
}

/**
 * The training loop: pull a batch, `prepare` (no gradient), loss and gradients in one tape, SGD
 * step, EMA update, bookkeeping on the pseudo-labels; evaluate the EMA model every `evalEvery`
 * steps on validation and test; checkpoint atomically every `checkpointEvery` steps and at the end.
 */
export async function train(setup: TrainerSetup): Promise<TrainResult> {
  const { config, dataset, split, events, progress } = setup;
  const numClasses = dataset.numClasses;
  const state = createTrainingState(config, { numClasses, inputChannels: dataset.train.channels, mean: dataset.mean, std: dataset.std });
  const { model, ema, velocity, algorithm } = state;
  let tracker = new PseudoLabelTracker(numClasses, config.plWindow);
  const evaluations: EvalRecord[] = [];
  const windows: PseudoLabelWindow[] = [];
  let startStep = 0;
  let priorSeconds = 0;

  if (setup.resume) {
    const restored = restoreState(setup.resume, model, ema.model, velocity, algorithm);
    startStep = restored.step;
    priorSeconds = restored.seconds;
    evaluations.push(...restored.evaluations);
    windows.push(...restored.windows);
    tracker = PseudoLabelTracker.fromState(restored.tracker);
  }

  const source = createSslBatchStream({
    train: dataset.train,
    labeledIdx: split.labeled,
    unlabeledIdx: split.unlabeled,
    labeledBatch: config.labeledBatch,
    unlabeledBatch: config.labeledBatch * config.unlabeledRatio,
    seed: config.seed,
    startStep,
    prefetch: config.prefetch,
    workers: config.workers,
    augment: { padding: 4, strong: true },
  });

  const started = Date.now();
  const seconds = (): number => priorSeconds + (Date.now() - started) / 1000;
  let lastTestEce: number | undefined;
  let rateStart = Date.now();
  let rateSteps = 0;
  let step = startStep;
  // Ctrl-C finishes the current step, writes a checkpoint and stops: no work is lost.
  const stopRequested = interruptFlag();
  try {
    for (; step < config.iterations; step++) {
      const batch = await source.next();
      const { terms, pseudoLabels } = trainStep(state, batch, step);
      algorithm.afterStep(pseudoLabels, step);
      const window = tracker.recordStep(observations(pseudoLabels, batch.unlabeledLabels));
      if (window) {
        windows.push(window);
        events.append({ type: 'pseudo-labels', step: step + 1, window });
      }
      rateSteps++;
      const itPerSec = rateSteps / Math.max(1e-3, (Date.now() - rateStart) / 1000);
      if ((step + 1) % 50 === 0) {
        events.append({ type: 'train', step: step + 1, itPerSec, ...terms });
        rateStart = Date.now();
        rateSteps = 0;
      }
      progress.update({ step, total: config.iterations, itPerSec, terms });

      if ((step + 1) % config.evalEvery === 0 || step + 1 === config.iterations) {
        const record = evaluate(ema.model, dataset, split, step + 1);
        lastTestEce = record.ece;
        evaluations.push({ step: record.step, val: record.val, test: record.test });
        events.append({
          type: 'eval',
          step: step + 1,
          test: { top1: record.test.top1, balancedAccuracy: record.test.balancedAccuracy, geometricMeanRecall: record.test.geometricMeanRecall, perClassAccuracy: record.test.perClassAccuracy },
          ...(record.val ? { val: { top1: record.val.top1, balancedAccuracy: record.val.balancedAccuracy } } : {}),
        });
        progress.message(
          `eval @${step + 1}: test top-1 ${(record.test.top1 * 100).toFixed(2)}%  balanced ${(record.test.balancedAccuracy * 100).toFixed(2)}%` +
            (record.val ? `  val balanced ${(record.val.balancedAccuracy * 100).toFixed(2)}%` : ''),
        );
      }
      const stopping = stopRequested();
      if ((step + 1) % config.checkpointEvery === 0 || step + 1 === config.iterations || stopping) {
        await writeCheckpoint(setup.runDir, {
          step: step + 1,
          seconds: seconds(),
          config,
          model,
          ema: ema.model,
          velocity,
          algorithm,
          tracker,
          evaluations,
          windows,
        });
        events.append({ type: 'checkpoint', step: step + 1 });
      }
      setup.onStep?.(step);
      if (stopping) throw new TrainingInterrupted(step + 1, { runDir: setup.runDir, algorithm: config.algorithm });
    }
    const partial = tracker.flush();
    if (partial && partial.endStep > (windows.at(-1)?.endStep ?? 0)) windows.push(partial);
    return { steps: step, evaluations, pseudoLabelWindows: windows, seconds: seconds(), testEce: lastTestEce };
  } finally {
    stopRequested.release();
    progress.done();
    await source.close();
    state.dispose();
  }
}

/** Shape and normalisation of the images a training state is built for. */
export interface InputSpec {
  readonly numClasses: number;
  readonly inputChannels: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Model, EMA model, optimizer state and algorithm of a run; `dispose()` frees their tensors. */
export interface TrainingState {
  readonly config: RunConfig;
  readonly input: InputSpec;
  readonly model: Classifier;
  readonly ema: EmaModel;
  readonly params: tf.Variable[];
  readonly velocity: tf.Variable[];
  readonly algorithm: Algorithm;
  dispose(): void;
}

/** Builds what a training step needs, seeded by `config.seed`. */
export function createTrainingState(config: RunConfig, input: InputSpec): TrainingState {
  const build = (): Classifier =>
    createModel(config.net as NetName, { numClasses: input.numClasses, inputChannels: input.inputChannels, seed: config.seed });
  const model = build();
  const ema = new EmaModel(model, build, config.emaDecay);
  const params = model.params.map((p) => p.variable);
  // tf.variable copies its initial value: free the zeros it was made from.
  const velocity = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  const algorithm = createAlgorithm(config, { numClasses: input.numClasses, featureDim: model.featureDim });
  return {
    config,
    input,
    model,
    ema,
    params,
    velocity,
    algorithm,
    dispose() {
      algorithm.dispose();
      ema.dispose();
      model.dispose();
      velocity.forEach((v) => v.dispose());
    },
  };
}

/**
 * One optimisation step of the trainer (what `ssl bench` times): batch tensors, `prepare`, loss and
 * gradients in one tape, SGD, EMA update, pseudo-labels read back. Every tensor it makes is freed
 * before it returns.
 */
export function trainStep(state: TrainingState, batch: SslBatch, step: number): { terms: Record<string, number>; pseudoLabels: StepPseudoLabels } {
  const { model, ema, params, velocity, algorithm, config, input: dataset } = state;
  const { height: h, width: w, channels: c } = batch;
  const nl = batch.labeledLabels.length;
  const nu = batch.unlabeledLabels.length;
  const tensors: TrainBatch = {
    labeledImages: toInputTensor(batch.labeledImages, nl, h, w, c, dataset.mean, dataset.std),
    labeledLabels: tf.tensor1d(batch.labeledLabels, 'int32'),
    weakImages: toInputTensor(batch.weakImages, nu, h, w, c, dataset.mean, dataset.std),
    strongImages: toInputTensor(batch.strongImages, nu, h, w, c, dataset.mean, dataset.std),
  };
  const ctx = { step, model, ema: ema.model };
  let out: StepLoss | undefined;
  try {
    algorithm.prepare(tensors, ctx);
    const { value, grads } = tf.variableGrads(() => {
      out = algorithm.loss(tensors, ctx);
      keepAll(out);
      return out.total;
    }, params);
    sgdUpdate(
      params,
      params.map((p) => grads[p.name]),
      velocity,
      { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay, nesterov: config.nesterov },
    );
    value.dispose();
    tf.dispose(grads);
    ema.update(model, step);
    const loss = out as StepLoss | undefined;
    if (!loss) throw new Error('trainStep: the algorithm returned no loss');
    const terms: Record<string, number> = {};
    for (const [k, t] of Object.entries(loss.terms)) terms[k] = (t.dataSync() as Float32Array)[0];
    const pl = loss.pseudoLabels;
    const mask = pl.mask.dataSync() as Float32Array;
    const pseudoLabels: StepPseudoLabels = {
      final: Int32Array.from(pl.final.dataSync()),
      linear: Int32Array.from(pl.linear.dataSync()),
      semantic: pl.semantic ? Int32Array.from(pl.semantic.dataSync()) : undefined,
      confident: Uint8Array.from(mask, (m) => (m > 0 ? 1 : 0)),
    };
    return { terms, pseudoLabels };
  } finally {
    if (out) disposeAll(out);
    tf.dispose(tensors as unknown as tf.TensorContainer);
  }
}

function stepTensors(out: StepLoss): tf.Tensor[] {
  const pl = out.pseudoLabels;
  return [
    out.total,
    ...Object.values(out.terms),
    pl.final,
    pl.linear,
    pl.mask,
    ...(pl.semantic ? [pl.semantic] : []),
  ];
}

function keepAll(out: StepLoss): void {
  for (const t of stepTensors(out)) tf.keep(t);
}

function disposeAll(out: StepLoss): void {
  // `total` is also returned from the tape, which disposes its own copy; dispose is idempotent.
  for (const t of new Set(stepTensors(out))) t.dispose();
}

function observations(pl: StepPseudoLabels, groundTruth: Int32Array): Record<string, PseudoLabelObservation> {
  const out: Record<string, PseudoLabelObservation> = {
    final: { pseudoLabels: pl.final, groundTruth, confident: pl.confident },
    linear: { pseudoLabels: pl.linear, groundTruth },
  };
  if (pl.semantic) out.semantic = { pseudoLabels: pl.semantic, groundTruth };
  return out;
}

interface EvaluationRecord extends EvalRecord {
  /** Expected calibration error of the test predictions (15 bins). */
  readonly ece: number;
}

function evaluate(ema: Classifier, dataset: Dataset, split: LongTailSplit, step: number): EvaluationRecord {
  const test = predict(ema, dataset.test, null, dataset);
  const testMetrics = classificationMetrics(test.predictions, test.labels, dataset.numClasses);
  let val;
  if (split.validation.length > 0) {
    const v = predict(ema, dataset.train, split.validation, dataset);
    val = classificationMetrics(v.predictions, v.labels, dataset.numClasses);
  }
  return { step, test: testMetrics, val, ece: expectedCalibrationError(test.probs, test.labels, dataset.numClasses) };
}

interface CheckpointParts {
  readonly step: number;
  readonly seconds: number;
  readonly config: RunConfig;
  readonly model: Classifier;
  readonly ema: Classifier;
  readonly velocity: readonly tf.Variable[];
  readonly algorithm: Algorithm;
  readonly tracker: PseudoLabelTracker;
  readonly evaluations: readonly EvalRecord[];
  readonly windows: readonly PseudoLabelWindow[];
}

/** Path of a run's checkpoint. */
export function checkpointPath(runDir: string): string {
  return path.join(runDir, 'checkpoints', 'last.ckpt');
}

async function writeCheckpoint(runDir: string, p: CheckpointParts): Promise<void> {
  const arrays: Record<string, SavedArray> = {};
  const addVars = (prefix: string, vars: ReadonlyArray<{ name: string; variable: tf.Variable }>): void => {
    for (const { name, variable } of vars) arrays[`${prefix}/${name}`] = variable.dataSync() as Float32Array;
  };
  addVars('model', [...p.model.params, ...p.model.buffers]);
  addVars('ema', [...p.ema.params, ...p.ema.buffers]);
  p.velocity.forEach((v, i) => (arrays[`velocity/${i}`] = v.dataSync() as Float32Array));
  const algo = p.algorithm.state();
  for (const [k, v] of Object.entries(algo.arrays)) arrays[`algorithm/${k}`] = v;
  const meta = {
    step: p.step,
    seconds: p.seconds,
    config: p.config,
    algorithm: algo.json,
    tracker: p.tracker.state(),
    evaluations: p.evaluations,
    windows: p.windows,
  };
  await saveCheckpoint(checkpointPath(runDir), { meta, arrays });
}

function restoreState(
  ckpt: Checkpoint,
  model: Classifier,
  ema: Classifier,
  velocity: tf.Variable[],
  algorithm: Algorithm,
): {
  step: number;
  seconds: number;
  evaluations: EvalRecord[];
  windows: PseudoLabelWindow[];
  tracker: ReturnType<PseudoLabelTracker['state']>;
} {
  const load = (prefix: string, vars: ReadonlyArray<{ name: string; variable: tf.Variable }>): void => {
    for (const { name, variable } of vars) {
      const data = ckpt.arrays[`${prefix}/${name}`];
      if (!data || data.length !== variable.size) {
        throw new Error(`checkpoint: ${prefix}/${name} is missing or has ${data?.length ?? 0} values, expected ${variable.size}`);
      }
      variable.assign(tf.tensor(data, variable.shape, variable.dtype));
    }
  };
  tf.tidy(() => {
    load('model', [...model.params, ...model.buffers]);
    load('ema', [...ema.params, ...ema.buffers]);
    velocity.forEach((v, i) => v.assign(tf.tensor(ckpt.arrays[`velocity/${i}`], v.shape)));
  });
  const algoArrays: Record<string, Float32Array | Int32Array> = {};
  for (const [k, v] of Object.entries(ckpt.arrays)) if (k.startsWith('algorithm/')) algoArrays[k.slice('algorithm/'.length)] = v;
  algorithm.restore({ json: (ckpt.meta.algorithm ?? {}) as Record<string, unknown>, arrays: algoArrays });
  const meta = ckpt.meta as {
    step: number;
    seconds: number;
    evaluations: EvalRecord[];
    windows: PseudoLabelWindow[];
    tracker: ReturnType<PseudoLabelTracker['state']>;
  };
  return { step: meta.step, seconds: meta.seconds, evaluations: meta.evaluations, windows: meta.windows, tracker: meta.tracker };
}
