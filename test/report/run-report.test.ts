import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClassificationMetrics } from '../../src/eval/metrics.js';
import { PseudoLabelTracker, type PseudoLabelWindow } from '../../src/eval/pseudo-label-tracker.js';
import { renderComparison } from '../../src/report/comparison.js';
import { renderRunReportHtml, runCharts, writeSummaryMarkdown } from '../../src/report/run-report.js';
import { buildRunSummary, summarizePseudoLabels, type RunSummary } from '../../src/report/run-summary.js';
import type { EvalRecord } from '../../src/report/select-reported.js';
import { readRunSummary, writeComparisonReport, writeRunReport } from '../../src/report/write-report.js';
import { UserError } from '../../src/errors.js';

const C = 4;
const labeled = [300, 120, 40, 30]; // count rule: many [0,1], medium [2,3], few [] (empty)

function m(perClass: number[]): ClassificationMetrics {
  const bal = perClass.reduce((a, b) => a + b, 0) / perClass.length;
  return { numSamples: 40, top1: bal, balancedAccuracy: bal, geometricMeanRecall: bal, perClassAccuracy: perClass, perClassCount: [10, 10, 10, 10] };
}

/** Windows where class 3 (the tail) is pseudo-labelled correctly `tailHits` times out of 4. */
function windows(tailHits: number): PseudoLabelWindow[] {
  const t = new PseudoLabelTracker(C, 1);
  const out: PseudoLabelWindow[] = [];
  for (let s = 0; s < 3; s++) {
    const gt = Int32Array.from([0, 1, 2, 3, 3, 3, 3]);
    const pl = Int32Array.from([0, 1, 2, ...[0, 1, 2, 3].map((k) => (k < tailHits ? 3 : 0))]);
    const w = t.recordStep({ final: { pseudoLabels: pl, groundTruth: gt } });
    if (w) out.push(w);
  }
  return out;
}

