import { scheduleOf } from '../config/schedule.js';
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeComposition, resolveRunConfig, savedComposition, type RunConfig } from '../config/run-config.js';
import { UserError } from '../errors.js';
import { selectBackend, type BackendSelection } from '../backend/select.js';
import { withPrecision, type PrecisionSelection } from '../backend/precision.js';
import { loadDataset } from '../data/sources/index.js';
import { classCounts } from '../data/longtail.js';
import { resolveSplit } from '../data/split-file.js';
import type { Dataset } from '../data/image-set.js';
import { registry } from '../algorithms/index.js';
import { buildRunSummary, type RunSummary } from '../report/run-summary.js';
import { writeRunReport } from '../report/write-report.js';
import { readRunHistory } from '../report/run-history.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { EventLog } from '../events/event-log.js';
import { createProgress } from '../train/progress.js';
import { train, type TrainResult } from '../train/loop.js';
import { createTrainingState } from '../train/training-state.js';
import { checkpointPath } from '../train/run-checkpoint.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { describeEnvironment } from './environment.js';
import { assertResumable } from './resume.js';
import { buildAlgorithm } from './build-algorithm.js';
import { loadStageOneWeights, readStageOne } from './stage-one.js';
import { relativeAccuracy } from './balanced-reference.js';
import { acquireRunLock } from './run-lock.js';
import { predict } from '../train/evaluate.js';
import { labeledLossEntry } from '../losses/index.js';
import { TARGET_DISTRIBUTIONS } from '../eval/shifted-targets.js';
import { scoreShiftedTargets, shiftedRule } from '../eval/score-shifted.js';
import { adjustedPredictions, postHocShift, POST_HOC_LA } from '../eval/post-hoc.js';
import { argmaxRows, classificationMetrics } from '../eval/metrics.js';
import { shotGroups } from '../eval/shot-groups.js';
import type { LastModelMetrics } from '../report/run-summary.js';

/** Options of {@link runExperiment} beyond the config. */
export interface ExperimentOptions {
  /** Continue the run in this directory from its last checkpoint. */
  readonly resumeDir?: string;
  /** Where human-readable lines go (default stderr). */
  readonly log?: (line: string) => void;
  /** Abort to stop after the current step with a checkpoint (the CLI wires Ctrl-C to it). */
  readonly stop?: AbortSignal;
  /** Called after each completed step (tests interrupt runs with it). */
  readonly onStep?: (step: number) => void;
  /** Use this in-memory dataset instead of loading `config.dataset` (library use, tests). */
  readonly dataset?: Dataset;
}

/** The outcome of a run: its directory and summary. */
export interface ExperimentResult {
  readonly runDir: string;
  readonly summary: RunSummary;
  readonly train: TrainResult;
}

/**
 * One run end to end, the composition root: backend, dataset, split, the method from the
 * registry, training, report. Writes runs/<id>/config.json (resolved), environment.json,
 * events.jsonl, checkpoints/last.ckpt, summary.json, summary.md, report.html and charts/*.png.
 */
export async function runExperiment(input: RunConfig, opts: ExperimentOptions = {}): Promise<ExperimentResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const backend = await selectBackend(input.backend, input.threads || undefined);
  log(`backend: ${backend.note}`);
  return withPrecision(input.precision, backend.name, (precision) => {
    log(`precision: ${precision.note}`);
    return runOnBackend(input, opts, backend, precision, log);
  });
}

async function runOnBackend(input: RunConfig, opts: ExperimentOptions, backend: BackendSelection, precision: PrecisionSelection, log: (line: string) => void): Promise<ExperimentResult> {
  const dataset = opts.dataset ?? (await loadDataset({ name: input.dataset, dataDir: input.dataDir ?? undefined }));
  const config = registry.resolveValues(input, { numClasses: dataset.numClasses, gammaL: input.gammaL, gammaU: input.gammaU, iterations: input.iterations });
  const { split } = await resolveSplit(dataset, config);
  const hooks = registry.learnerHooks(config);
  if (config.balancedReference) assertReferenceable(config, hooks.startsFrom !== null);
  const stageOne = hooks.startsFrom && !opts.resumeDir ? await readStageOne(hooks.startsFrom, config) : undefined;

  const runDir = opts.resumeDir ?? path.join(config.outDir, config.runId ?? defaultRunId(config));
  await mkdir(runDir, { recursive: true });
  const release = await acquireRunLock(runDir);
  try {
    return await trainInRunDir(config, runDir, { dataset, split, hooks, stageOne, backend, precision, log }, opts);
  } finally {
    await release();
  }
}

