import { describe, expect, it } from 'vitest';
import { aggregateStudy, meanStd, priorKlPath } from '../../src/study/aggregate.js';
import type { PlannedRun, StudyPlan } from '../../src/study/plan.js';
import type { RunState, RunStatus } from '../../src/study/run-state.js';
import type { RunSummary } from '../../src/report/run-summary.js';
import type { RunConfig } from '../../src/config/run-config.js';
import { cellOf, formatMeanStd, gammaLabel, studyCharts, writeStudyMarkdown } from '../../src/report/study-report.js';

const labeled = [300, 120, 40, 10]; // count rule: many [0, 1], medium [2], few [3] = the tail

/** A finished run's summary with the fields a study reads. */
function summary(method: string, seed: number, balanced: number, tailRecall: number, fingerprint = 'aaaa'): RunSummary {
  const group = (classes: number[], accuracy: number | null) => ({ classes, accuracy });
  const parent = method.includes('+') ? method.split('+')[0] : null;
  const pl = (tail: number) => ({ recall: [1, 0.9, 0.5, tail], precision: [0.8, 0.9, 0.7, 0.5], gain: [1, 1, 1, 1] });
  return {
    schemaVersion: 1,
    runId: `${method}-s${seed}`,
    algorithm: method,
    dataset: 'toy',
    net: 'cnn-small',
    seed,
    backend: 'cpu',
    iterations: 10,
    settings: { gammaL: 30, gammaU: 1, n1: 300, m1: 600 },
    classNames: ['a', 'b', 'c', 'd'],
    selection: { rule: 'median-last-20', evaluations: 2, steps: [5, 10], totalEvaluations: 2 },
    final: {
      top1: balanced + 0.1,
      balancedAccuracy: balanced,
      geometricMeanRecall: balanced,
      perClassAccuracy: [0.9, 0.8, 0.6, balanced - 0.3],
      perClassCount: [10, 10, 10, 10],
      groups: { many: group([0, 1], 0.85), medium: group([2], 0.6), few: group([3], balanced - 0.3) },
      groupRule: 'count',
    },
    pseudoLabels: { window: 5, averagedWindows: 2, lastWindow: { startStep: 6, endStep: 10 }, sources: { final: { all: { last: pl(tailRecall), averaged: pl(tailRecall) } } } },
    schedule: { fingerprint, parent, values: { iterations: fingerprint === 'aaaa' ? 10 : 20 } },
    classCounts: { labeled, unlabeled: [100, 100, 100, 100] },
    timing: { seconds: 30, itPerSec: 1 / 3 },
    createdAt: '2026-01-01T00:00:00.000Z',
  } as RunSummary;
}

function planned(method: string, gammaU: number, seed: number): PlannedRun {
  return { runId: `${method}-gu${gammaU}-s${seed}`, method, gammaU, seed, config: { iterations: 10 } as RunConfig };
}

function status(run: PlannedRun, state: RunState, s?: RunSummary, error?: string): RunStatus {
  return { run, state, step: s ? 10 : null, total: 10, itPerSec: null, ...(s ? { summary: s } : {}), ...(error ? { error } : {}) };
}

function plan(runs: PlannedRun[]): StudyPlan {
  return { schemaVersion: 1, kind: 'ssl-study', id: 'mismatch-test', definition: { kind: 'mismatch', name: 'mismatch', methods: ['fixmatch', 'daso'], gammaU: [100, 0.01], seeds: [0, 1], set: {} }, runs, createdAt: '' };
}

