import type { PriorEstimateRecord } from '../eval/prior-estimate.js';
/**
 * The run summary: the stable `summary.json` schema (documented field by field in
 * docs/summary-json.md; scripts and studies read it, so fields are only ever added) and the
 * function that builds it from a finished run's evaluations and pseudo-label windows.
 *
 * All accuracies, recalls and precisions are fractions in [0, 1]; null means "undefined"
 * (a class without samples, a class never pseudo-labelled, an empty shot group).
 */
import type { ClassificationMetrics } from '../eval/metrics.js';
import type { PseudoLabelWindow } from '../eval/pseudo-label-tracker.js';
import { shotGroups, type ShotGroup, type ShotRule } from '../eval/shot-groups.js';
import { selectReported, type EvalRecord, type SelectionRule } from './select-reported.js';
import type { PhaseSeconds } from './loop-phases.js';

/** Reported metrics of one split after the selection rule. */
export interface ReportedMetrics {
  readonly top1: number;
  readonly balancedAccuracy: number;
  readonly geometricMeanRecall: number;
  /** Per-class accuracy (recall), null for a class without samples. */
  readonly perClassAccuracy: ReadonlyArray<number | null>;
  /** Samples per class in the evaluated split. */
  readonly perClassCount: ReadonlyArray<number>;
  /** Many / medium / few groups under `groupRule` (accuracy null = empty group). */
  readonly groups: { readonly many: ShotGroup; readonly medium: ShotGroup; readonly few: ShotGroup };
  readonly groupRule: ShotRule;
  /** Expected calibration error (15 bins) of the last evaluation, when it was computed. */
  readonly ece?: number;
}

/** Per-class pseudo-label quality vectors (each length C, null = undefined for that class). */
export interface PseudoLabelPerClass {
  readonly recall: ReadonlyArray<number | null>;
  readonly precision: ReadonlyArray<number | null>;
  readonly gain: ReadonlyArray<number | null>;
}

/** One view (all or confident) of one source: last window and mean over the last K windows. */
export interface PseudoLabelQuality {
  readonly last: PseudoLabelPerClass;
  /** Per class, the mean over the last `averagedWindows` windows of the defined values. */
  readonly averaged: PseudoLabelPerClass;
}

/** summary.json `pseudoLabels`. */
export interface PseudoLabelSummary {
  /** Window length W in steps. */
  readonly window: number;
  /** K: how many last windows `averaged` covers (fewer if the run had fewer). */
  readonly averagedWindows: number;
  /** Steps of the last window (inclusive, 1-based). */
  readonly lastWindow: { readonly startStep: number; readonly endStep: number };
  /** Keyed by source: 'final', 'linear', 'semantic' (those the algorithm produces). */
  readonly sources: Readonly<
    Record<
      string,
      {
        /** Every pseudo-label, confident or not (DASO's DistributionLogger). */
        readonly all: PseudoLabelQuality;
        /** Only pseudo-labels above the confidence threshold (those that enter the loss). */
        readonly confident?: PseudoLabelQuality;
        /** Fraction of confident samples in the last window. */
        readonly confidentRate?: number;
        /** KL(pseudo-label class distribution || ground-truth distribution), nats, last window, all view. */
        readonly klToGroundTruth?: number | null;
      }
    >
  >;
}

