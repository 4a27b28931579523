/**
 * Human-facing report of one run: the short summary.md, the charts (SVG, rendered to PNG by
 * `writeRunReport`) and a self-contained HTML page with the charts inline.
 */
import type { PseudoLabelWindow } from '../eval/pseudo-label-tracker.js';
import { assignShotGroups, type ShotGroup } from '../eval/shot-groups.js';
import { barChartSvg, escapeXml, heatMapSvg, lineChartSvg, type BarSeries, type LineSeries } from './charts.js';
import { formatPhaseShares } from './loop-phases.js';
import type { GenerationSummary, RunSummary, ReportedMetrics, SelectionNumbers } from './run-summary.js';

/** What the learning curves read of an evaluation (an EvalRecord, or an `eval` line of events.jsonl). */
export interface CurveEval {
  readonly step: number;
  readonly test: { readonly top1: number; readonly balancedAccuracy: number; readonly geometricMeanRecall: number };
  readonly val?: { readonly balancedAccuracy: number };
  /** The methods' prior estimates at this evaluation, by source, with KL(π̂ ‖ π). */
  readonly priors?: Readonly<Record<string, { readonly kl: number }>>;
}

/** Training curves and evaluations over time, as read back from events.jsonl. */
export interface RunHistory {
  /** Every evaluation in step order. */
  readonly evals?: ReadonlyArray<CurveEval>;
  /**
   * Logged training scalars per step, e.g. { loss, lossLabeled, lossUnlabeled, lossAlign, maskRate, lr }.
   * Keys starting with `loss` are drawn on the loss chart; `maskRate` on the pseudo-label chart.
   */
  readonly train?: ReadonlyArray<{ readonly step: number; readonly values: Readonly<Record<string, number>> }>;
  /** Pseudo-label windows in step order. */
  readonly pseudoLabels?: ReadonlyArray<PseudoLabelWindow>;
  /** Vertical lines on the curves, e.g. where a method's warm-up ends (from its registry entry). */
  readonly markers?: ReadonlyArray<{ readonly step: number; readonly label: string }>;
}

/** One chart: a file stem (charts/<name>.png), a title and the SVG document. */
export interface Chart {
  readonly name: string;
  readonly title: string;
  readonly svg: string;
}

/** Formats a fraction as a percentage with one decimal; null/undefined/NaN as an em dash. */
export function pct(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—';
}

/** Class labels for tables and charts: the class names, or "0".."C-1". */
export function classLabels(summary: RunSummary): string[] {
  const C = summary.classCounts.labeled.length;
  return Array.from({ length: C }, (_, c) => summary.classNames?.[c] ?? String(c));
}

/**
 * The tail classes used for call-outs: the `few` group of the summary's group rule, or, when that
 * group is empty (the count rule on CIFAR-10 with few labels), the bottom third by labeled count.
 */
export function tailClasses(summary: RunSummary): number[] {
  const few = summary.final.groups.few.classes;
  if (few.length > 0) return [...few];
  return [...assignShotGroups(summary.classCounts.labeled, 'rank-thirds').few];
}

function describeRule(summary: RunSummary): string {
  const s = summary.selection;
  const steps = s.steps.length > 1 ? `steps ${s.steps[0]}–${s.steps[s.steps.length - 1]}` : `step ${s.steps[0]}`;
  switch (s.rule) {
    case 'median-last-20':
      return `median of the last ${s.evaluations} of ${s.totalEvaluations} evaluations (${steps}), each metric separately`;
    case 'last':
      return `last evaluation (${steps})`;
    case 'best-val':
      return `evaluation with the best validation balanced accuracy (${steps})`;
  }
}