describe('study aggregation', () => {
  it('mean and sample std over seeds (n − 1), hand-computed', () => {
    // mean(0.60, 0.70) = 0.65; std = sqrt(((−0.05)² + 0.05²) / 1) = 0.0707107
    const m = meanStd([0.6, 0.7, null]);
    expect(m?.mean).toBeCloseTo(0.65, 12);
    expect(m?.std).toBeCloseTo(0.0707107, 6);
    expect(m?.n).toBe(2);
    expect(meanStd([0.5])).toEqual({ mean: 0.5, std: null, n: 1 });
    expect(meanStd([null])).toBeNull();
    expect(formatMeanStd(m)).toBe('65.0 ± 7.1');
    expect(gammaLabel(0.01)).toBe('1/100');
    expect(gammaLabel(100)).toBe('100');
  });

  it('lays out methods × γ_u with each run\'s reported numbers, shows a failed run, flags a baseline on another schedule', () => {
    const fm = [planned('fixmatch', 100, 0), planned('fixmatch', 100, 1), planned('fixmatch', 0.01, 0), planned('fixmatch', 0.01, 1)];
    const da = [planned('fixmatch+daso', 100, 0), planned('fixmatch+daso', 100, 1), planned('fixmatch+daso', 0.01, 0), planned('fixmatch+daso', 0.01, 1)];
    const statuses = [
      status(fm[0], 'done', summary('fixmatch', 0, 0.6, 0.2)),
      status(fm[1], 'done', summary('fixmatch', 1, 0.7, 0.4)),
      status(fm[2], 'done', summary('fixmatch', 0, 0.5, 0.1)),
      status(fm[3], 'failed', undefined, 'out of memory'),
      status(da[0], 'done', summary('fixmatch+daso', 0, 0.7, 0.6)),
      status(da[1], 'done', summary('fixmatch+daso', 1, 0.8, 0.8)),
      // Trained on another schedule than its baseline in the same column.
      status(da[2], 'done', summary('fixmatch+daso', 0, 0.6, 0.5, 'bbbb')),
      status(da[3], 'done', summary('fixmatch+daso', 1, 0.6, 0.5, 'bbbb')),
    ];
    const r = aggregateStudy(plan([...fm, ...da]), statuses, 120);
    expect(r.methods).toEqual(['fixmatch', 'fixmatch+daso']);
    expect(r.tailClasses).toEqual([3]);
    const a = cellOf(r, 'fixmatch', 100)!;
    expect(a.metrics.balancedAccuracy?.mean).toBeCloseTo(0.65, 12);
    expect(a.metrics.top1?.mean).toBeCloseTo(0.75, 12);
    // Tail PL recall: class 3's recall, mean(0.2, 0.4) = 0.3; precision 0.5.
    expect(a.metrics.tailPlRecall?.mean).toBeCloseTo(0.3, 12);
    expect(a.metrics.tailPlPrecision?.mean).toBeCloseTo(0.5, 12);
    expect(a.metrics.few?.mean).toBeCloseTo(0.35, 12);
    expect(a.perClass.plRecall).toEqual([1, 0.9, 0.5, expect.closeTo(0.3, 12)]);
    expect(a.flags).toEqual([]);
    const failed = cellOf(r, 'fixmatch', 0.01)!;
    expect(failed.metrics.balancedAccuracy).toEqual({ mean: 0.5, std: null, n: 1 });
    expect(cellOf(r, 'fixmatch+daso', 0.01)!.flags[0]).toMatch(/another schedule than its baseline fixmatch \(iterations=20\/10\)/);
    expect(cellOf(r, 'fixmatch+daso', 100)!.flags).toEqual([]);

    const md = writeStudyMarkdown(r);
    expect(md).toContain('| method | γ_u = 100 | γ_u = 1/100 |');
    expect(md).toContain('| fixmatch | 65.0 ± 7.1 | 50.0 (1/2, 1 failed) |');
    expect(md).toContain('| fixmatch+daso | 75.0 ± 7.1 | 60.0 ± 0.0 ⚠1 |');
    expect(md).toMatch(/## Failed runs[^]*`fixmatch-gu0.01-s1` \(fixmatch, γ_u = 1\/100, seed 1\): out of memory/);
    expect(md).toMatch(/⚠1 fixmatch\+daso, γ_u = 1\/100: trained on another schedule/);
    expect(md).toContain('| fixmatch-gu0.01-s1 | fixmatch | 1/100 | 1 | failed |');
    expect(md).toMatch(/Tail-class pseudo-label recall[^]*\| fixmatch \| 30\.0 ± 14\.1 \| 50\.0 ± 0\.0 \|/);
    expect(md).toMatch(/wall time 2 min 0 s/);
    const charts = studyCharts(r).map((c) => c.name);
    expect(charts).toEqual(['study-balanced-accuracy', 'study-tail-pl-recall', 'study-pl-recall-gu100', 'study-pl-recall-gu0.01']);
  });

  it('flags a cell whose runs differ in backend', () => {
    const runs = [planned('fixmatch', 100, 0), planned('fixmatch', 100, 1)];
    const other = { ...summary('fixmatch', 1, 0.7, 0.4), backend: 'torch' } as RunSummary;
    const r = aggregateStudy({ ...plan(runs), definition: { ...plan(runs).definition, gammaU: [100] } }, [status(runs[0], 'done', summary('fixmatch', 0, 0.6, 0.2)), status(runs[1], 'done', other)], null);
    expect(cellOf(r, 'fixmatch', 100)!.flags).toEqual(['its runs have different backends (cpu, torch)']);
  });
});

describe('the prior-estimate column', () => {
  it('takes the KL of each run\'s first logged source, averages it over seeds, and is left out when no method estimates', () => {
    const runs = [planned('fixmatch', 1, 0), planned('acr', 1, 0), planned('acr', 1, 1)];
    const withPrior = (seed: number, kl: number): RunSummary =>
      ({ ...summary('acr', seed, 0.7, 0.4), priorEstimates: { step: 10, truth: [0.25, 0.25, 0.25, 0.25], sources: { acr: { estimate: [0.4, 0.2, 0.2, 0.2], kl }, other: { estimate: [0.25, 0.25, 0.25, 0.25], kl: 0 } } } }) as RunSummary;
    const p = { ...plan(runs), definition: { ...plan(runs).definition, methods: ['fixmatch', 'acr'], gammaU: [1] } };
    const r = aggregateStudy(p, [status(runs[0], 'done', summary('fixmatch', 0, 0.6, 0.2)), status(runs[1], 'done', withPrior(0, 0.05)), status(runs[2], 'done', withPrior(1, 0.07))], null);
    // mean(0.05, 0.07) = 0.06, sample std = 0.0141421; FixMatch logs no estimate (and ran 1 of its 2 seeds).
    expect(cellOf(r, 'acr', 1)!.metrics.priorKl?.mean).toBeCloseTo(0.06, 12);
    expect(cellOf(r, 'fixmatch', 1)!.metrics.priorKl).toBeNull();
    const md = writeStudyMarkdown(r);
    expect(md).toMatch(/## Estimate of the unlabeled class prior: KL\(π̂ ‖ π\)[^]*\| fixmatch \| — \(1\/2\) \|\n\| acr \| 0\.060 ± 0\.014 \|/);
    const none = aggregateStudy(p, [status(runs[0], 'done', summary('fixmatch', 0, 0.6, 0.2))], null);
    expect(writeStudyMarkdown(none)).not.toContain('Estimate of the unlabeled class prior');
  });

  it('follows each method\'s own estimate over training: its KL at every evaluation, the mean over seeds at common steps, one line chart per γ_u', () => {
    const runs = [planned('fixmatch', 1, 0), planned('acr', 1, 0), planned('acr', 1, 1)];
    const acr = (seed: number): RunSummary =>
      ({ ...summary('acr', seed, 0.7, 0.4), priorEstimates: { step: 30, truth: [0.25, 0.25, 0.25, 0.25], sources: { other: { estimate: [0.25, 0.25, 0.25, 0.25], kl: 0 }, acr: { estimate: [0.4, 0.2, 0.2, 0.2], kl: 0.1 } } } }) as RunSummary;
    const test = { top1: 0.5, balancedAccuracy: 0.5, geometricMeanRecall: 0.5 };
    // The add-on's source comes first in the log; the path is ACR's own, and an evaluation without it is skipped.
    const evals = [
      { step: 10, test },
      { step: 20, test, priors: { other: { kl: 0 }, acr: { kl: 0.9 } } },
      { step: 30, test, priors: { other: { kl: 0 }, acr: { kl: 0.3 } } },
    ];
    expect(priorKlPath(acr(0), evals)).toEqual([{ step: 20, kl: 0.9 }, { step: 30, kl: 0.3 }]);
    expect(priorKlPath(summary('fixmatch', 0, 0.6, 0.2), evals)).toEqual([]);
    const p = { ...plan(runs), definition: { ...plan(runs).definition, methods: ['fixmatch', 'acr'], gammaU: [1] } };
    const statuses = [status(runs[0], 'done', summary('fixmatch', 0, 0.6, 0.2)), status(runs[1], 'done', acr(0)), status(runs[2], 'done', acr(1))];
    const paths = new Map([
      [runs[1].runId, [{ step: 20, kl: 0.9 }, { step: 30, kl: 0.3 }]],
      // Seed 1 also logged step 40, which seed 0 did not reach: only the common steps are averaged.
      [runs[2].runId, [{ step: 20, kl: 0.7 }, { step: 30, kl: 0.1 }, { step: 40, kl: 0.05 }]],
    ]);
    const r = aggregateStudy(p, statuses, null, new Set(), paths);
    const curve = cellOf(r, 'acr', 1)!.priorKlCurve!;
    expect(curve.map((q) => q.step)).toEqual([20, 30]);
    expect(curve[0]!.kl).toBeCloseTo(0.8, 12);
    expect(curve[1]!.kl).toBeCloseTo(0.2, 12);
    expect(cellOf(r, 'fixmatch', 1)!.priorKlCurve).toBeNull();
    const chart = studyCharts(r).find((c) => c.name === 'study-prior-kl-gu1');
    expect(chart?.svg).toContain('KL(estimated ‖ true unlabeled prior) over training, γ_u = 1');
    expect(chart?.svg).toContain('>acr<');
    expect(chart?.svg).not.toContain('>fixmatch<');
    expect(chart?.svg).toContain('mean over seeds 0, 1');
    // One seed: the subtitles name it and claim no statistic over it.
    const oneSeed = studyCharts({ ...r, seeds: [0] });
    expect(oneSeed.every((c) => c.svg.includes('seed 0') && !c.svg.includes('over seeds'))).toBe(true);
    // A finished run without a logged path makes the cell's curve unknown, and no chart is drawn.
    const partial = aggregateStudy(p, statuses, null, new Set(), new Map([[runs[1].runId, paths.get(runs[1].runId)!]]));
    expect(cellOf(partial, 'acr', 1)!.priorKlCurve).toBeNull();
    expect(studyCharts(partial).some((c) => c.name.startsWith('study-prior-kl'))).toBe(false);
  });
});