/** The stable summary.json schema, version 1. See docs/summary-json.md. */
export interface RunSummary {
  readonly schemaVersion: 1;
  readonly runId: string;
  /** The run's method as one name: the base learner and its add-ons joined by '+', e.g. 'fixmatch+daso'. */
  readonly algorithm: string;
  /** The same, as the config's base learner and ordered add-ons (absent in summaries written before it existed). */
  readonly method?: { readonly algorithm: string; readonly with: ReadonlyArray<string> };
  readonly dataset: string;
  readonly net: string;
  readonly seed: number;
  /** tfjs backend that ran the job, e.g. 'torch', 'cpu'. */
  readonly backend: string;
  /** Convolution arithmetic (`--precision`, resolved); absent in summaries from before the option (fp32). */
  readonly precision?: 'fp32' | 'bf16';
  /** Completed training steps. */
  readonly iterations: number;
  /** Key settings shown in report titles (e.g. gammaL, gammaU, n1, m1); free-form scalars. */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** Class names for labels in reports; indices are used when absent. */
  readonly classNames?: ReadonlyArray<string>;
  readonly selection: {
    readonly rule: SelectionRule;
    /** Evaluations the reported values come from. */
    readonly evaluations: number;
    /** Their steps. */
    readonly steps: ReadonlyArray<number>;
    /** All evaluations of the run. */
    readonly totalEvaluations: number;
  };
  /**
   * Every selection rule's test numbers side by side, since the papers differ (DASO: median of the
   * last 20; CPE, ACR's printed "best": the best); `selection.rule` says which one `final` is.
   */
  readonly selectionRules?: SelectionRules;
  /** Reported TEST metrics. */
  readonly final: ReportedMetrics;
  /** Reported validation metrics (same rule), when the run has a validation split. */
  readonly validation?: ReportedMetrics;
  readonly pseudoLabels?: PseudoLabelSummary;
  /**
   * The EMA model at the last step under LADE's shifted test distributions (raw logits), and
   * DASO's post-hoc logit-adjusted test top-1 (`top1_la`; absent when the labeled loss already
   * adjusted the logits). Not selected by `selection.rule`: the last model, as named.
   */
  readonly lastModel?: {
    readonly rule: string;
    readonly shiftedTargets: ReadonlyArray<{ readonly target: string; readonly images: number; readonly top1: number }>;
    /** The whole test set, raw logits. */
    readonly raw?: LastModelMetrics;
    readonly top1PostHocLa?: number;
    /** The whole test set after post-hoc logit adjustment (τ = 1). */
    readonly postHocLa?: LastModelMetrics;
    /** What the learner's finishing work chose (τ-norm's τ, NCM's metric). */
    readonly finish?: Readonly<Record<string, number | string>>;
  };
  /** Relative accuracy against the class-balanced references (`--balanced-reference`). */
  readonly relativeAccuracy?: RelativeAccuracy;
  /**
   * The run's schedule (every setting but seed, γ_u and bookkeeping), fingerprinted, and its
   * baseline: a "+method" row compares with its parent's only when the fingerprints agree.
   */
  readonly schedule?: ScheduleRecord;
  /**
   * For a model with several class heads (ABC): the head the reported numbers are from, and each
   * head's test accuracy at the last evaluation, so the printed head is never mistaken for the reported one.
   */
  readonly heads?: { readonly reported: string; readonly step: number; readonly test: Readonly<Record<string, { readonly top1: number; readonly balancedAccuracy: number }>> };
  /** The method's estimates of the unlabeled class prior at the last evaluation, by source, with KL(π̂ ‖ π). */
  readonly priorEstimates?: { readonly step: number; readonly truth: ReadonlyArray<number>; readonly sources: Readonly<Record<string, PriorEstimateRecord>> };
  /**
   * The generations of re-training (CReST), in order: each one's steps, the pseudo-labeled
   * samples it added per class, the labeled set it trained on, and the added samples' precision.
   */
  readonly generations?: ReadonlyArray<GenerationSummary>;
  readonly classCounts: {
    readonly labeled: ReadonlyArray<number>;
    readonly unlabeled: ReadonlyArray<number>;
    readonly validation?: ReadonlyArray<number>;
    readonly test?: ReadonlyArray<number>;
  };
  readonly timing: {
    /** Wall-clock training seconds (this process and resumed ones summed). */
    readonly seconds: number;
    /** Training iterations per second. */
    readonly itPerSec: number;
    /** Wall seconds per loop phase of the last process that trained (absent in older summaries). */
    readonly phases?: PhaseSeconds;
  };
  /** ISO 8601 time the summary was written. */
  readonly createdAt: string;
}

/**
 * Relative accuracy (Zhang et al., "Deep Long-Tailed Learning: A Survey", §4.1):
 * A_r = A_t / max(A_v, A_b), A_t the run's reported test top-1, A_v plain CE and A_b the same
 * method, both trained on a class-balanced labeled set of the same total size.
 */
export interface RelativeAccuracy {
  readonly value: number;
  readonly testTop1: number;
  readonly balancedCeTop1: number;
  readonly balancedMethodTop1: number;
  /** The reference run directories, relative to the run's. */
  readonly references: { readonly ce: string; readonly method: string };
}

/** One generation of re-training in the summary (summary.json `generations`). */
export interface GenerationSummary {
  /** 0-based. */
  readonly index: number;
  /** First step (0-based) and the step after the last. */
  readonly startStep: number;
  readonly endStep: number;
  /** [C] pseudo-labeled samples added per pseudo-class (all 0 in the first generation). */
  readonly addedPerClass: ReadonlyArray<number>;
  /** [C] labeled images per class trained on: the labeled split plus the additions. */
  readonly labeledPerClass: ReadonlyArray<number>;
  /** [C] fraction of a class's additions whose true class it is; null where none were added. */
  readonly addedPrecision: ReadonlyArray<number | null>;
}

/** One selection rule's pick: test top-1 and balanced accuracy, and the steps of the evaluations it used. */
export interface SelectionNumbers {
  readonly top1: number;
  readonly balancedAccuracy: number;
  readonly steps: ReadonlyArray<number>;
}

