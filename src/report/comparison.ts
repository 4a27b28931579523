/**
 * Comparison of two or more runs (e.g. FixMatch vs DASO on the same seed and schedule): a
 * markdown table of reported metrics, per-class pseudo-label recall / precision bars side by
 * side, and a call-out of tail-class pseudo-label recall — DASO's signature is higher tail recall
 * at similar precision (docs/methods.md §6).
 */
import { barChartSvg } from './charts.js';
import { classLabels, pct, renderHtmlPage, tailClasses, type Chart } from './run-report.js';
import type { RunSummary } from './run-summary.js';

/** Result of {@link renderComparison}. */
export interface Comparison {
  readonly markdown: string;
  readonly charts: ReadonlyArray<Chart>;
  /** Per run (same order), the mean final-source PL recall on the tail classes; null without PL data. */
  readonly tailRecall: ReadonlyArray<number | null>;
  /** The tail classes used (from the first run's labeled counts). */
  readonly tailClasses: ReadonlyArray<number>;
}

function meanOver(values: ReadonlyArray<number | null> | undefined, classes: ReadonlyArray<number>): number | null {
  if (!values) return null;
  const d = classes.map((c) => values[c]).filter((v): v is number => typeof v === 'number');
  return d.length === 0 ? null : d.reduce((a, b) => a + b, 0) / d.length;
}

/** A short label per run: the algorithm, plus the run id when two runs share an algorithm. */
export function runLabels(runs: ReadonlyArray<RunSummary>): string[] {
  return runs.map((r) => {
    const clash = runs.filter((o) => o.algorithm === r.algorithm).length > 1;
    return clash ? `${r.algorithm} (${r.runId})` : r.algorithm;
  });
}

/**
 * Compares runs on the same dataset (same number of classes). Pseudo-label values are the
 * `final` source, `all` view, averaged over the last K windows of each run.
 * @throws RangeError with fewer than 2 runs or differing class counts
 */
