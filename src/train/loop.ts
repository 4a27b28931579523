import type { RunConfig } from '../config/run-config.js';
import type { Dataset } from '../data/image-set.js';
import type { LongTailSplit } from '../data/longtail.js';
import type { LabeledSamplerName } from '../data/samplers.js';
import type { FinishContext, UnlabeledViews } from '../algorithms/method.js';
import type { StepPseudoLabels } from '../algorithms/algorithm.js';
import { createSslBatchStream } from '../pipeline/index.js';
import { PseudoLabelTracker, type PseudoLabelWindow, type PseudoLabelObservation } from '../eval/pseudo-label-tracker.js';
import type { EvalRecord } from '../report/select-reported.js';
import type { EventLog } from '../events/event-log.js';
import { evaluateModel, extractFeatures, predict } from './evaluate.js';
import { classDistribution, scorePriorEstimates } from '../eval/prior-estimate.js';
import { classificationMetrics } from '../eval/metrics.js';
import type { Checkpoint } from './checkpoint.js';
import { restoreRunCheckpoint, writeRunCheckpoint } from './run-checkpoint.js';
import { TrainingInterrupted } from './interrupted.js';
import { reinitialiseModel, trainStep, type TrainingState } from './training-state.js';
import { boundaryContext, generationInitSeed, generationRecord, generationSampler, labeledSetOf, type GenerationRecord } from './generations.js';
import type { Generation } from '../algorithms/boundary.js';
import type { Progress } from './progress.js';
import { PhaseTimer } from './phase-timer.js';
import type { PhaseSeconds } from '../report/loop-phases.js';

/** Everything the training loop needs, assembled by the composition root (src/run). */
export interface TrainerSetup {
  readonly config: RunConfig;
  /** Built for this config; borrowed (the caller disposes it). */
  readonly state: TrainingState;
  readonly dataset: Dataset;
  readonly split: LongTailSplit;
  readonly runDir: string;
  readonly events: EventLog;
  readonly progress: Progress;
  /** A checkpoint to continue from (validated against the config by the caller). */
  readonly resume?: Checkpoint;
  /** When aborted, the loop finishes the current step, writes a checkpoint and throws TrainingInterrupted. */
  readonly stop?: AbortSignal;
  /** Called after every completed step (tests use it to interrupt a run). */
  readonly onStep?: (step: number) => void;
  /** Labeled samplers whose batches make up each step's labeled batch (default: `config.sampler`). */
  readonly labeledSamplers?: readonly string[];
  /** Weak and strong views per unlabeled image the learner's step needs (default one each). */
  readonly unlabeledViews?: UnlabeledViews;
  /** The learner's work after the last step (τ-norm, NCM), followed by a final evaluation. */
  readonly finish?: (ctx: FinishContext) => Readonly<Record<string, number | string>>;
}

/** What a finished training run hands to the report. */
export interface TrainResult {
  /** Completed steps. */
  readonly steps: number;
  readonly evaluations: EvalRecord[];
  readonly pseudoLabelWindows: PseudoLabelWindow[];
  /** Training seconds, resumed segments included. */
  readonly seconds: number;
  /** ECE of the last test evaluation. */
  readonly testEce?: number;
  /** Test logits [N, C] of the final step's evaluation; absent when this process did not run it (a resume after the end). */
  readonly finalTestLogits?: Float32Array;
  /** What the learner's finishing work chose (τ-norm's τ), when it ran in this process. */
  readonly finished?: Readonly<Record<string, number | string>>;
  /** The generations of re-training (CReST), resumed segments included; absent for a run without. */
  readonly generations?: GenerationRecord[];
  /** Wall seconds per loop phase in this process (a resumed run's earlier segments are not in it). */
  readonly phases: PhaseSeconds;
}

/**
 * The training loop: pull a batch, train one step, track pseudo-label quality; evaluate the EMA
 * model every `evalEvery` steps on validation and test; checkpoint atomically every
 * `checkpointEvery` steps, at the end, and when `stop` is aborted.
 */