/**
 * summary.json `selectionRules`: `median-last-20`, `last`, `best-val` (absent without validation
 * metrics) and `best-test`, the evaluation with the highest TEST balanced accuracy (earliest on
 * ties). `best-test` is how CPE's README and ACR's log print "best": selected on the test set, so
 * optimistic; it is shown for comparison with those papers and is never a `selection.rule`.
 */
export interface SelectionRules {
  readonly 'median-last-20': SelectionNumbers;
  readonly last: SelectionNumbers;
  readonly 'best-val'?: SelectionNumbers;
  readonly 'best-test': SelectionNumbers;
}

/** Each rule's pick from the evaluations (in step order, at least one). */
export function selectionRules(evals: ReadonlyArray<EvalRecord>): SelectionRules {
  const pick = (rule: SelectionRule): SelectionNumbers => {
    const sel = selectReported(evals, rule);
    return { top1: sel.test.top1, balancedAccuracy: sel.test.balancedAccuracy, steps: [...sel.steps] };
  };
  let best = evals[0]!;
  for (const e of evals) if (e.test.balancedAccuracy > best.test.balancedAccuracy) best = e;
  return {
    'median-last-20': pick('median-last-20'),
    last: pick('last'),
    ...(evals.every((e) => e.val !== undefined) ? { 'best-val': pick('best-val') } : {}),
    'best-test': { top1: best.test.top1, balancedAccuracy: best.test.balancedAccuracy, steps: [best.step] },
  };
}

/** The last model's test metrics in the summary (count rule for the groups). */
export interface LastModelMetrics {
  readonly top1: number;
  readonly balancedAccuracy: number;
  readonly groups: { readonly many: ShotGroup; readonly medium: ShotGroup; readonly few: ShotGroup };
}

function reported(
  m: ClassificationMetrics,
  trainCounts: ReadonlyArray<number>,
  groupRule: ShotRule,
  ece: number | undefined,
): ReportedMetrics {
  const g = shotGroups(m.perClassAccuracy, trainCounts, groupRule);
  return {
    top1: m.top1,
    balancedAccuracy: m.balancedAccuracy,
    geometricMeanRecall: m.geometricMeanRecall,
    perClassAccuracy: [...m.perClassAccuracy],
    perClassCount: [...m.perClassCount],
    groups: g.groups,
    groupRule,
    ...(ece !== undefined ? { ece } : {}),
  };
}

function meanPerClass(vectors: ReadonlyArray<ReadonlyArray<number | null>>): Array<number | null> {
  const C = vectors[0]?.length ?? 0;
  const out: Array<number | null> = [];
  for (let c = 0; c < C; c++) {
    let s = 0;
    let n = 0;
    for (const v of vectors) {
      const x = v[c];
      if (x === null || x === undefined) continue;
      s += x;
      n++;
    }
    out.push(n === 0 ? null : s / n);
  }
  return out;
}

/**
 * Condenses pseudo-label windows: the last window and the per-class mean of the last K windows,
 * for each source and view. Returns undefined when there is no window.
 * @param windows in step order
 * @param averagedWindows K (default 5)
 */
export function summarizePseudoLabels(
  windows: ReadonlyArray<PseudoLabelWindow>,
  window: number,
  averagedWindows = 5,
): PseudoLabelSummary | undefined {
  if (windows.length === 0) return undefined;
  const last = windows[windows.length - 1];
  const used = windows.slice(-averagedWindows);
  const sources: Record<string, PseudoLabelSummary['sources'][string]> = {};
  for (const [name, s] of Object.entries(last.sources)) {
    const present = used.map((w) => w.sources[name]).filter((x) => x !== undefined);
    const quality = (view: 'all' | 'confident'): PseudoLabelQuality | undefined => {
      const lastView = s[view];
      if (lastView === undefined) return undefined;
      const views = present.map((p) => p[view]).filter((x) => x !== undefined);
      return {
        last: { recall: [...lastView.recall], precision: [...lastView.precision], gain: [...lastView.gain] },
        averaged: {
          recall: meanPerClass(views.map((v) => v.recall)),
          precision: meanPerClass(views.map((v) => v.precision)),
          gain: meanPerClass(views.map((v) => v.gain)),
        },
      };
    };
    const all = quality('all') as PseudoLabelQuality;
    const confident = quality('confident');
    sources[name] = {
      all,
      ...(confident ? { confident } : {}),
      ...(s.confidentRate !== undefined ? { confidentRate: s.confidentRate } : {}),
      klToGroundTruth: s.all.klToGroundTruth,
    };
  }
  return {
    window,
    averagedWindows: used.length,
    lastWindow: { startStep: last.startStep, endStep: last.endStep },
    sources,
  };
}