export function renderComparison(runs: ReadonlyArray<RunSummary>): Comparison {
  if (runs.length < 2) throw new RangeError(`renderComparison: needs at least 2 runs, got ${runs.length}`);
  const C = runs[0].classCounts.labeled.length;
  for (const r of runs) {
    if (r.classCounts.labeled.length !== C) {
      throw new RangeError(`renderComparison: run ${r.runId} has ${r.classCounts.labeled.length} classes, ${runs[0].runId} has ${C}`);
    }
  }
  const labels = classLabels(runs[0]);
  const names = runLabels(runs);
  const tail = tailClasses(runs[0]);
  const plRecall = runs.map((r) => r.pseudoLabels?.sources['final']?.all.averaged.recall);
  const plPrecision = runs.map((r) => r.pseudoLabels?.sources['final']?.all.averaged.precision);
  const tailRecall = plRecall.map((v) => meanOver(v, tail));
  const tailPrecision = plPrecision.map((v) => meanOver(v, tail));

  const lines: string[] = [];
  lines.push(`# Comparison: ${names.join(' vs ')}`, '');
  const r0 = runs[0];
  const settings = Object.entries(r0.settings ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' · ');
  lines.push(`${r0.dataset} · ${r0.net}${settings ? ` · ${settings}` : ''}. Tail classes: ${tail.map((c) => labels[c]).join(', ')}.`, '');
  const mismatch = runs.filter((r) => r.seed !== r0.seed || r.iterations !== r0.iterations || r.dataset !== r0.dataset || r.net !== r0.net);
  if (mismatch.length > 0) {
    lines.push(`Note: seeds, iterations, datasets or nets differ between runs (${mismatch.map((r) => r.runId).join(', ')}); the comparison is not like for like.`, '');
  }
  // The header states the first run's split; a run with another γ_l, γ_u, N_1 or M_1 is called out by name.
  const otherSplit = runs.flatMap((r) =>
    Object.entries(r.settings ?? {})
      .filter(([k, v]) => (r0.settings as Record<string, unknown> | undefined)?.[k] !== v)
      .map(([k, v]) => `${r.runId} has ${k}=${v}`),
  );
  if (otherSplit.length > 0) {
    lines.push(`**Warning: the runs use different splits** (${otherSplit.join('; ')}; the header is ${r0.runId}'s): their accuracies are not comparable.`, '');
  }
  // A "+method" run against its baseline in the same comparison: their schedules must agree.
  const scheduleClash = runs.flatMap((r) => {
    const parent = r.schedule?.parent;
    if (!parent || !r.schedule) return [];
    return runs
      .filter((p) => p.algorithm === parent && p.schedule && p.schedule.fingerprint !== r.schedule!.fingerprint)
      .map((p) => `${r.runId} (${r.algorithm}) vs its baseline ${p.runId}: ${differingKeys(r.schedule!.values, p.schedule!.values).join(', ')}`);
  });
  if (scheduleClash.length > 0) {
    lines.push(`**Warning: a "+method" run and its baseline were trained on different schedules** (${scheduleClash.join('; ')}): the difference is not the method's alone.`, '');
  }
  lines.push(
    '| run | seed | iterations | selection | top-1 | balanced | geo-mean | many | medium | few | tail acc | tail PL recall | tail PL precision |',
    '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  runs.forEach((r, i) => {
    const g = r.final.groups;
    lines.push(
      `| ${names[i]} | ${r.seed} | ${r.iterations} | ${r.selection.rule} | ${pct(r.final.top1)} | ${pct(r.final.balancedAccuracy)} | ` +
        `${pct(r.final.geometricMeanRecall)} | ${pct(g.many.accuracy)} | ${pct(g.medium.accuracy)} | ${pct(g.few.accuracy)} | ` +
        `${pct(meanOver(r.final.perClassAccuracy, tail))} | ${pct(tailRecall[i])} | ${pct(tailPrecision[i])} |`,
    );
  });
  lines.push('');
  // Call-out: tail-class pseudo-label recall of each run against the first (the baseline).
  if (tailRecall[0] !== null) {
    lines.push('## Tail-class pseudo-label recall', '');
    runs.forEach((_, i) => {
      if (i === 0) return;
      const a = tailRecall[0] as number;
      const b = tailRecall[i];
      if (b === null) {
        lines.push(`- **${names[i]}**: no pseudo-label data.`);
        return;
      }
      const diff = (b - a) * 100;
      const verdict = diff > 0 ? 'higher' : diff < 0 ? 'lower' : 'equal';
      lines.push(
        `- **${names[i]}**: ${pct(b)} vs ${pct(a)} for ${names[0]} ` +
          `(${diff >= 0 ? '+' : ''}${diff.toFixed(1)} points, ${verdict}); tail precision ${pct(tailPrecision[i])} vs ${pct(tailPrecision[0])}.`,
      );
    });
    lines.push('');
  }
  lines.push('## Per class', '');
  lines.push(
    `| class | labeled | ${names.map((n) => `${n} acc | ${n} PL recall | ${n} PL prec`).join(' | ')} |`,
    `|---|---:|${names.map(() => '---:|---:|---:').join('|')}|`,
  );
  labels.forEach((name, c) => {
    const cells = runs.map((r, i) => `${pct(r.final.perClassAccuracy[c])} | ${pct(plRecall[i]?.[c])} | ${pct(plPrecision[i]?.[c])}`);
    lines.push(`| ${tail.includes(c) ? `**${name}** (tail)` : name} | ${r0.classCounts.labeled[c]} | ${cells.join(' | ')} |`);
  });
  lines.push('');

  const charts: Chart[] = [];
  const sub = `${r0.dataset} · ${r0.net} · seed ${r0.seed}${settings ? ` · ${settings}` : ''}`;
  if (plRecall.some((v) => v !== undefined)) {
    const plChart = (measure: 'recall' | 'precision', definition: string, values: typeof plRecall): Chart => ({
      name: `compare-pl-${measure}`,
      title: `Pseudo-label ${measure} per class`,
      svg: barChartSvg({
        title: `Pseudo-label ${measure} per class: ${definition}`,
        subtitle: `${sub} · final pseudo-labels, all, mean of last windows`,
        categories: labels,
        series: runs.map((_, i) => ({ name: names[i], values: values[i] ?? labels.map(() => null) })),
        yLabel: measure,
        yFormat: 'percent',
        yMax: 1,
        xLabel: 'class',
        highlight: tail,
        highlightLabel: 'tail classes',
      }),
    });
    charts.push(plChart('recall', 'P(PL=k | GT=k)', plRecall), plChart('precision', 'P(GT=k | PL=k)', plPrecision));
  }
  charts.push({
    name: 'compare-test-accuracy',
    title: 'Test accuracy per class',
    svg: barChartSvg({
      title: 'Test accuracy per class',
      subtitle: `${sub} · ${runs.map((r, i) => `${names[i]}: ${r.selection.rule}`).join(', ')}`,
      categories: labels,
      series: runs.map((r, i) => ({ name: names[i], values: r.final.perClassAccuracy })),
      yLabel: 'accuracy',
      yFormat: 'percent',
      yMax: 1,
      xLabel: 'class',
      highlight: tail,
      highlightLabel: 'tail classes',
    }),
  });
  return { markdown: lines.join('\n'), charts, tailRecall, tailClasses: tail };
}

/** The comparison as one self-contained HTML page. */
export function renderComparisonHtml(runs: ReadonlyArray<RunSummary>, comparison: Comparison = renderComparison(runs)): string {
  const names = runLabels(runs);
  const cards = runs.map((r, i) => [`${names[i]} balanced`, pct(r.final.balancedAccuracy)] as const);
  const tailCards = comparison.tailRecall.map((t, i) => [`${names[i]} tail PL recall`, pct(t)] as const);
  return renderHtmlPage(`Comparison: ${names.join(' vs ')}`, [...cards, ...tailCards], comparison.markdown, comparison.charts);
}

/** Keys whose values differ between two schedules, each as key=a/b. */
function differingKeys(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k}=${JSON.stringify(a[k])}/${JSON.stringify(b[k])}`);
}
