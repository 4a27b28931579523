/**
 * A study's results: each cell's runs (method × γ_u), the mean ± std over seeds of the numbers
 * each run reported (with the selection rule it recorded: summary.json `final` already is that
 * rule's value, so nothing is re-selected here), and what makes a cell's rows incomparable.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { classLabels, tailClasses, type CurveEval } from '../report/run-report.js';
import { readRunHistory } from '../report/run-history.js';
import { STUDY_METRICS, tailPlOf, type MeanStd, type PriorKlPoint, type StudyCell, type StudyCellRun, type StudyMetric, type StudyResults } from '../report/study-report.js';
import type { RunSummary } from '../report/run-summary.js';
import type { StudyPlan } from './plan.js';
import { readStudyStatus, runDirOf, type RunStatus } from './run-state.js';
import { isReused, reusedRunIds } from './reuse-runs.js';

/** Mean and sample standard deviation (n − 1) of the defined values; null when there is none. */
export function meanStd(values: ReadonlyArray<number | null>): MeanStd | null {
  const d = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (d.length === 0) return null;
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = d.length > 1 ? Math.sqrt(d.reduce((a, v) => a + (v - mean) ** 2, 0) / (d.length - 1)) : null;
  return { mean, std, n: d.length };
}

/** Per class, the mean of the defined values over the vectors; null when there is no vector. */
function meanPerClass(vectors: ReadonlyArray<ReadonlyArray<number | null> | undefined>): Array<number | null> | null {
  const present = vectors.filter((v): v is ReadonlyArray<number | null> => v !== undefined);
  if (present.length === 0) return null;
  return present[0].map((_, c) => meanStd(present.map((v) => v[c] ?? null))?.mean ?? null);
}

function metricOf(s: RunSummary, metric: StudyMetric, tail: ReadonlyArray<number>): number | null {
  switch (metric) {
    case 'balancedAccuracy':
      return s.final.balancedAccuracy;
    case 'top1':
      return s.final.top1;
    case 'many':
    case 'medium':
    case 'few':
      return s.final.groups[metric].accuracy;
    case 'tailPlRecall':
      return tailPlOf(s, tail, 'recall');
    case 'tailPlPrecision':
      return tailPlOf(s, tail, 'precision');
    case 'priorKl':
      return priorKlOf(s);
  }
}

function distinct<T>(xs: ReadonlyArray<T>): T[] {
  return [...new Set(xs)];
}

