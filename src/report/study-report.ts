/**
 * The report of a study: mean ± std over seeds per method (rows) and γ_u (columns), in the layout
 * of the DASO paper's Table 1, for balanced accuracy, top-1, many/medium/few and the tail classes'
 * pseudo-label recall and precision; a grouped bar chart; per-class pseudo-label recall across
 * methods for each γ_u; every run with its state, failed ones with their error. The numbers are
 * each run's own reported ones (its recorded selection rule), aggregated here, never re-selected.
 */
import { barChartSvg, lineChartSvg } from './charts.js';
import { pct, renderHtmlPage, type Chart } from './run-report.js';
import type { RunSummary } from './run-summary.js';

/** Mean and sample standard deviation (n − 1) of one metric over a cell's finished runs. */
export interface MeanStd {
  readonly mean: number;
  /** Null for a single run. */
  readonly std: number | null;
  readonly n: number;
}

/**
 * The metrics a study table shows: fractions in [0, 1] shown as percentages, and `priorKl`, the
 * KL(π̂ ‖ π) in nats of the run's estimate of the unlabeled class prior (the source of its learner,
 * else of its first add-on that logs one), shown as is.
 */
export const STUDY_METRICS = ['balancedAccuracy', 'top1', 'many', 'medium', 'few', 'tailPlRecall', 'tailPlPrecision', 'priorKl'] as const;
export type StudyMetric = (typeof STUDY_METRICS)[number];

/** One run of a cell. */
export interface StudyCellRun {
  readonly runId: string;
  readonly seed: number;
  /** done | running | interrupted | failed | queued. */
  readonly state: string;
  readonly error?: string;
  readonly summary?: RunSummary;
}

/** KL(π̂ ‖ π) in nats of an estimate of the unlabeled prior at one evaluation. */
export interface PriorKlPoint {
  readonly step: number;
  readonly kl: number;
}

/** One method × γ_u cell. */
export interface StudyCell {
  readonly method: string;
  readonly gammaU: number;
  readonly runs: ReadonlyArray<StudyCellRun>;
  readonly metrics: Readonly<Record<StudyMetric, MeanStd | null>>;
  /** Per class, the mean over the cell's finished runs (null without data). */
  readonly perClass: {
    readonly accuracy: ReadonlyArray<number | null> | null;
    readonly plRecall: ReadonlyArray<number | null> | null;
    readonly plPrecision: ReadonlyArray<number | null> | null;
  };
  /** The KL of the method's own prior estimate over training, mean over the finished runs at the steps all of them logged; null without one. */
  readonly priorKlCurve: ReadonlyArray<PriorKlPoint> | null;
  /** Why the cell's runs may not be comparable (empty when they are). */
  readonly flags: ReadonlyArray<string>;
}

/** Everything the study report shows, built by the study's aggregation. */
export interface StudyResults {
  readonly id: string;
  /** Row order: canonical method labels. */
  readonly methods: ReadonlyArray<string>;
  /** Column order. */
  readonly gammaU: ReadonlyArray<number>;
  readonly seeds: ReadonlyArray<number>;
  readonly cells: ReadonlyArray<StudyCell>;
  readonly classLabels: ReadonlyArray<string>;
  readonly tailClasses: ReadonlyArray<number>;
  /** Settings shared by every run, for the header (dataset, net, γ_l, ...). */
  readonly header: string;
  /** Selection rules the runs recorded (one, normally). */
  readonly selectionRules: ReadonlyArray<string>;
  readonly backends: ReadonlyArray<string>;
  /** Study-wide comparability notes (e.g. different class counts). */
  readonly notes: ReadonlyArray<string>;
  /** From the first run's start to the last run's summary, when known. */
  readonly wallSeconds: number | null;
  /** Training seconds summed over runs. */
  readonly computeSeconds: number;
  /** Finished runs copied from another study (same ids: same settings), not trained in this one. */
  readonly reusedRuns: number;
}

/** `γ_u = 100`, `γ_u = 1`, `γ_u = 1/100`. */
export function gammaLabel(g: number): string {
  if (g >= 1) return `${g}`;
  const inv = 1 / g;
  return Math.abs(inv - Math.round(inv)) < 1e-9 ? `1/${Math.round(inv)}` : `${g}`;
}