/** The test numbers under every selection rule, the reported one in bold (summary.json `selectionRules`). */
function selectionRulesMarkdown(summary: RunSummary): string[] {
  const rules = summary.selectionRules;
  if (!rules) return [];
  const at = (steps: ReadonlyArray<number>): string => (steps.length > 1 ? `${steps[0]}–${steps[steps.length - 1]} (${steps.length} evals)` : `${steps[0]}`);
  const rows: Array<[string, string, SelectionNumbers | undefined]> = [
    ['median-last-20', 'median of the last 20 evaluations (DASO)', rules['median-last-20']],
    ['last', 'last evaluation', rules.last],
    ['best-val', 'best validation balanced accuracy', rules['best-val']],
    ['best-test', 'best TEST balanced accuracy (as CPE and ACR print "best"; selected on the test set, never reported)', rules['best-test']],
  ];
  return [
    `Selection rules side by side (the reported one, \`${summary.selection.rule}\`, in bold):`,
    '',
    '| rule | test top-1 | test balanced | step(s) |',
    '|---|---:|---:|---|',
    ...rows
      .filter((r): r is [string, string, SelectionNumbers] => r[2] !== undefined)
      .map(([rule, what, n]) => {
        const name = rule === summary.selection.rule ? `**${rule}** (reported)` : rule;
        return `| ${name}: ${what} | ${pct(n.top1)} | ${pct(n.balancedAccuracy)} | ${at(n.steps)} |`;
      }),
    '',
  ];
}

function groupRuleText(rule: ReportedMetrics['groupRule']): string {
  switch (rule) {
    case 'count':
      return 'count rule on labeled training counts: many n>100, medium 20–100, few n<20';
    case 'index-thirds':
      return 'class-index ranges (MiSLAS): class 0 = head';
    case 'rank-thirds':
      return 'classes ranked by labeled count, split in thirds';
  }
}