/** Keys whose values differ between two schedules, as key=a/b. */
function differingKeys(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort()
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}=${JSON.stringify(a[k])}/${JSON.stringify(b[k])}`);
}

/** What makes a cell's finished runs incomparable among themselves. */
function cellFlags(done: ReadonlyArray<RunSummary>): string[] {
  const flags: string[] = [];
  const mixed = (what: string, values: ReadonlyArray<string>): void => {
    const d = distinct(values);
    if (d.length > 1) flags.push(`its runs have different ${what} (${d.join(', ')})`);
  };
  mixed('schedules', done.map((s) => s.schedule?.fingerprint ?? 'unrecorded'));
  mixed('datasets', done.map((s) => s.dataset));
  mixed('backends', done.map((s) => s.backend));
  mixed('precisions', done.map((s) => s.precision ?? 'fp32'));
  mixed('selection rules', done.map((s) => s.selection.rule));
  return flags;
}

/**
 * The results of a study from its runs' standing (pure: `ssl report studies/<id>` and tests call it).
 * @param wallSeconds from the first run's start to the last run's end, when known
 * @param reused ids of the runs copied from another study (`--reuse`) rather than trained in this one
 * @param priorPaths by run id, the KL of the run's own prior estimate at each evaluation ({@link priorKlPath})
 */
export function aggregateStudy(
  plan: StudyPlan,
  statuses: ReadonlyArray<RunStatus>,
  wallSeconds: number | null,
  reused: ReadonlySet<string> = new Set(),
  priorPaths: ReadonlyMap<string, ReadonlyArray<PriorKlPoint>> = new Map(),
): StudyResults {
  const methods = distinct(plan.runs.map((r) => r.method));
  const gammaU = [...plan.definition.gammaU];
  const summaries = statuses.flatMap((s) => (s.summary ? [s.summary] : []));
  const first = summaries[0];
  const tail = first ? tailClasses(first) : [];
  const cellsDone = new Map<string, RunSummary[]>();
  const cells: StudyCell[] = [];
  for (const method of methods) {
    for (const g of gammaU) {
      const mine = statuses.filter((s) => s.run.method === method && s.run.gammaU === g);
      const done = mine.flatMap((s) => (s.summary ? [s.summary] : []));
      cellsDone.set(`${method}|${g}`, done);
      const metrics = Object.fromEntries(STUDY_METRICS.map((m) => [m, meanStd(done.map((s) => metricOf(s, m, tail)))])) as Record<StudyMetric, MeanStd | null>;
      const runs: StudyCellRun[] = mine.map((s) => ({ runId: s.run.runId, seed: s.run.seed, state: s.state, ...(s.error ? { error: s.error } : {}), ...(s.summary ? { summary: s.summary } : {}) }));
      cells.push({
        method,
        gammaU: g,
        runs,
        metrics,
        perClass: {
          accuracy: meanPerClass(done.map((s) => s.final.perClassAccuracy)),
          plRecall: meanPerClass(done.map((s) => s.pseudoLabels?.sources['final']?.all.averaged.recall)),
          plPrecision: meanPerClass(done.map((s) => s.pseudoLabels?.sources['final']?.all.averaged.precision)),
        },
        priorKlCurve: meanPriorKlCurve(mine.flatMap((s) => (s.summary ? [priorPaths.get(s.run.runId) ?? []] : []))),
        flags: cellFlags(done),
      });
    }
  }
  // A "+method" row is compared with its baseline's row: the same schedule, or it is flagged.
  const withBaseline = cells.map((cell) => {
    const done = cellsDone.get(`${cell.method}|${cell.gammaU}`) ?? [];
    const parent = done.find((s) => s.schedule?.parent)?.schedule?.parent;
    const base = parent !== undefined && parent !== null ? cellsDone.get(`${parent}|${cell.gammaU}`) : undefined;
    if (!base || base.length === 0) return cell;
    const clash = done.flatMap((s) => base.filter((b) => b.schedule && s.schedule && b.schedule.fingerprint !== s.schedule.fingerprint).map((b) => differingKeys(s.schedule!.values, b.schedule!.values)));
    if (clash.length === 0) return cell;
    return { ...cell, flags: [...cell.flags, `trained on another schedule than its baseline ${parent} (${distinct(clash.flat()).join(', ')}): the difference is not the method's alone`] };
  });
  const notes: string[] = [];
  const counts = distinct(summaries.map((s) => s.classCounts.labeled.join(',')));
  if (counts.length > 1) notes.push(`the runs' labeled sets differ (class counts ${counts.map((c) => `[${c}]`).join(' vs ')}): the tail classes are the first run's`);
  const config = plan.runs[0]?.config;
  const header = first
    ? [first.dataset, first.net, ...Object.entries(first.settings ?? {}).filter(([k]) => k !== 'gammaU').map(([k, v]) => `${k}=${v}`), `${first.iterations} iterations`].join(' · ')
    : config
      ? [config.dataset, config.net, `gammaL=${config.gammaL}`, `n1=${config.n1}`, `m1=${config.m1}`, `${config.iterations} iterations`].join(' · ')
      : plan.id;
  return {
    id: plan.id,
    methods,
    gammaU,
    seeds: [...plan.definition.seeds],
    cells: withBaseline,
    classLabels: first ? classLabels(first) : [],
    tailClasses: tail,
    header,
    selectionRules: distinct(summaries.map((s) => s.selection.rule)),
    backends: distinct(summaries.map((s) => s.backend)),
    notes,
    wallSeconds,
    computeSeconds: summaries.reduce((a, s) => a + s.timing.seconds, 0),
    reusedRuns: statuses.filter((s) => s.summary && reused.has(s.run.runId)).length,
  };
}