export async function train(setup: TrainerSetup): Promise<TrainResult> {
  const { config, state, dataset, split, events, progress } = setup;
  let tracker = new PseudoLabelTracker(dataset.numClasses, config.plWindow);
  const evaluations: EvalRecord[] = [];
  const windows: PseudoLabelWindow[] = [];
  const generations: GenerationRecord[] = [];
  let startStep = 0;
  let priorSeconds = 0;
  if (setup.resume) {
    const restored = restoreRunCheckpoint(setup.resume, state);
    startStep = restored.step;
    priorSeconds = restored.seconds;
    evaluations.push(...restored.evaluations);
    windows.push(...restored.windows);
    generations.push(...restored.generations);
    tracker = restored.tracker;
  }

  // Boundaries and generations of the add-ons (src/algorithms/boundary.ts); the generation in force is restored state.
  const hooks = state.algorithm.runHooks;
  const boundaries = new Set(hooks?.boundaries ?? []);
  let generation: Generation | null = hooks?.generation() ?? null;
  const unlabeled = state.algorithm.usesUnlabeled;
  const views = setup.unlabeledViews ?? { weak: 1, strong: 1 };
  const samplerNames = (setup.labeledSamplers ?? [config.sampler]) as readonly LabeledSamplerName[];
  /** The batch stream of a generation's labeled set from step `from` (the labeled split alone without generations). */
  const openSource = (g: Generation | null, from: number) => {
    const set = labeledSetOf(split, dataset, g);
    const stream = createSslBatchStream({
      train: dataset.train,
      labeledIdx: set.indices,
      labeledLabels: set.labels,
      unlabeledIdx: split.unlabeled,
      labeledBatch: config.labeledBatch * samplerNames.length,
      unlabeledBatch: unlabeled ? config.labeledBatch * config.unlabeledRatio : 0,
      labeledSampler: generationSampler(samplerNames, set.labels, config.seed, config.labeledBatch, config.iterations, g),
      seed: config.seed,
      startStep: from,
      prefetch: config.prefetch,
      workers: config.workers,
      augment: { padding: 4, strong: unlabeled && views.strong > 0, weakViews: views.weak, strongViews: Math.max(1, views.strong) },
    });
    return { set, stream };
  };
  let { set: labeledSet, stream: source } = openSource(generation, startStep);
  if (generation && generations.length === 0) {
    const record = generationRecord(generation, labeledSet, split, dataset);
    generations.push(record);
    events.append({ type: 'generation', step: generation.start, ...record });
  }

  const timer = new PhaseTimer();
  const started = Date.now();
  const seconds = (): number => priorSeconds + (Date.now() - started) / 1000;
  let lastTestEce: number | undefined;
  let finalTestLogits: Float32Array | undefined;
  let rateStart = Date.now();
  let rateSteps = 0;
  let step = startStep;
  // The truth the estimates are scored against; reporting only, never passed to the algorithm.
  const unlabeledPrior = classDistribution(Int32Array.from(split.unlabeled, (i) => dataset.train.labels[i]!), dataset.numClasses);
  const evaluate = (at: number): ReturnType<typeof evaluateModel> => {
    const record = evaluateModel(state.ema.model, dataset, split, at);
    const estimates = state.algorithm.priorEstimates?.() ?? {};
    const priors = Object.keys(estimates).length > 0 && split.unlabeled.length > 0 ? scorePriorEstimates(estimates, unlabeledPrior) : undefined;
    lastTestEce = record.ece;
    evaluations.push({ step: record.step, val: record.val, test: record.test, ...(record.heads ? { heads: record.heads } : {}), ...(priors ? { priors } : {}) });
    events.append({
      type: 'eval',
      step: at,
      test: { top1: record.test.top1, balancedAccuracy: record.test.balancedAccuracy, geometricMeanRecall: record.test.geometricMeanRecall, perClassAccuracy: record.test.perClassAccuracy },
      ...(record.val ? { val: { top1: record.val.top1, balancedAccuracy: record.val.balancedAccuracy } } : {}),
      ...(record.heads ? { heads: record.heads } : {}),
      ...(priors ? { priors } : {}),
    });
    const heads = record.heads
      ? `  [reported: ${record.heads.reported} head; ` +
        Object.entries(record.heads.test)
          .map(([h, m]) => `${h} ${(m.balancedAccuracy * 100).toFixed(2)}%`)
          .join(', ') +
        ' balanced]'
      : '';
    const kl = priors ? '  ' + Object.entries(priors).map(([source, p]) => `KL(${source} prior ‖ true) ${p.kl.toFixed(4)}`).join(', ') : '';
    progress.message(
      `eval @${at}: test top-1 ${(record.test.top1 * 100).toFixed(2)}%  balanced ${(record.test.balancedAccuracy * 100).toFixed(2)}%` +
        (record.val ? `  val balanced ${(record.val.balancedAccuracy * 100).toFixed(2)}%` : '') +
        heads +
        kl,
    );
    return record;
  };
  try {
    for (; step < config.iterations; step++) {
      const batch = await timer.timeAsync('batches', () => source.next());
      const { terms, pseudoLabels } = timer.time('steps', () => trainStep(state, batch, step, generation ?? undefined));
      if (pseudoLabels) {
        const window = timer.time('steps', () => tracker.recordStep(observations(pseudoLabels, batch.unlabeledLabels)));
        if (window) {
          windows.push(window);
          events.append({ type: 'pseudo-labels', step: step + 1, window });
        }
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
        const record = timer.time('evaluation', () => evaluate(step + 1));
        if (step + 1 === config.iterations) finalTestLogits = record.testLogits;
      }
      if (hooks && boundaries.has(step + 1)) {
        // After the step's evaluation (DASO evaluates, then starts the generation) and before its checkpoint, which so holds the new generation.
        const outcome = timer.time('boundaries', () => hooks.atBoundary(boundaryContext(state.ema.model, dataset, split, step + 1, config.iterations, (line) => progress.message(line))));
        if (Object.keys(outcome.records).length > 0) events.append({ type: 'boundary', step: step + 1, ...outcome.records });
        if (outcome.newGeneration) {
          generation = hooks.generation();
          if (!generation || generation.start !== step + 1) throw new Error(`train: a new generation at step ${step + 1} reports start ${generation?.start}`);
          reinitialiseModel(state, generationInitSeed(config.seed, generation.index));
          await source.close();
          ({ set: labeledSet, stream: source } = openSource(generation, step + 1));
          const record = generationRecord(generation, labeledSet, split, dataset);
          generations.push(record);
          events.append({ type: 'generation', step: step + 1, ...record });
        }
      }
      const stopping = setup.stop?.aborted === true;
      if ((step + 1) % config.checkpointEvery === 0 || step + 1 === config.iterations || stopping) {
        await timer.timeAsync('checkpoints', () => writeRunCheckpoint(setup.runDir, config, state, { step: step + 1, seconds: seconds(), tracker, evaluations, windows, generations }));
        events.append({ type: 'checkpoint', step: step + 1 });
      }
      setup.onStep?.(step);
      if (stopping) throw new TrainingInterrupted(step + 1, setup.runDir);
    }
    // Finishing work runs once, when this process reached the end (a resume after the end has it).
    let finished: TrainResult['finished'];
    if (setup.finish && (startStep < config.iterations || (config.iterations === 0 && !setup.resume))) {
      const record = setup.finish(finishContext(setup, progress));
      // An empty record: nothing was changed (cRT, LWS), so the last evaluation stands.
      if (Object.keys(record).length > 0) {
        finished = record;
        events.append({ type: 'finish', step, ...record });
        const last = evaluations.at(-1);
        if (last && last.step === step) evaluations.pop();
        finalTestLogits = timer.time('evaluation', () => evaluate(step).testLogits);
        await timer.timeAsync('checkpoints', () => writeRunCheckpoint(setup.runDir, config, state, { step, seconds: seconds(), tracker, evaluations, windows, generations }));
        events.append({ type: 'checkpoint', step });
      }
    }
    const partial = tracker.flush();
    if (partial && partial.endStep > (windows.at(-1)?.endStep ?? 0)) windows.push(partial);
    return {
      steps: step,
      evaluations,
      pseudoLabelWindows: windows,
      seconds: seconds(),
      testEce: lastTestEce,
      finalTestLogits,
      finished,
      ...(generations.length > 0 ? { generations } : {}),
      phases: timer.totals(),
    };
  } finally {
    progress.done();
    await source.close();
  }
}

/** What a learner's `finish` reads: the labeled split's features and the validation accuracy of a model. */
function finishContext(setup: TrainerSetup, progress: Progress): FinishContext {
  const { dataset, split, state } = setup;
  return {
    models: [state.model, state.ema.model],
    labeledFeatures: (model) => {
      const { features, labels } = extractFeatures(model, dataset.train, split.labeled, dataset);
      return { features, labels };
    },
    validationAccuracy: (model) => {
      if (split.validation.length === 0) return null;
      const v = predict(model, dataset.train, split.validation, dataset);
      return classificationMetrics(v.predictions, v.labels, dataset.numClasses).balancedAccuracy;
    },
    log: (line) => progress.message(line),
  };
}

/** The tracker's view of a step: `final` with its confidence mask, every other source as is. */
function observations(pl: StepPseudoLabels, groundTruth: Int32Array): Record<string, PseudoLabelObservation> {
  const out: Record<string, PseudoLabelObservation> = {};
  for (const [name, labels] of Object.entries(pl.sources)) {
    out[name] = name === 'final' ? { pseudoLabels: labels, groundTruth, confident: pl.confident } : { pseudoLabels: labels, groundTruth };
  }
  return out;
}