function summary(algorithm: string, tailHits: number): RunSummary {
  const evals: EvalRecord[] = [
    { step: 100, test: m([0.9, 0.8, 0.5, 0.1]), val: m([0.9, 0.8, 0.5, 0.2]) },
    { step: 200, test: m([0.9, 0.8, 0.6, 0.2 + tailHits / 10]), val: m([0.9, 0.8, 0.6, 0.3]) },
    { step: 300, test: m([1, 0.9, 0.7, 0.3]), val: m([1, 0.9, 0.7, 0.4]) },
  ];
  return buildRunSummary({
    runId: `${algorithm}-1`,
    algorithm,
    dataset: 'toy',
    net: 'cnn-small',
    seed: 1,
    backend: 'cpu',
    iterations: 300,
    evals,
    selectionRule: 'median-last-20',
    groupRule: 'count',
    classCounts: { labeled, unlabeled: [50, 50, 50, 50] },
    pseudoLabelWindows: windows(tailHits),
    pseudoLabelWindow: 1,
    seconds: 60,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
}

describe('buildRunSummary', () => {
  it('applies the selection rule and computes groups from labeled counts', () => {
    const s = summary('daso', 3);
    expect(s.schemaVersion).toBe(1);
    expect(s.selection).toEqual({ rule: 'median-last-20', evaluations: 3, steps: [100, 200, 300], totalEvaluations: 3 });
    // medians per class: [0.9, 0.8, 0.6, median(0.1, 0.5, 0.3) = 0.3]
    expect(s.final.perClassAccuracy).toEqual([0.9, 0.8, 0.6, 0.3]);
    expect(s.final.groups.many.classes).toEqual([0, 1]);
    expect(s.final.groups.many.accuracy).toBeCloseTo(0.85, 12);
    expect(s.final.groups.medium.accuracy).toBeCloseTo(0.45, 12);
    expect(s.final.groups.few).toEqual({ classes: [], accuracy: null });
    expect(s.validation?.perClassAccuracy[3]).toBe(0.3);
    expect(s.timing).toEqual({ seconds: 60, itPerSec: 5 });
    expect(s.pseudoLabels?.sources['final'].all.last.recall).toEqual([1, 1, 1, 0.75]);
    expect(s.pseudoLabels?.lastWindow).toEqual({ startStep: 3, endStep: 3 });
  });

  it('averages pseudo-label windows per class over the last K, skipping undefined values', () => {
    const t = new PseudoLabelTracker(2, 1);
    const w1 = t.recordStep({ final: { pseudoLabels: Int32Array.from([0, 0]), groundTruth: Int32Array.from([0, 1]) } });
    const w2 = t.recordStep({ final: { pseudoLabels: Int32Array.from([1, 1]), groundTruth: Int32Array.from([0, 1]) } });
    const w3 = t.recordStep({ final: { pseudoLabels: Int32Array.from([0, 1]), groundTruth: Int32Array.from([0, 1]) } });
    const pl = summarizePseudoLabels([w1, w2, w3] as PseudoLabelWindow[], 1, 2);
    expect(pl?.averagedWindows).toBe(2);
    // last two windows: recall class 0: 0 and 1 -> 0.5; precision class 0: null and 1 -> 1
    expect(pl?.sources['final'].all.averaged.recall).toEqual([0.5, 1]);
    expect(pl?.sources['final'].all.averaged.precision).toEqual([1, 0.75]);
    expect(summarizePseudoLabels([], 500)).toBeUndefined();
  });
});

describe('selection rules side by side', () => {
  it('median-last-20, last, best-val and best-test each pick their own evaluation; the reported one is named', () => {
    // tailHits 8: test balanced accuracy per evaluation = mean of per-class accuracies:
    //   step 100: (0.9 + 0.8 + 0.5 + 0.1) / 4 = 0.575; step 200: (0.9 + 0.8 + 0.6 + 1.0) / 4 = 0.825; step 300: (1 + 0.9 + 0.7 + 0.3) / 4 = 0.725.
    // Validation balanced: 0.6, 0.65, 0.75 -> best-val is step 300. Median of (0.575, 0.825, 0.725) = 0.725; best-test is step 200.
    const s = summary('cpe', 8);
    const r = s.selectionRules!;
    expect(r['median-last-20'].balancedAccuracy).toBeCloseTo(0.725, 12);
    expect(r['median-last-20'].steps).toEqual([100, 200, 300]);
    expect(r.last.steps).toEqual([300]);
    expect(r.last.balancedAccuracy).toBeCloseTo(0.725, 12);
    expect(r['best-val']!.steps).toEqual([300]);
    expect(r['best-test'].steps).toEqual([200]);
    expect(r['best-test'].balancedAccuracy).toBeCloseTo(0.825, 12);
    const md = writeSummaryMarkdown(s);
    expect(md).toMatch(/\| \*\*median-last-20\*\* \(reported\): median of the last 20 evaluations \(DASO\) \| 72\.5% \| 72\.5% \| 100–300 \(3 evals\) \|/);
    expect(md).toMatch(/\| best-test: best TEST balanced accuracy .*selected on the test set, never reported\) \| 82\.5% \| 82\.5% \| 200 \|/);
  });
});

describe('prior-estimate charts', () => {
  it('a run with estimates gets the per-class estimate vs truth and the KL curve over training; a run without gets neither', () => {
    const priors = (kl: number) => ({ simpro: { estimate: [0.4, 0.3, 0.2, 0.1], kl } });
    const evals: EvalRecord[] = [
      { step: 100, test: m([0.5, 0.5, 0.5, 0.5]), priors: priors(0.3) },
      { step: 200, test: m([0.6, 0.6, 0.6, 0.6]), priors: priors(0.1) },
    ];
    const s = buildRunSummary({
      runId: 'simpro-1', algorithm: 'simpro', dataset: 'toy', net: 'cnn-small', seed: 1, backend: 'cpu', iterations: 200, evals,
      selectionRule: 'last', groupRule: 'count', classCounts: { labeled, unlabeled: [50, 50, 50, 50] }, seconds: 1,
    });
    const charts = runCharts(s, { evals });
    const names = charts.map((c) => c.name);
    expect(names).toContain('prior-estimates');
    expect(names).toContain('prior-kl-curve');
    expect(charts.find((c) => c.name === 'prior-kl-curve')!.svg).toContain('simpro');
    expect(runCharts(summary('daso', 3), { evals }).map((c) => c.name)).not.toContain('prior-kl-curve');
  });
});

describe('reports', () => {
  it('summary.md names the rule and says when a shot group is empty', () => {
    const md = writeSummaryMarkdown(summary('daso', 3));
    expect(md).toContain('median-last-20');
    expect(md).toContain('| few-shot | — (empty group) |');
    expect(md).toMatch(/Empty group\(s\): few/);
    // balanced accuracies 0.575, 0.7, 0.725 -> median 0.7 (test); validation 0.6, 0.65, 0.75 -> 0.65
    expect(md).toContain('| balanced accuracy | 70.0% | 65.0% |');
    expect(md).not.toMatch(/NaN|undefined/);
    expect(md).not.toContain('Where the training time went');
    const timed = { ...summary('daso', 3), timing: { seconds: 10, itPerSec: 3, phases: { steps: 7.5, evaluation: 2, batches: 0.3, checkpoints: 0.2, boundaries: 0, other: 0 } } };
    expect(writeSummaryMarkdown(timed)).toContain('Where the training time went: steps 75% · evaluation 20% · batches 3% · checkpoints 2%.');
  });

  it('the HTML report is self-contained and has no NaN', () => {
    const html = renderRunReportHtml(summary('daso', 3), { evals: [{ step: 1, test: m([1, 0, 1, 0]) }] });
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/NaN|<script|src="http/);
  });

  it('the comparison calls out tail-class pseudo-label recall', () => {
    const c = renderComparison([summary('fixmatch', 1), summary('daso', 3)]);
    // few group is empty under the count rule -> tail = bottom third by labeled count = class 3
    expect(c.tailClasses).toEqual([3]);
    expect(c.tailRecall).toEqual([0.25, 0.75]);
    expect(c.markdown).toContain('**daso**: 75.0% vs 25.0% for fixmatch (+50.0 points, higher)');
    expect(c.charts.map((x) => x.name)).toEqual(['compare-pl-recall', 'compare-pl-precision', 'compare-test-accuracy']);
    expect(() => renderComparison([summary('daso', 1)])).toThrow(/at least 2/);
    expect(c.markdown).not.toMatch(/different splits/);
  });

  it('flags runs with a different split instead of printing one γ_l header for all', () => {
    const other = { ...summary('daso', 3), settings: { gammaL: 10, gammaU: 1, n1: 1500, m1: 3000 } };
    const base = { ...summary('fixmatch', 1), settings: { gammaL: 100, gammaU: 1, n1: 1500, m1: 3000 } };
    expect(renderComparison([base, other]).markdown).toMatch(/\*\*Warning: the runs use different splits\*\* \(.* has gammaL=10; the header is .*'s\)/);
  });

  it('flags a "+method" run whose schedule differs from its baseline\'s, naming the keys', () => {
    const base = { ...summary('fixmatch', 1), schedule: { fingerprint: 'aaa', parent: null, values: { iterations: 1600, lr: 0.03 } } };
    const same = { ...summary('fixmatch+daso', 3), schedule: { fingerprint: 'aaa', parent: 'fixmatch', values: { iterations: 1600, lr: 0.03 } } };
    const longer = { ...summary('fixmatch+daso', 3), schedule: { fingerprint: 'bbb', parent: 'fixmatch', values: { iterations: 3200, lr: 0.03 } } };
    expect(renderComparison([base, same]).markdown).not.toMatch(/different schedules/);
    expect(renderComparison([base, longer]).markdown).toMatch(/trained on different schedules.*vs its baseline .*: iterations=3200\/1600\)/);
  });
});

describe('writing to disk', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssl-report-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes summary.json, summary.md, report.html and PNG charts; summary.json reads back', async () => {
    const s = summary('daso', 3);
    const files = await writeRunReport(dir, s, { evals: [{ step: 100, test: m([1, 0.5, 0.5, 0]) }] });
    expect(await readRunSummary(files.summaryJson)).toEqual(JSON.parse(JSON.stringify(s)));
    expect(files.charts.length).toBeGreaterThanOrEqual(3);
    const meta = await sharp(await readFile(files.charts[0])).metadata();
    expect(meta.format).toBe('png');
    expect(await readFile(files.summaryMd, 'utf8')).toContain('](charts/class-counts.png)');
    const cmp = await writeComparisonReport(join(dir, 'cmp'), [summary('fixmatch', 1), s]);
    expect(await readFile(cmp.markdown, 'utf8')).toContain('Tail-class pseudo-label recall');
  });

  it('report.md and report.html show every chart (PNG files); pseudo-label heat maps per source, the prior estimate against the truth', async () => {
    const s: RunSummary = {
      ...summary('daso', 3),
      priorEstimates: { step: 300, truth: [0.25, 0.25, 0.25, 0.25], sources: { daso: { estimate: [0.4, 0.3, 0.2, 0.1], kl: 0.1064 } } },
    };
    const files = await writeRunReport(dir, s, { evals: [{ step: 100, test: m([1, 0.5, 0.5, 0]) }], pseudoLabels: windows(3) });
    const names = files.charts.map((p) => p.split('/').pop());
    expect(names).toEqual(expect.arrayContaining(['class-counts.png', 'per-class.png', 'pseudo-label-heatmap-final.png', 'prior-estimates.png', 'accuracy-curve.png']));
    const md = await readFile(files.reportMd, 'utf8');
    const html = await readFile(files.reportHtml, 'utf8');
    for (const name of names) {
      expect(md).toContain(`](charts/${name})`);
      expect(html).toContain(`<img src="charts/${name}"`);
    }
    expect(md).toMatch(/## Estimated unlabeled class distribution[^]*\| daso \| 0\.1064 \| 40\.0% \| 30\.0% \| 20\.0% \| 10\.0% \|/);
    expect(html).not.toMatch(/<svg|NaN/);
  });

  it('readRunSummary refuses a foreign or broken file with a UserError', async () => {
    const p = join(dir, 'summary.json');
    await writeFile(p, '{"schemaVersion": 2}');
    await expect(readRunSummary(p)).rejects.toThrow(UserError);
    await writeFile(p, '{ nope');
    await expect(readRunSummary(p)).rejects.toThrow(/not valid JSON/);
  });
});