/**
 * First run start (its config.json) to last summary, in seconds, over the runs trained in this
 * study (a reused run's times are its own study's); null before any run finished.
 */
export function studyWallSeconds(studyDir: string, statuses: ReadonlyArray<RunStatus>): number | null {
  const trained = statuses.filter((s) => !isReused(studyDir, s.run.runId));
  const starts = trained.flatMap((s) => {
    try {
      return [statSync(path.join(runDirOf(studyDir, s.run.runId), 'config.json')).mtimeMs];
    } catch {
      return [];
    }
  });
  const ends = trained.flatMap((s) => (s.summary ? [Date.parse(s.summary.createdAt)] : []));
  if (starts.length === 0 || ends.length === 0) return null;
  return Math.max(0, (Math.max(...ends) - Math.min(...starts)) / 1000);
}

/** Aggregates the study folder's runs as `statuses` found them (wall time, reused runs and prior-estimate paths read from the folder). */
export function aggregateStudyDir(studyDir: string, plan: StudyPlan, statuses: ReadonlyArray<RunStatus>): StudyResults {
  // Only the logs of runs that estimate a prior are read: the others have no path to draw.
  const paths = new Map(
    statuses.flatMap((s) => (s.summary && ownPriorSource(s.summary) ? [[s.run.runId, priorKlPath(s.summary, readRunHistory(runDirOf(studyDir, s.run.runId)).evals ?? [])] as const] : [])),
  );
  return aggregateStudy(plan, statuses, studyWallSeconds(studyDir, statuses), reusedRunIds(studyDir, statuses), paths);
}

/** Reads a study folder and aggregates it. */
export async function readStudyResults(studyDir: string, plan: StudyPlan): Promise<StudyResults> {
  return aggregateStudyDir(studyDir, plan, await readStudyStatus(studyDir, plan));
}

/**
 * The source of a run's own estimate of the unlabeled prior: the one named after the first of its
 * methods (learner, then add-ons in order) that logged one, so that every seed of a cell reports
 * the same estimator (SimPro logs nothing before its first M-step; an add-on may).
 */
function ownPriorSource(s: RunSummary): string | null {
  const sources = s.priorEstimates?.sources ?? {};
  return s.algorithm.split('+').find((name) => sources[name] !== undefined) ?? null;
}

/** KL(π̂ ‖ π) of a run's own estimate at its last evaluation. */
function priorKlOf(s: RunSummary): number | null {
  const own = ownPriorSource(s);
  return own ? s.priorEstimates!.sources[own]!.kl : null;
}

/** KL(π̂ ‖ π) of a run's own estimate at every evaluation that logged it, in step order. */
export function priorKlPath(s: RunSummary, evals: ReadonlyArray<CurveEval>): PriorKlPoint[] {
  const own = ownPriorSource(s);
  if (!own) return [];
  return evals.flatMap((e) => {
    const p = e.priors?.[own];
    return p ? [{ step: e.step, kl: p.kl }] : [];
  });
}

/** The mean over runs at each step that every run logged; null when a run has no path (then the runs are not comparable step by step). */
function meanPriorKlCurve(paths: ReadonlyArray<ReadonlyArray<PriorKlPoint>>): PriorKlPoint[] | null {
  if (paths.length === 0 || paths.some((p) => p.length === 0)) return null;
  const bySteps = paths.map((p) => new Map(p.map((q) => [q.step, q.kl])));
  const steps = paths[0]!.map((q) => q.step).filter((step) => bySteps.every((m) => m.has(step)));
  return steps.length === 0 ? null : steps.map((step) => ({ step, kl: bySteps.reduce((a, m) => a + m.get(step)!, 0) / bySteps.length }));
}