/** Everything {@link buildRunSummary} needs. */
export interface RunSummaryInput
  extends Pick<
    RunSummary,
    'runId' | 'algorithm' | 'method' | 'dataset' | 'net' | 'seed' | 'backend' | 'precision' | 'iterations' | 'settings' | 'classNames' | 'classCounts' | 'lastModel' | 'relativeAccuracy' | 'schedule' | 'generations'
  > {
  /** All evaluations in step order. */
  readonly evals: ReadonlyArray<EvalRecord>;
  readonly selectionRule: SelectionRule;
  readonly groupRule: ShotRule;
  /** Closed pseudo-label windows in step order (and the flushed partial last one, if wanted). */
  readonly pseudoLabelWindows?: ReadonlyArray<PseudoLabelWindow>;
  /** Window length W of those windows. */
  readonly pseudoLabelWindow?: number;
  /** K of `averaged` (default 5). */
  readonly pseudoLabelAveragedWindows?: number;
  /** ECE of the last test evaluation, if computed. */
  readonly testEce?: number;
  readonly seconds: number;
  /** Wall seconds per loop phase of this process. */
  readonly phases?: PhaseSeconds;
  /** Defaults to now. */
  readonly createdAt?: string;
}

function headsOf(evals: ReadonlyArray<EvalRecord>): Pick<RunSummary, 'heads'> {
  const last = [...evals].reverse().find((e) => e.heads);
  return last?.heads ? { heads: { reported: last.heads.reported, step: last.step, test: last.heads.test } } : {};
}

function priorsOf(evals: ReadonlyArray<EvalRecord>, unlabeledCounts: ReadonlyArray<number> | undefined): Pick<RunSummary, 'priorEstimates'> {
  const last = [...evals].reverse().find((e) => e.priors);
  if (!last?.priors || !unlabeledCounts) return {};
  const total = unlabeledCounts.reduce((a, b) => a + b, 0);
  return { priorEstimates: { step: last.step, truth: unlabeledCounts.map((c) => c / total), sources: last.priors } };
}

/** A run's schedule: the settings its numbers depend on besides the method, fingerprinted, and its baseline. */
export interface ScheduleRecord {
  /** First 12 hex digits of the SHA-256 of the schedule values as sorted JSON. */
  readonly fingerprint: string;
  /** The base learner alone (the "+method" run's baseline), or null for a run without add-ons. */
  readonly parent: string | null;
  readonly values: Readonly<Record<string, unknown>>;
}

/** Builds the summary.json object (groups from the LABELED training counts). */
export function buildRunSummary(input: RunSummaryInput): RunSummary {
  const sel = selectReported(input.evals, input.selectionRule);
  const trainCounts = input.classCounts.labeled;
  const pl =
    input.pseudoLabelWindows && input.pseudoLabelWindows.length > 0
      ? summarizePseudoLabels(
          input.pseudoLabelWindows,
          input.pseudoLabelWindow ?? input.pseudoLabelWindows[0].endStep - input.pseudoLabelWindows[0].startStep + 1,
          input.pseudoLabelAveragedWindows ?? 5,
        )
      : undefined;
  return {
    schemaVersion: 1,
    runId: input.runId,
    algorithm: input.algorithm,
    ...(input.method ? { method: { algorithm: input.method.algorithm, with: [...input.method.with] } } : {}),
    dataset: input.dataset,
    net: input.net,
    seed: input.seed,
    backend: input.backend,
    ...(input.precision ? { precision: input.precision } : {}),
    iterations: input.iterations,
    ...(input.settings ? { settings: { ...input.settings } } : {}),
    ...(input.classNames ? { classNames: [...input.classNames] } : {}),
    selection: {
      rule: sel.rule,
      evaluations: sel.evaluations,
      steps: [...sel.steps],
      totalEvaluations: input.evals.length,
    },
    selectionRules: selectionRules(input.evals),
    final: reported(sel.test, trainCounts, input.groupRule, input.testEce),
    ...(sel.validation ? { validation: reported(sel.validation, trainCounts, input.groupRule, undefined) } : {}),
    ...(pl ? { pseudoLabels: pl } : {}),
    ...(input.lastModel ? { lastModel: input.lastModel } : {}),
    ...(input.relativeAccuracy ? { relativeAccuracy: input.relativeAccuracy } : {}),
    ...(input.schedule ? { schedule: input.schedule } : {}),
    ...headsOf(input.evals),
    ...priorsOf(input.evals, input.classCounts.unlabeled),
    ...(input.generations ? { generations: input.generations } : {}),
    classCounts: input.classCounts,
    timing: {
      seconds: input.seconds,
      itPerSec: input.seconds > 0 ? input.iterations / input.seconds : 0,
      ...(input.phases ? { phases: input.phases } : {}),
    },
    createdAt: input.createdAt ?? new Date().toISOString(),
  };
}