function groupCell(g: ShotGroup): string {
  return g.classes.length === 0 ? '— (empty group)' : `${pct(g.accuracy)} (${g.classes.length} cl.)`;
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h ${m}m ${r}s` : m > 0 ? `${m}m ${r}s` : `${r}s`;
}

function meanOf(values: ReadonlyArray<number | null>, classes: ReadonlyArray<number>): number | null {
  const d = classes.map((c) => values[c]).filter((v): v is number => typeof v === 'number');
  return d.length === 0 ? null : d.reduce((a, b) => a + b, 0) / d.length;
}

function settingsText(summary: RunSummary): string {
  const entries = Object.entries(summary.settings ?? {});
  return entries.map(([k, v]) => `${k}=${v}`).join(' · ');
}

/** One-line headline of a run: "daso · fashion-mnist · cnn-small · seed 0". */
export function runTitle(summary: RunSummary): string {
  return `${summary.algorithm} · ${summary.dataset} · ${summary.net} · seed ${summary.seed}`;
}

/** The short summary.md text. */
export function writeSummaryMarkdown(summary: RunSummary): string {
  const f = summary.final;
  const v = summary.validation;
  const lines: string[] = [];
  lines.push(`# ${runTitle(summary)}`, '');
  const settings = settingsText(summary);
  lines.push(
    `Run \`${summary.runId}\` · backend ${summary.backend}${summary.precision === 'bf16' ? ' (bf16 convolutions)' : ''} · ${summary.iterations} iterations in ` +
      `${duration(summary.timing.seconds)} (${summary.timing.itPerSec.toFixed(2)} it/s)` +
      (settings ? ` · ${settings}` : ''),
    '',
  );
  if (summary.timing.phases) lines.push(`Where the training time went: ${formatPhaseShares(summary.timing.phases)}.`, '');
  lines.push(`Reported: **${summary.selection.rule}** — ${describeRule(summary)}. Fractions shown as %.`, '');
  lines.push(v ? '| metric | test | validation |' : '| metric | test |', v ? '|---|---:|---:|' : '|---|---:|');
  const row = (name: string, t: string, val?: string): void => {
    lines.push(v ? `| ${name} | ${t} | ${val ?? '—'} |` : `| ${name} | ${t} |`);
  };
  row('top-1 accuracy', pct(f.top1), v && pct(v.top1));
  row('balanced accuracy', pct(f.balancedAccuracy), v && pct(v.balancedAccuracy));
  row('geometric mean of recalls', pct(f.geometricMeanRecall), v && pct(v.geometricMeanRecall));
  row('many-shot', groupCell(f.groups.many), v && groupCell(v.groups.many));
  row('medium-shot', groupCell(f.groups.medium), v && groupCell(v.groups.medium));
  row('few-shot', groupCell(f.groups.few), v && groupCell(v.groups.few));
  if (f.ece !== undefined) row('ECE (15 bins, last eval)', pct(f.ece), v?.ece !== undefined ? pct(v.ece) : undefined);
  lines.push('');
  lines.push(...selectionRulesMarkdown(summary));
  const empty = (['many', 'medium', 'few'] as const).filter((g) => f.groups[g].classes.length === 0);
  lines.push(
    `Shot groups: ${groupRuleText(f.groupRule)}.` +
      (empty.length > 0 ? ` Empty group(s): ${empty.join(', ')} — no class falls in it under this rule, so no accuracy.` : ''),
    '',
  );

  const heads = summary.heads;
  if (heads) {
    lines.push(
      `Heads: the reported numbers are the **${heads.reported}** head's. Every head at the last evaluation (step ${heads.step}): ` +
        Object.entries(heads.test)
          .map(([h, m]) => `${h} top-1 ${pct(m.top1)}, balanced ${pct(m.balancedAccuracy)}`)
          .join('; ') +
        '.',
      '',
    );
  }
  const priors = summary.priorEstimates;
  if (priors) {
    lines.push(
      `## Estimated unlabeled class distribution (step ${priors.step})`,
      '',
      `| source | KL(estimate ‖ true) | ${classLabels(summary).join(' | ')} |`,
      `|---|---:|${classLabels(summary).map(() => '---:').join('|')}|`,
      `| true | 0 | ${priors.truth.map((p) => pct(p)).join(' | ')} |`,
      ...Object.entries(priors.sources).map(([src, r]) => `| ${src} | ${r.kl.toFixed(4)} | ${r.estimate.map((p) => pct(p)).join(' | ')} |`),
      '',
    );
  }

  const rel = summary.relativeAccuracy;
  if (rel) {
    lines.push(
      `Relative accuracy A_t / max(A_v, A_b): **${pct(rel.value)}** (A_t ${pct(rel.testTop1)}; on a class-balanced labeled set of the same size: plain CE A_v ${pct(rel.balancedCeTop1)}, this method A_b ${pct(rel.balancedMethodTop1)}; runs ${rel.references.ce}, ${rel.references.method}).`,
      '',
    );
  }

  const last = summary.lastModel;
  if (last) {
    lines.push(
      '## Shifted test distributions (EMA model at the last step)',
      '',
      `LADE's protocol: ${last.rule}.` +
        (last.top1PostHocLa !== undefined ? ` Post-hoc logit adjustment (z − log π) on the uniform test set: top-1 ${pct(last.top1PostHocLa)}.` : ''),
      '',
      '| target | images | top-1 |',
      '|---|---:|---:|',
      ...last.shiftedTargets.map((r) => `| ${r.target} | ${r.images} | ${pct(r.top1)} |`),
      '',
    );
  }

  const labels = classLabels(summary);
  if (summary.generations && summary.generations.length > 0) lines.push(...generationsTable(summary.generations, labels));
  const pl = summary.pseudoLabels;
  const fin = pl?.sources['final'];
  lines.push('## Per class', '');
  const plHead = fin ? ' PL recall | PL precision |' : '';
  const plSep = fin ? '---:|---:|' : '';
  lines.push(`| class | labeled | unlabeled | test acc |${plHead}`, `|---|---:|---:|---:|${plSep}`);
  labels.forEach((name, c) => {
    const plCells = fin ? ` ${pct(fin.all.averaged.recall[c])} | ${pct(fin.all.averaged.precision[c])} |` : '';
    lines.push(
      `| ${name} | ${summary.classCounts.labeled[c]} | ${summary.classCounts.unlabeled[c] ?? '—'} | ${pct(f.perClassAccuracy[c])} |${plCells}`,
    );
  });
  lines.push('');
  if (pl) {
    const tail = tailClasses(summary);
    lines.push(
      '## Pseudo-labels',
      '',
      `Window ${pl.window} steps; last window steps ${pl.lastWindow.startStep}–${pl.lastWindow.endStep}; ` +
        `per-class values are means over the last ${pl.averagedWindows} window(s). "all" counts every ` +
        'pseudo-label (as DASO\'s DistributionLogger); "confident" only those above the threshold. ' +
        `Tail classes: ${tail.map((c) => labels[c]).join(', ')}.`,
      '',
      '| source | view | mean recall | mean precision | tail recall | tail precision | confident rate | KL(PL‖GT) |',
      '|---|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const [name, s] of Object.entries(pl.sources)) {
      const views = [['all', s.all] as const, ...(s.confident ? [['confident', s.confident] as const] : [])];
      for (const [viewName, q] of views) {
        const all = labels.map((_, c) => c);
        lines.push(
          `| ${name} | ${viewName} | ${pct(meanOf(q.averaged.recall, all))} | ${pct(meanOf(q.averaged.precision, all))} | ` +
            `${pct(meanOf(q.averaged.recall, tail))} | ${pct(meanOf(q.averaged.precision, tail))} | ` +
            `${viewName === 'confident' ? pct(s.confidentRate) : ''} | ` +
            `${viewName === 'all' && typeof s.klToGroundTruth === 'number' ? s.klToGroundTruth.toFixed(3) : ''} |`,
        );
      }
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** KL(π̂ ‖ π) of each prior-estimate source over training (absent with fewer than two evaluations that have one). */
function priorKlCurve(summary: RunSummary, history: RunHistory): Chart[] {
  const priors = summary.priorEstimates;
  const evals = (history.evals ?? []).filter((e) => e.priors);
  if (!priors || evals.length < 2) return [];
  return [
    {
      name: 'prior-kl-curve',
      title: 'Prior estimates over training',
      svg: lineChartSvg({
        title: 'KL(estimated ‖ true unlabeled prior) over training',
        subtitle: summary.algorithm,
        series: Object.keys(priors.sources).map((src) => ({ name: src, points: evals.flatMap((e) => (e.priors?.[src] ? [{ x: e.step, y: e.priors[src]!.kl }] : [])) })),
        xLabel: 'training step',
        yLabel: 'KL (nats)',
        yMin: 0,
      }),
    },
  ];
}

/** The charts of one run (SVG). History adds curves over training. */
export function runCharts(summary: RunSummary, history: RunHistory = {}): Chart[] {
  const labels = classLabels(summary);
  const tail = tailClasses(summary);
  const sub = [summary.dataset, summary.net, `seed ${summary.seed}`, settingsText(summary)].filter((s) => s).join(' · ');
  const charts: Chart[] = [];

  charts.push({
    name: 'class-counts',
    title: 'Training images per class',
    svg: barChartSvg({
      title: 'Training images per class',
      subtitle: sub,
      categories: labels,
      series: [
        { name: 'labeled', values: summary.classCounts.labeled },
        { name: 'unlabeled', values: summary.classCounts.unlabeled },
      ],
      yLabel: 'images',
      xLabel: 'class',
      valueLabels: true,
    }),
  });

  const fin = summary.pseudoLabels?.sources['final'];
  const accSeries: BarSeries[] = [{ name: 'test accuracy', values: summary.final.perClassAccuracy }];
  if (fin) {
    accSeries.push({ name: 'PL recall (final)', values: fin.all.averaged.recall });
    accSeries.push({ name: 'PL precision (final)', values: fin.all.averaged.precision });
  }
  charts.push({
    name: 'per-class',
    title: 'Per-class test accuracy and pseudo-label quality',
    svg: barChartSvg({
      title: `Per class: test accuracy${fin ? ' and pseudo-label recall / precision' : ''}`,
      subtitle: `${summary.algorithm} · ${summary.selection.rule}${fin ? ` · PL: mean of last ${summary.pseudoLabels?.averagedWindows} windows, all pseudo-labels` : ''}`,
      categories: labels,
      series: accSeries,
      yLabel: 'fraction',
      yFormat: 'percent',
      yMax: 1,
      xLabel: 'class',
      highlight: tail,
      highlightLabel: 'tail classes',
    }),
  });

  const pl = summary.pseudoLabels;
  if (pl && Object.keys(pl.sources).length > 1) {
    const names = Object.keys(pl.sources);
    charts.push({
      name: 'pseudo-label-sources',
      title: 'Pseudo-label recall per source',
      svg: barChartSvg({
        title: 'Pseudo-label recall per class, by source',
        subtitle: `mean of last ${pl.averagedWindows} windows of ${pl.window} steps · all pseudo-labels`,
        categories: labels,
        series: names.map((n) => ({ name: n, values: pl.sources[n].all.averaged.recall })),
        yLabel: 'recall P(PL=k | GT=k)',
        yFormat: 'percent',
        yMax: 1,
        xLabel: 'class',
        highlight: tail,
        highlightLabel: 'tail classes',
      }),
    });
  }

  if (pl && Object.keys(pl.sources).length > 1) {
    const names = Object.keys(pl.sources);
    charts.push({
      name: 'pseudo-label-sources-precision',
      title: 'Pseudo-label precision per source',
      svg: barChartSvg({
        title: 'Pseudo-label precision per class, by source',
        subtitle: `mean of last ${pl.averagedWindows} windows of ${pl.window} steps · all pseudo-labels · n/a: class never pseudo-labelled`,
        categories: labels,
        series: names.map((n) => ({ name: n, values: pl.sources[n].all.averaged.precision })),
        yLabel: 'precision P(GT=k | PL=k)',
        yFormat: 'percent',
        yMax: 1,
        xLabel: 'class',
        highlight: tail,
        highlightLabel: 'tail classes',
      }),
    });
  }

  // Per source, recall and precision of every class over the training windows.
  const plWindows = history.pseudoLabels ?? [];
  for (const source of [...new Set(plWindows.flatMap((w) => Object.keys(w.sources)))]) {
    const ws = plWindows.filter((w) => w.sources[source]);
    const grid = (measure: 'recall' | 'precision'): Array<Array<number | null>> => labels.map((_, c) => ws.map((w) => w.sources[source].all[measure][c] ?? null));
    charts.push({
      name: `pseudo-label-heatmap-${source}`,
      title: `Pseudo-label recall and precision over training: ${source}`,
      svg: heatMapSvg({
        title: `Pseudo-labels over training: ${source}`,
        subtitle: `per-class recall and precision of every unlabeled sample, ${ws[0].endStep - ws[0].startStep + 1}-step windows · framed: tail classes · grey: undefined (class absent, or never pseudo-labelled)`,
        rows: labels,
        columns: ws.map((w) => String(w.endStep)),
        panels: [
          { name: 'recall P(PL=k | GT=k)', values: grid('recall') },
          { name: 'precision P(GT=k | PL=k)', values: grid('precision') },
        ],
        xLabel: 'training step (end of window)',
        yLabel: 'class',
        highlightRows: tail,
      }),
    });
  }

  const priors = summary.priorEstimates;
  if (priors) {
    charts.push({
      name: 'prior-estimates',
      title: 'Estimated vs true unlabeled class distribution',
      svg: barChartSvg({
        title: 'Unlabeled class distribution: the method\'s estimate vs the truth',
        subtitle: `step ${priors.step} · ${Object.entries(priors.sources).map(([src, r]) => `KL(${src} ‖ true) ${r.kl.toFixed(4)}`).join(' · ')}`,
        categories: labels,
        series: [{ name: 'true', values: priors.truth, color: '#555555' }, ...Object.entries(priors.sources).map(([src, r]) => ({ name: `estimate (${src})`, values: r.estimate }))],
        yLabel: 'fraction of unlabeled images',
        yFormat: 'percent',
        xLabel: 'class',
        highlight: tail,
        highlightLabel: 'tail classes',
      }),
    });
  }
  charts.push(...priorKlCurve(summary, history));

  const markers = (history.markers ?? []).map((m) => ({ x: m.step, label: m.label }));
  const evals = history.evals ?? [];
  if (evals.length > 0) {
    // On a balanced test set top-1 and balanced accuracy coincide: draw one line, say so.
    const same = evals.every((e) => Math.abs(e.test.top1 - e.test.balancedAccuracy) < 1e-9);
    const series: LineSeries[] = same
      ? [{ name: 'test top-1 = balanced', points: evals.map((e) => ({ x: e.step, y: e.test.balancedAccuracy })) }]
      : [
          { name: 'test top-1', points: evals.map((e) => ({ x: e.step, y: e.test.top1 })) },
          { name: 'test balanced', points: evals.map((e) => ({ x: e.step, y: e.test.balancedAccuracy })) },
        ];
    series.push({ name: 'test geo-mean recall', points: evals.map((e) => ({ x: e.step, y: e.test.geometricMeanRecall })) });
    if (evals.some((e) => e.val)) {
      series.push({
        name: 'val balanced',
        dashed: true,
        points: evals.flatMap((e) => (e.val ? [{ x: e.step, y: e.val.balancedAccuracy }] : [])),
      });
    }
    charts.push({
      name: 'accuracy-curve',
      title: 'Accuracy over training',
      svg: lineChartSvg({
        title: 'Accuracy over training (EMA model)',
        subtitle: sub,
        series,
        xLabel: 'training step',
        yLabel: 'accuracy',
        yFormat: 'percent',
        yMin: 0,
        yMax: 1,
        markers: [
          ...markers,
          ...(summary.selection.rule === 'median-last-20' && summary.selection.steps.length > 1
            ? [{ x: summary.selection.steps[0], label: `median window (${summary.selection.evaluations} evals)` }]
            : summary.selection.rule === 'best-val'
              ? [{ x: summary.selection.steps[0], label: 'best validation' }]
              : []),
        ],
      }),
    });
  }

  const train = history.train ?? [];
  const lossKeys = [...new Set(train.flatMap((t) => Object.keys(t.values)))].filter((k) => k.startsWith('loss'));
  if (lossKeys.length > 0) {
    charts.push({
      name: 'loss-curve',
      title: 'Training losses',
      svg: lineChartSvg({
        title: 'Training losses',
        subtitle: sub,
        series: lossKeys.map((k) => ({
          name: k,
          points: train.filter((t) => k in t.values).map((t) => ({ x: t.step, y: t.values[k] })),
        })),
        xLabel: 'training step',
        yLabel: 'loss',
        markers,
      }),
    });
  }

  const windows = history.pseudoLabels ?? [];
  const maskPts = train.filter((t) => 'maskRate' in t.values).map((t) => ({ x: t.step, y: t.values['maskRate'] }));
  if (maskPts.length > 0 || windows.length > 0) {
    const series: LineSeries[] = [];
    if (maskPts.length > 0) series.push({ name: 'mask rate (confident fraction)', points: maskPts });
    const sourceNames = [...new Set(windows.flatMap((w) => Object.keys(w.sources)))];
    for (const n of sourceNames) {
      const pts = windows
        .filter((w) => w.sources[n])
        .map((w) => ({ x: w.endStep, y: w.sources[n].all.meanRecall ?? Number.NaN }));
      series.push({ name: `${n} PL mean recall`, points: pts });
    }
    if (windows.length > 0 && tail.length > 0 && sourceNames.includes('final')) {
      series.push({
        name: 'final PL tail recall',
        dashed: true,
        points: windows
          .filter((w) => w.sources['final'])
          .map((w) => ({ x: w.endStep, y: meanOf(w.sources['final'].all.recall, tail) ?? Number.NaN })),
      });
    }
    charts.push({
      name: 'pseudo-label-curve',
      title: 'Pseudo-labels over training',
      svg: lineChartSvg({
        title: 'Pseudo-labels over training',
        subtitle: windows.length > 0 ? `recall per window of ${windows[0].endStep - windows[0].startStep + 1} steps` : sub,
        series,
        xLabel: 'training step',
        yLabel: 'fraction',
        yFormat: 'percent',
        yMin: 0,
        yMax: 1,
        markers,
      }),
    });
  }
  return charts;
}

function markdownToHtmlTable(md: string): string {
  // summary.md uses only headings, paragraphs, pipe tables and links: a tiny converter keeps the HTML
  // self-contained without a markdown dependency.
  const out: string[] = [];
  const lines = md.split('\n');
  let i = 0;
  const inline = (s: string): string =>
    escapeXml(s)
      .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
      .replace(/`(.+?)`/g, '<code>$1</code>')
      .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>');
  while (i < lines.length) {
    const line = lines[i];
    if (line.startsWith('|')) {
      const rows: string[] = [];
      while (i < lines.length && lines[i].startsWith('|')) rows.push(lines[i++]);
      const cells = (r: string): string[] => r.slice(1, -1).split('|').map((c) => c.trim());
      const align = cells(rows[1]).map((c) => (c.endsWith(':') ? 'right' : 'left'));
      const head = cells(rows[0]).map((c, k) => `<th style="text-align:${align[k]}">${inline(c)}</th>`).join('');
      const body = rows
        .slice(2)
        .map((r) => `<tr>${cells(r).map((c, k) => `<td style="text-align:${align[k]}">${inline(c)}</td>`).join('')}</tr>`)
        .join('');
      out.push(`<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`);
      continue;
    }
    if (line.startsWith('## ')) out.push(`<h2>${inline(line.slice(3))}</h2>`);
    else if (line.startsWith('# ')) out.push(`<h1>${inline(line.slice(2))}</h1>`);
    else if (line.trim() !== '') out.push(`<p>${inline(line)}</p>`);
    i++;
  }
  return out.join('\n');
}

const CSS = `
body{font-family:"DejaVu Sans",system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;background:#f6f7f9;color:#222}
main{max-width:1100px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
p{line-height:1.5}code{background:#eceef1;padding:1px 5px;border-radius:4px;font-size:90%}
table{border-collapse:collapse;background:#fff;margin:8px 0 16px;font-size:14px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
th,td{padding:6px 12px;border-bottom:1px solid #eee}th{background:#fafafa;font-weight:600}
tbody tr:hover{background:#f3f6fb}
figure{background:#fff;margin:16px 0;padding:10px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
figure svg,figure img{width:100%;height:auto;display:block}
figcaption{font-size:12px;color:#666;margin-top:4px}
.cards{display:flex;gap:14px;flex-wrap:wrap;margin:12px 0}
.card{background:#fff;border-radius:8px;padding:12px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08);min-width:150px}
.card .v{font-size:26px;font-weight:700}.card .k{font-size:12px;color:#666;text-transform:uppercase;letter-spacing:.04em}
footer{color:#888;font-size:12px;margin-top:30px}
`;

function cards(items: ReadonlyArray<readonly [string, string]>): string {
  return `<div class="cards">${items.map(([k, v]) => `<div class="card"><div class="k">${escapeXml(k)}</div><div class="v">${escapeXml(v)}</div></div>`).join('')}</div>`;
}

/**
 * Wraps markdown-ish content and charts into one HTML page: charts inline as SVG (self-contained),
 * or, with `chartSrc`, as <img> of their PNG files (the page next to its charts/ folder).
 */
export function renderHtmlPage(
  title: string,
  headerCards: ReadonlyArray<readonly [string, string]>,
  markdown: string,
  charts: ReadonlyArray<Chart>,
  chartSrc?: (chart: Chart) => string,
): string {
  const figure = (c: Chart): string =>
    chartSrc
      ? `<figure id="${escapeXml(c.name)}"><img src="${escapeXml(chartSrc(c))}" alt="${escapeXml(c.title)}"><figcaption>${escapeXml(c.title)}</figcaption></figure>`
      : `<figure id="${escapeXml(c.name)}">${c.svg}</figure>`;
  const figures = charts.map(figure).join('\n');
  // The cards go right under the page's first heading.
  const [first, ...rest] = markdown.split('\n');
  const heading = first.startsWith('# ') ? markdownToHtmlTable(first) : `<h1>${escapeXml(title)}</h1>`;
  const bodyMd = first.startsWith('# ') ? rest.join('\n') : markdown;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeXml(title)}</title><style>${CSS}</style></head>
<body><main>
${heading}
${cards(headerCards)}
${markdownToHtmlTable(bodyMd)}
<h2>Charts</h2>
${figures}
<footer>Generated by ssl. All accuracies are fractions shown as percentages; "—" means undefined (no sample, never predicted, or empty group).</footer>
</main></body></html>
`;
}

/** report.md: the summary, then every chart with its title (PNG files in charts/). */
export function writeReportMarkdown(summary: RunSummary, charts: ReadonlyArray<Chart>): string {
  return `${writeSummaryMarkdown(summary)}\n## Charts\n\n${charts.map((c) => `### ${c.title}\n\n![${c.title}](charts/${c.name}.png)\n`).join('\n')}`;
}

/**
 * The HTML report of one run: self-contained (charts inline as SVG), or, with `chartSrc`, with
 * each chart as an <img> of its PNG (report.html next to charts/).
 */
export function renderRunReportHtml(summary: RunSummary, history: RunHistory = {}, charts?: ReadonlyArray<Chart>, chartSrc?: (c: Chart) => string): string {
  const tail = tailClasses(summary);
  const fin = summary.pseudoLabels?.sources['final'];
  const items: Array<readonly [string, string]> = [
    ['balanced accuracy', pct(summary.final.balancedAccuracy)],
    ['top-1', pct(summary.final.top1)],
    ['geo-mean recall', pct(summary.final.geometricMeanRecall)],
    ['tail-class accuracy', pct(meanOf(summary.final.perClassAccuracy, tail))],
  ];
  if (fin) items.push(['tail PL recall', pct(meanOf(fin.all.averaged.recall, tail))]);
  return renderHtmlPage(runTitle(summary), items, writeSummaryMarkdown(summary), charts ?? runCharts(summary, history), chartSrc);
}

/**
 * CReST's generations: each one's steps, the labeled images it trained on, and per class the
 * pseudo-labeled images it added with the share whose true class that is.
 */
function generationsTable(generations: ReadonlyArray<GenerationSummary>, labels: ReadonlyArray<string>): string[] {
  const cell = (n: number, precision: number | null): string => (n === 0 ? '0' : `${n} (${pct(precision)})`);
  return [
    '## Generations (CReST)',
    '',
    'Each generation re-trains from a fresh model on the labeled split plus the pseudo-labeled images picked at its start; a cell is the images added as that class (the share whose true class it is).',
    '',
    `| generation | steps | labeled | ${labels.join(' | ')} |`,
    `|---:|---|---:|${labels.map(() => '---:').join('|')}|`,
    ...generations.map(
      (g) => `| ${g.index + 1} | ${g.startStep}–${g.endStep} | ${g.labeledPerClass.reduce((a, b) => a + b, 0)} | ${g.addedPerClass.map((n, c) => cell(n, g.addedPrecision[c] ?? null)).join(' | ')} |`,
    ),
    '',
  ];
}
