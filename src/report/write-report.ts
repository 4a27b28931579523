/**
 * Writing reports to disk: summary.json, summary.md, report.html and charts/*.png for one run, and
 * comparison.md / comparison.html / charts for several. Every file is written to a temporary name
 * and renamed, so a crash never leaves a half-written summary.json behind.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { svgToPng } from './charts.js';
import { renderComparison, renderComparisonHtml } from './comparison.js';
import { renderRunReportHtml, runCharts, writeReportMarkdown, writeSummaryMarkdown, type Chart, type RunHistory } from './run-report.js';
import type { RunSummary } from './run-summary.js';
import { renderStudyHtml, studyCharts, writeStudyMarkdown, type StudyResults } from './study-report.js';


/** Renders each chart to `<dir>/<name>.png`; returns the written paths. */
export async function writeCharts(dir: string, charts: ReadonlyArray<Chart>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const c of charts) {
    const p = join(dir, `${c.name}.png`);
    await writeFileAtomic(p, await svgToPng(c.svg));
    paths.push(p);
  }
  return paths;
}

/** Paths written by {@link writeRunReport}. */
export interface RunReportFiles {
  readonly summaryJson: string;
  readonly summaryMd: string;
  readonly reportMd: string;
  readonly reportHtml: string;
  readonly charts: ReadonlyArray<string>;
}

/**
 * Writes runDir/summary.json, summary.md, report.md, report.html (its charts as <img> of the
 * PNGs) and charts/*.png. summary.json is written last, so its presence means the report is complete.
 */
export async function writeRunReport(runDir: string, summary: RunSummary, history: RunHistory = {}): Promise<RunReportFiles> {
  await mkdir(runDir, { recursive: true });
  const charts = runCharts(summary, history);
  const chartPaths = await writeCharts(join(runDir, 'charts'), charts);
  const summaryMd = join(runDir, 'summary.md');
  const chartLinks = charts.map((c) => `![${c.title}](charts/${c.name}.png)`).join('\n\n');
  await writeFileAtomic(summaryMd, `${writeSummaryMarkdown(summary)}\n## Charts\n\n${chartLinks}\n`);
  const reportMd = join(runDir, 'report.md');
  await writeFileAtomic(reportMd, writeReportMarkdown(summary, charts));
  const reportHtml = join(runDir, 'report.html');
  await writeFileAtomic(reportHtml, renderRunReportHtml(summary, history, charts, (c) => `charts/${c.name}.png`));
  const summaryJson = join(runDir, 'summary.json');
  await writeFileAtomic(summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
  return { summaryJson, summaryMd, reportMd, reportHtml, charts: chartPaths };
}

/** Reads and checks a summary.json (schemaVersion 1 and the fields reports rely on). */
export async function readRunSummary(path: string): Promise<RunSummary> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UserError(path, 'cannot read the run summary', 'Give a run directory or summary.json of a finished run');
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new UserError(path, 'is not valid JSON', 'The run may have been interrupted before its summary was written; re-run or resume it');
  }
  const o = obj as Partial<RunSummary> | null;
  if (o === null || typeof o !== 'object' || o.schemaVersion !== 1) {
    throw new UserError(path, `schemaVersion is ${String(o?.schemaVersion)}, expected 1`, 'Use a summary.json written by this version of ssl');
  }
  for (const key of ['runId', 'algorithm', 'final', 'classCounts', 'selection'] as const) {
    if (o[key] === undefined) throw new UserError(path, `field '${key}' is missing`, 'Use a summary.json written by ssl run');
  }
  return o as RunSummary;
}

/**
 * Writes outDir/comparison.md, comparison.html and charts/compare-*.png for two or more runs.
 * @returns the paths written
 */
export async function writeComparisonReport(
  outDir: string,
  runs: ReadonlyArray<RunSummary>,
): Promise<{ markdown: string; html: string; charts: ReadonlyArray<string> }> {
  const comparison = renderComparison(runs);
  await mkdir(outDir, { recursive: true });
  const charts = await writeCharts(join(outDir, 'charts'), comparison.charts);
  const markdown = join(outDir, 'comparison.md');
  const chartLinks = comparison.charts.map((c) => `![${c.title}](charts/${c.name}.png)`).join('\n\n');
  await writeFileAtomic(markdown, `${comparison.markdown}\n## Charts\n\n${chartLinks}\n`);
  const html = join(outDir, 'comparison.html');
  await writeFileAtomic(html, renderComparisonHtml(runs, comparison));
  return { markdown, html, charts };
}

/** Paths written by {@link writeStudyReport}. */
export interface StudyReportFiles {
  readonly markdown: string;
  readonly html: string;
  readonly charts: ReadonlyArray<string>;
}

/**
 * Writes studyDir/report.md, report.html (its charts as <img> of the PNGs) and charts/*.png.
 * @returns the paths written and the markdown
 */
export async function writeStudyReport(studyDir: string, results: StudyResults): Promise<StudyReportFiles & { readonly text: string }> {
  const text = writeStudyMarkdown(results);
  const charts = studyCharts(results);
  const chartPaths = await writeCharts(join(studyDir, 'charts'), charts);
  const markdown = join(studyDir, 'report.md');
  await writeFileAtomic(markdown, `${text}\n## Charts\n\n${charts.map((c) => `![${c.title}](charts/${c.name}.png)`).join('\n\n')}\n`);
  const html = join(studyDir, 'report.html');
  await writeFileAtomic(html, renderStudyHtml(results, text, charts, (c) => `charts/${c.name}.png`));
  return { markdown, html, charts: chartPaths, text };
}