/** What {@link runExperiment} resolved before taking the run directory. */
interface Prepared {
  readonly dataset: Dataset;
  readonly split: Awaited<ReturnType<typeof resolveSplit>>['split'];
  readonly hooks: ReturnType<typeof registry.learnerHooks>;
  readonly stageOne: Awaited<ReturnType<typeof readStageOne>> | undefined;
  readonly backend: BackendSelection;
  readonly precision: PrecisionSelection;
  readonly log: (line: string) => void;
}

/** The run itself, in its locked directory: config, training, references, summary and report. */
async function trainInRunDir(config: RunConfig, runDir: string, prepared: Prepared, opts: ExperimentOptions): Promise<ExperimentResult> {
  const { dataset, split, hooks, stageOne, backend, precision, log } = prepared;
  const events = new EventLog(path.join(runDir, 'events.jsonl'));
  let resume;
  if (opts.resumeDir) {
    resume = await loadCheckpoint(checkpointPath(runDir));
    assertResumable(withNewOptionDefaults(resume.meta.config as Record<string, unknown>), config, checkpointPath(runDir));
    const step = resume.meta.step as number;
    await events.truncateFrom(step + 1);
    events.append({ type: 'resume', step });
    log(`resuming ${runDir} at step ${step}/${config.iterations}`);
  } else {
    if (existsSync(path.join(runDir, 'config.json'))) {
      throw new UserError('--run-id', `${runDir} already holds a run`, 'Pick another --run-id, or continue it with --resume.');
    }
    await writeFileAtomic(path.join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    events.append({ type: 'start', step: 0 });
  }
  await writeFileAtomic(
    path.join(runDir, 'environment.json'),
    `${JSON.stringify(describeEnvironment(backend.name, backend.note, config.seed, precision), null, 2)}\n`,
  );
  const labeledCounts = classCounts(split.labeled, dataset.train.labels, dataset.numClasses);
  const unlabeledCounts = classCounts(split.unlabeled, dataset.train.labels, dataset.numClasses);
  log(`run: ${runDir} (${describeComposition(config)})`);
  log(`split: ${split.labeled.length} labeled [${labeledCounts.join(' ')}], ${split.unlabeled.length} unlabeled [${unlabeledCounts.join(' ')}], ${split.validation.length} validation`);

  const state = createTrainingState(
    config,
    { numClasses: dataset.numClasses, inputChannels: dataset.train.channels, mean: dataset.mean, std: dataset.std },
    (model) => buildAlgorithm(config, { numClasses: dataset.numClasses, featureDim: model.featureDim, labeledClassCounts: labeledCounts, numUnlabeled: split.unlabeled.length }),
  );
  if (stageOne && hooks.startsFrom) {
    try {
      loadStageOneWeights(stageOne, state, hooks.startsFrom.keepHead);
    } catch (err) {
      state.dispose();
      throw err;
    }
    log(`stage 1: ${stageOne.dir} (its EMA model${hooks.startsFrom.keepHead ? '' : ', backbone only'})`);
  }
  let result: TrainResult;
  let lastModel: RunSummary['lastModel'];
  try {
    result = await train({
      config,
      state,
      dataset,
      split,
      runDir,
      events,
      progress: createProgress(config.progress),
      resume,
      stop: opts.stop,
      onStep: opts.onStep,
      labeledSamplers: hooks.labeledSamplers(config.sampler),
      unlabeledViews: hooks.unlabeledViews,
      finish: hooks.finish ?? undefined,
    });
    const logits = result.finalTestLogits ?? predict(state.ema.model, dataset.test, null, dataset).logits;
    const last = lastModelEvaluation(logits, dataset, labeledCounts, labeledLossEntry(config.labeledLoss).adjustsLogits);
    lastModel = last && result.finished ? { ...last, finish: result.finished } : last;
  } finally {
    state.dispose();
  }
  events.append({ type: 'end', step: result.steps });

  const built = buildRunSummary({
    runId: path.basename(runDir),
    algorithm: state.algorithm.name,
    method: { algorithm: config.algorithm, with: config.with },
    dataset: config.dataset,
    net: config.net,
    seed: config.seed,
    backend: backend.name,
    precision: precision.precision,
    iterations: result.steps,
    settings: { gammaL: config.gammaL, gammaU: config.gammaU, n1: config.n1, m1: config.m1 },
    schedule: scheduleOf(config as unknown as Parameters<typeof scheduleOf>[0]),
    classNames: dataset.classNames,
    evals: result.evaluations,
    selectionRule: config.selection,
    groupRule: 'count',
    classCounts: {
      labeled: labeledCounts,
      unlabeled: unlabeledCounts,
      validation: classCounts(split.validation, dataset.train.labels, dataset.numClasses),
      test: classCounts(null, dataset.test.labels, dataset.numClasses),
    },
    pseudoLabelWindows: result.pseudoLabelWindows,
    pseudoLabelWindow: config.plWindow,
    testEce: result.testEce,
    seconds: result.seconds,
    phases: result.phases,
    lastModel,
    ...(result.generations ? { generations: result.generations } : {}),
  });
  let summary = built;
  if (config.balancedReference) {
    log(`balanced references: plain CE and ${describeComposition(config)} on a class-balanced labeled set of ${labeledCounts.reduce((a, b) => a + b, 0)} images`);
    const rel = await relativeAccuracy(config, runDir, built.final.top1, async (c, resumeDir) => (await runExperiment(c, { ...opts, resumeDir })).summary);
    summary = { ...built, relativeAccuracy: rel };
    log(`relative accuracy: ${(rel.value * 100).toFixed(1)}% (A_t ${(rel.testTop1 * 100).toFixed(1)}%, A_v ${(rel.balancedCeTop1 * 100).toFixed(1)}%, A_b ${(rel.balancedMethodTop1 * 100).toFixed(1)}%)`);
  }
  const history = readRunHistory(runDir, result.evaluations, registry.chartMarkers(config));
  await writeRunReport(runDir, summary, history);
  return { runDir, summary, train: result };
}

/**
 * The last EMA model under LADE's 11 shifted test distributions and with DASO's post-hoc logit
 * adjustment (`top1_la`, skipped when the labeled loss already adjusted the logits), from the
 * final evaluation's test logits. Absent when the test set lacks a class.
 */
function lastModelEvaluation(logits: Float32Array, dataset: Dataset, labeledCounts: readonly number[], lossAdjusts: boolean): RunSummary['lastModel'] {
  // The shifted sets are drawn from every class's test images: none without a test image per class.
  const present = new Set(dataset.test.labels);
  if (present.size < dataset.numClasses) return undefined;
  const rows = scoreShiftedTargets(logits, dataset.test.labels, labeledCounts, TARGET_DISTRIBUTIONS, POST_HOC_LA);
  const uniform = rows.find((r) => r.target === 'uniform');
  return {
    rule: shiftedRule(dataset.test.labels, dataset.numClasses),
    shiftedTargets: rows.map((r) => ({ target: r.target, images: r.images, top1: r.top1 })),
    raw: testMetricsOf(argmaxRows(logits, dataset.numClasses), dataset, labeledCounts),
    ...(lossAdjusts || !uniform
      ? {}
      : {
          top1PostHocLa: uniform.top1Adjusted,
          postHocLa: testMetricsOf(adjustedPredictions(logits, dataset.numClasses, postHocShift(POST_HOC_LA, labeledCounts)), dataset, labeledCounts),
        }),
  };
}

/** Top-1, balanced accuracy and many/medium/few (count rule) of test predictions. */
function testMetricsOf(predictions: Int32Array, dataset: Dataset, labeledCounts: readonly number[]): LastModelMetrics {
  const m = classificationMetrics(predictions, dataset.test.labels, dataset.numClasses);
  return { top1: m.top1, balancedAccuracy: m.balancedAccuracy, groups: shotGroups(m.perClassAccuracy, labeledCounts, 'count').groups };
}

/** Refuses `--balanced-reference` where no balanced counterpart of the run can be drawn. */
function assertReferenceable(config: RunConfig, continuesARun: boolean): void {
  const why = continuesARun
    ? [`trains the method from scratch on a balanced set, and ${config.algorithm} continues a long-tailed run`, 'Pass --balanced-reference to the stage-1 run instead.']
    : config.balancedLabeled
      ? ['cannot be combined with --balanced-labeled (a reference of a reference)', 'Drop one of the two flags.']
      : config.splitFile !== null
        ? [`draws a balanced labeled set, and --split-file ${config.splitFile} fixes the split`, 'Drop --split-file, or train the references yourself with --balanced-labeled.']
        : null;
  if (why) throw new UserError('--balanced-reference', why[0], why[1]);
}

/**
 * A checkpoint's config with the options added since it was written at their defaults (a run from
 * before `--head` was a linear-head run), so that only a real difference refuses the resume.
 */
function withNewOptionDefaults(saved: Record<string, unknown>): Record<string, unknown> {
  try {
    return { ...resolveRunConfig(savedComposition(saved, 'checkpoint'), [{ source: 'checkpoint', values: saved }]), ...saved };
  } catch {
    return saved;
  }
}

function defaultRunId(config: RunConfig): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return `${[config.algorithm, ...config.with].join('+')}-${config.dataset}-s${config.seed}-${stamp}`;
}
