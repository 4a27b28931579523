import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveRunConfig, savedComposition } from '../config/run-config.js';
import { UserError } from '../errors.js';
import { selectBackend } from '../backend/select.js';
import { withPrecision } from '../backend/precision.js';
import { labeledLossEntry } from '../losses/index.js';
import { registry } from '../algorithms/index.js';
import { TARGET_DISTRIBUTIONS, type TargetDistribution } from '../eval/shifted-targets.js';
import { assertAdjustOnce, type PostHoc } from '../eval/post-hoc.js';
import { scoreShiftedTargets, shiftedRule, type ShiftedRow } from '../eval/score-shifted.js';
import { barChartSvg, svgToPng } from '../report/charts.js';
import type { RunSummary } from '../report/run-summary.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { predict } from '../train/evaluate.js';
import { readRunConfig } from './run-config-file.js';
import { loadTrainedModel } from './trained-model.js';

export type { ShiftedRow };

/** `shifted-targets.json`. */
export interface ShiftedReport {
  readonly runId: string;
  readonly algorithm: string;
  readonly labeledLoss: string;
  readonly postHoc: PostHoc;
  readonly tau: number;
  /** How classes were ranked and how many test images per class the uniform set keeps. */
  readonly rule: string;
  readonly rows: readonly ShiftedRow[];
}

/** Options of {@link evaluateShiftedTargets}. */
export interface ShiftedOptions {
  readonly targets: readonly TargetDistribution[];
  readonly postHoc: PostHoc;
  /** τ of the post-hoc logit adjustment. */
  readonly tau: number;
  readonly log?: (line: string) => void;
}

/**
 * Evaluates a finished run's EMA model on shifted target distributions (LADE's protocol): the
 * test logits are computed once, then each target's subset is scored raw and after the
 * inference-time adjustment. Writes runs/<id>/shifted-targets.json and charts/shifted-targets.png.
 */
export async function evaluateShiftedTargets(runDir: string, opts: ShiftedOptions): Promise<{ report: ShiftedReport; files: string[] }> {
  const saved = await readRunConfig(runDir);
  const source = `${runDir}/config.json`;
  const config = resolveRunConfig(savedComposition(saved, source), [{ source, values: saved }]);
  const summaryFile = path.join(runDir, 'summary.json');
  if (!existsSync(summaryFile)) {
    throw new UserError('<runDir>', `${runDir} has no summary.json: the run has not finished`, `Finish it with \`ssl run --resume ${runDir}\`, then evaluate.`);
  }
  const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as RunSummary;
  const trainCounts = [...summary.classCounts.labeled];
  const adjusted = labeledLossEntry(config.labeledLoss).adjustsLogits ? `--labeled-loss ${config.labeledLoss}` : registry.priorAdjustment(config);
  assertAdjustOnce(opts.postHoc, adjusted);

  const backend = await selectBackend(config.backend, config.threads || undefined);
  opts.log?.(`backend: ${backend.note}`);
  // The config was read above because the checks and the backend come before any variable exists.
  const { dataset, model } = await loadTrainedModel(runDir);
  let logits: Float32Array;
  try {
    // The run's own arithmetic, so that its shifted numbers match its reported ones.
    logits = await withPrecision(config.precision, backend.name, (precision) => {
      opts.log?.(`precision: ${precision.note}`);
      return predict(model, dataset.test, null, dataset).logits;
    });
  } finally {
    model.dispose();
  }

  const rows = scoreShiftedTargets(logits, dataset.test.labels, trainCounts, opts.targets, opts.postHoc, opts.tau);
  const report: ShiftedReport = {
    runId: summary.runId,
    algorithm: summary.algorithm,
    labeledLoss: config.labeledLoss,
    postHoc: opts.postHoc,
    tau: opts.tau,
    rule: shiftedRule(dataset.test.labels, dataset.numClasses),
    rows,
  };
  const json = path.join(runDir, 'shifted-targets.json');
  await writeFileAtomic(json, `${JSON.stringify(report, null, 2)}\n`);
  const png = path.join(runDir, 'charts', 'shifted-targets.png');
  const series = [{ name: `${summary.algorithm} (raw logits)`, values: rows.map((r) => r.top1) }];
  if (opts.postHoc !== 'none') series.push({ name: `+ post-hoc ${opts.postHoc}`, values: rows.map((r) => r.top1Adjusted) });
  const svg = barChartSvg({
    title: 'Top-1 under shifted test label distributions',
    subtitle: `${summary.runId}: ${summary.algorithm}, --labeled-loss ${config.labeledLoss}. Forward = head-heavy test set, backward = tail-heavy (LADE)`,
    categories: rows.map((r) => r.target),
    series,
    yLabel: 'top-1',
    yFormat: 'percent',
    yMax: 1,
    xLabel: 'target distribution',
  });
  await writeFileAtomic(png, await svgToPng(svg));
  return { report, files: [json, png] };
}

/** Parses `--target-dist`: `all` or a comma-separated list of distribution names. */
export function parseTargets(value: string): TargetDistribution[] {
  if (value === 'all') return [...TARGET_DISTRIBUTIONS];
  const names = value.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !(TARGET_DISTRIBUTIONS as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0) {
    throw new UserError('--target-dist', `unknown distribution ${bad.map((b) => `'${b}'`).join(', ')}`, `Use all, or any of: ${TARGET_DISTRIBUTIONS.join(', ')}.`);
  }
  return names as TargetDistribution[];
}