/** `62.5 ± 1.3` (percent, one decimal); a single run without ±. */
export function formatMeanStd(m: MeanStd | null, metric: StudyMetric = 'balancedAccuracy'): string {
  if (!m) return '—';
  const [scale, digits] = metric === 'priorKl' ? [1, 3] : [100, 1];
  const v = (m.mean * scale).toFixed(digits);
  return m.std === null ? v : `${v} ± ${(m.std * scale).toFixed(digits)}`;
}

/** The cell of a method and γ_u. */
export function cellOf(results: StudyResults, method: string, gammaU: number): StudyCell | undefined {
  return results.cells.find((c) => c.method === method && c.gammaU === gammaU);
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

/** The markdown text of a cell: value, how many of the planned runs it covers, its flag mark. */
function cellText(cell: StudyCell | undefined, metric: StudyMetric, planned: number, marks: ReadonlyMap<StudyCell, number>): string {
  if (!cell) return '—';
  const m = cell.metrics[metric];
  const failed = cell.runs.filter((r) => r.state === 'failed').length;
  const done = cell.runs.filter((r) => r.state === 'done').length;
  const value = m ? formatMeanStd(m, metric) : failed > 0 && done === 0 ? 'failed' : '—';
  const notes: string[] = [];
  if (done < planned) notes.push(`${done}/${planned}`);
  if (failed > 0 && value !== 'failed') notes.push(`${failed} failed`);
  const mark = marks.has(cell) ? ` ⚠${marks.get(cell)}` : '';
  return `${value}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}${mark}`;
}

/** One Table-1 style table: a row per method, a column (or `sub` columns) per γ_u. */
function layoutTable(results: StudyResults, columns: ReadonlyArray<{ readonly metric: StudyMetric; readonly name: string }>, marks: ReadonlyMap<StudyCell, number>): string[] {
  const planned = results.seeds.length;
  const head = results.gammaU.flatMap((g) => columns.map((c) => (columns.length > 1 ? `γ_u = ${gammaLabel(g)} ${c.name}` : `γ_u = ${gammaLabel(g)}`)));
  const lines = [`| method | ${head.join(' | ')} |`, `|---|${head.map(() => '---:').join('|')}|`];
  for (const method of results.methods) {
    const cells = results.gammaU.flatMap((g) => columns.map((c) => cellText(cellOf(results, method, g), c.metric, planned, marks)));
    lines.push(`| ${method} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** The study report's markdown (without its charts section). */
export function writeStudyMarkdown(results: StudyResults): string {
  const marks = new Map<StudyCell, number>();
  for (const cell of results.cells) if (cell.flags.length > 0) marks.set(cell, marks.size + 1);
  const runs = results.cells.flatMap((c) => c.runs.map((r) => ({ cell: c, run: r })));
  const done = runs.filter((r) => r.run.state === 'done').length;
  const failed = runs.filter((r) => r.run.state === 'failed');
  const lines: string[] = [];
  lines.push(`# Study ${results.id}: ${results.methods.join(' vs ')}`, '');
  lines.push(
    `${results.header}. Seeds ${results.seeds.join(', ')}; backend ${results.backends.join(', ') || '—'}. ` +
      `Each number is the mean ± sample standard deviation over seeds of the runs' reported test metrics, in % (the prior-estimate KL in nats), ` +
      `each run reported with its recorded selection rule (${results.selectionRules.join(', ') || '—'}), never the best test value. ` +
      `"k/n" marks a cell with k of its n runs finished.`,
    '',
  );
  lines.push(
    `Runs: ${done} of ${runs.length} done${failed.length > 0 ? `, **${failed.length} failed**` : ''}` +
      `${results.reusedRuns > 0 ? ` (${results.reusedRuns} of them taken finished from another study with the same run ids, so the same settings: \`--reuse\`)` : ''}` +
      `${results.wallSeconds !== null ? `; wall time ${duration(results.wallSeconds)}${results.reusedRuns > 0 ? ' for the runs trained here' : ''}` : ''}; training time summed over runs ${duration(results.computeSeconds)}.`,
    '',
  );
  lines.push('## Balanced accuracy (test)', '', ...layoutTable(results, [{ metric: 'balancedAccuracy', name: '' }], marks), '');
  lines.push('## Top-1 accuracy (test)', '', ...layoutTable(results, [{ metric: 'top1', name: '' }], marks), '');
  lines.push(
    '## Many / medium / few (test accuracy)',
    '',
    ...layoutTable(results, [{ metric: 'many', name: 'many' }, { metric: 'medium', name: 'medium' }, { metric: 'few', name: 'few' }], marks),
    '',
  );
  const tail = results.tailClasses.map((c) => results.classLabels[c]).join(', ');
  lines.push(
    '## Tail-class pseudo-label recall / precision',
    '',
    `Final pseudo-labels, every unlabeled sample (DASO's DistributionLogger), mean of each run's last windows, averaged over the tail classes (${tail}).`,
    '',
    ...layoutTable(results, [{ metric: 'tailPlRecall', name: 'recall' }, { metric: 'tailPlPrecision', name: 'precision' }], marks),
    '',
  );
  if (results.methods.some((method) => results.gammaU.some((g) => cellOf(results, method, g)?.metrics.priorKl))) {
    lines.push(
      '## Estimate of the unlabeled class prior: KL(π̂ ‖ π)',
      '',
      "In nats, at the last evaluation that logged an estimate, for methods that estimate the unlabeled distribution (the learner's own estimate, else its first add-on's); — for those that do not.",
      '',
      ...layoutTable(results, [{ metric: 'priorKl', name: '' }], marks),
      '',
    );
  }
  if (marks.size > 0 || results.notes.length > 0) {
    lines.push('## Comparability', '');
    for (const note of results.notes) lines.push(`- ${note}`);
    for (const [cell, k] of marks) lines.push(`- ⚠${k} ${cell.method}, γ_u = ${gammaLabel(cell.gammaU)}: ${cell.flags.join('; ')}.`);
    lines.push('');
  }
  if (failed.length > 0) {
    lines.push('## Failed runs', '', 'Each is recorded in runs/<run>/failure.json (and logs/<run>.log); `ssl study mismatch --resume <study>` runs them again.', '');
    for (const f of failed) lines.push(`- \`${f.run.runId}\` (${f.cell.method}, γ_u = ${gammaLabel(f.cell.gammaU)}, seed ${f.run.seed}): ${(f.run.error ?? '').split('\n')[0]}`);
    lines.push('');
  }
  lines.push('## Runs', '', '| run | method | γ_u | seed | state | balanced | top-1 | tail PL recall | selection | backend |', '|---|---|---:|---:|---|---:|---:|---:|---|---|');
  for (const { cell, run } of runs) {
    const s = run.summary;
    lines.push(
      `| ${run.state === 'done' ? `[${run.runId}](runs/${run.runId}/report.html)` : run.runId} | ${cell.method} | ${gammaLabel(cell.gammaU)} | ${run.seed} | ${run.state} | ${pct(s?.final.balancedAccuracy)} | ${pct(s?.final.top1)} | ` +
        `${pct(s ? tailPlOf(s, results.tailClasses, 'recall') : null)} | ${s?.selection.rule ?? ''} | ${s?.backend ?? ''} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** Mean over `classes` of a run's final-source pseudo-label recall or precision (all view, averaged windows). */
export function tailPlOf(s: RunSummary, classes: ReadonlyArray<number>, measure: 'recall' | 'precision'): number | null {
  const v = s.pseudoLabels?.sources['final']?.all.averaged[measure];
  if (!v) return null;
  const d = classes.map((c) => v[c]).filter((x): x is number => typeof x === 'number');
  return d.length === 0 ? null : d.reduce((a, b) => a + b, 0) / d.length;
}

/** `seed 0` for a one-seed study, else `mean over seeds 0, 1, 2`: no statistic is claimed over one run. */
function overSeeds(seeds: ReadonlyArray<number>, statistic: string): string {
  return seeds.length === 1 ? `seed ${seeds[0]}` : `${statistic} over seeds ${seeds.join(', ')}`;
}

/** File stem of a γ_u in chart names: gu100, gu0.01. */
function gammaStem(g: number): string {
  return `gu${g}`;
}

/** The study's charts: balanced accuracy as grouped bars (± std); per γ_u, the KL of each method's prior estimate over training and the per-class pseudo-label recall of every method. */
export function studyCharts(results: StudyResults): Chart[] {
  const charts: Chart[] = [];
  const cols = results.gammaU.map((g) => `γ_u = ${gammaLabel(g)}`);
  const sub = `${results.header} · ${overSeeds(results.seeds, 'mean ± std')}`;
  const series = (metric: StudyMetric) =>
    results.methods.map((m) => ({
      name: m,
      values: results.gammaU.map((g) => cellOf(results, m, g)?.metrics[metric]?.mean ?? null),
      errors: results.gammaU.map((g) => cellOf(results, m, g)?.metrics[metric]?.std ?? null),
    }));
  charts.push({
    name: 'study-balanced-accuracy',
    title: 'Balanced test accuracy by method and γ_u',
    svg: barChartSvg({ title: 'Balanced test accuracy by method and γ_u', subtitle: sub, categories: cols, series: series('balancedAccuracy'), yLabel: 'balanced accuracy', yFormat: 'percent', yMax: 1, xLabel: 'unlabeled imbalance γ_u', valueLabels: true }),
  });
  if (results.cells.some((c) => c.metrics.tailPlRecall !== null)) {
    charts.push({
      name: 'study-tail-pl-recall',
      title: 'Tail-class pseudo-label recall by method and γ_u',
      svg: barChartSvg({ title: 'Tail-class pseudo-label recall by method and γ_u', subtitle: `${sub} · final pseudo-labels, tail classes`, categories: cols, series: series('tailPlRecall'), yLabel: 'recall P(PL=k | GT=k)', yFormat: 'percent', yMax: 1, xLabel: 'unlabeled imbalance γ_u', valueLabels: true }),
    });
  }
  for (const g of results.gammaU) {
    const curves = results.methods.flatMap((m) => {
      const curve = cellOf(results, m, g)?.priorKlCurve;
      return curve && curve.length > 0 ? [{ name: m, points: curve.map((p) => ({ x: p.step, y: p.kl })) }] : [];
    });
    if (curves.length === 0) continue;
    charts.push({
      name: `study-prior-kl-${gammaStem(g)}`,
      title: `Prior estimates over training, γ_u = ${gammaLabel(g)}`,
      svg: lineChartSvg({
        title: `KL(estimated ‖ true unlabeled prior) over training, γ_u = ${gammaLabel(g)}`,
        subtitle: `${results.header} · each method's own estimate · ${overSeeds(results.seeds, 'mean')}`,
        series: curves,
        xLabel: 'training step',
        yLabel: 'KL (nats)',
        yMin: 0,
      }),
    });
  }
  for (const g of results.gammaU) {
    const rows = results.methods.map((m) => cellOf(results, m, g)?.perClass.plRecall ?? null);
    if (rows.every((r) => r === null)) continue;
    charts.push({
      name: `study-pl-recall-${gammaStem(g)}`,
      title: `Per-class pseudo-label recall, γ_u = ${gammaLabel(g)}`,
      svg: barChartSvg({
        title: `Per-class pseudo-label recall across methods, γ_u = ${gammaLabel(g)}`,
        subtitle: `${results.header} · ${overSeeds(results.seeds, 'mean')} · final pseudo-labels, all, mean of each run's last windows`,
        categories: results.classLabels,
        series: results.methods.map((m, i) => ({ name: m, values: rows[i] ?? results.classLabels.map(() => null) })),
        yLabel: 'recall P(PL=k | GT=k)',
        yFormat: 'percent',
        yMax: 1,
        xLabel: 'class',
        highlight: results.tailClasses,
        highlightLabel: 'tail classes',
      }),
    });
  }
  return charts;
}

/** The study report as one HTML page; `chartSrc` links each chart's PNG (else the SVG is inlined). */
export function renderStudyHtml(results: StudyResults, markdown: string, charts: ReadonlyArray<Chart>, chartSrc?: (c: Chart) => string): string {
  const runs = results.cells.flatMap((c) => c.runs);
  const cards: Array<readonly [string, string]> = [
    ['runs done', `${runs.filter((r) => r.state === 'done').length} / ${runs.length}`],
    ['failed', String(runs.filter((r) => r.state === 'failed').length)],
    ...(results.reusedRuns > 0 ? [['reused', `${results.reusedRuns} (trained in another study)`] as const] : []),
    ...(results.wallSeconds !== null ? [['wall time', duration(results.wallSeconds)] as const] : []),
  ];
  return renderHtmlPage(`Study ${results.id}`, cards, markdown, charts, chartSrc);
}
