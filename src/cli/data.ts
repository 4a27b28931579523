import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { kebabCase, type OptionSpec } from '../options/option-spec.js';
import { dataOptions } from '../options/run-options.js';
import { resolveRunConfig, shippedPresetLayers } from '../config/run-config.js';
import { DEFAULT_METHOD, registry } from '../algorithms/index.js';
import { addConfigFlags, configOverrides } from './config-flags.js';
import { presetDefaultNote } from './preset-help.js';
import { UserError } from '../errors.js';
import { classCounts, drawLongTailSplit, splitCounts, type LongTailSplit, type LongTailSplitOptions } from '../data/longtail.js';
import { saveSplitFile } from '../data/split-file.js';
import { loadDataset } from '../data/sources/index.js';

/** Where the command writes; tests capture it. Defaults to process.stdout. */
export interface DataCommandIO {
  readonly out?: (text: string) => void;
  /** Commander's own error text (unknown flag, missing value); defaults to process.stderr. */
  readonly err?: (text: string) => void;
}

/** Per-class counts printed by `ssl data split --json`. */
export interface SplitCountsReport {
  readonly labeled: number[];
  readonly unlabeled: number[];
  readonly validation: number[];
  readonly test: number[];
}

/** The RunConfig keys `ssl data split` reads; flags, defaults and validation come from their specs. */
const SPLIT_KEYS = ['dataset', 'dataDir', 'n1', 'm1', 'gammaL', 'gammaU', 'validationPerClass', 'labeledInUnlabeled', 'balancedLabeled', 'seed'] as const;
const SPLIT_SPECS = new Map<string, OptionSpec<unknown>>(SPLIT_KEYS.map((k) => [k, dataOptions[k] as OptionSpec<unknown>]));

const HELP_EXAMPLES = `
Examples:
  # the embedded Fashion-MNIST, DASO's CIFAR-10 setting (N_1=1500, M_1=3000, γ_l=100), uniform unlabeled set
  $ ssl data split --dataset fashion-mnist --gamma-l 100 --gamma-u 1 --n1 1500 --m1 3000

  # reversed unlabeled set (γ_u = 1/100), counts as JSON
  $ ssl data split --gamma-u 0.01 --json

  # CIFAR-10 from disk, save the drawn indices for \`ssl run --split-file\`
  $ ssl data split --dataset cifar10 --data-dir ~/data/cifar-10-batches-bin --n1 500 --m1 4000 --save split.json
`;

/**
 * `ssl data`: dataset tools. Subcommand `split` draws a long-tailed split (DASO's procedure,
 * src/data/longtail.ts), prints per-class counts (a table, or `--json`) and optionally saves the
 * indices. Throws (UserError for bad input, CommanderError for unknown flags) instead of exiting;
 * the CLI entry sets the exit code.
 */
export function createDataCommand(io: DataCommandIO = {}): Command {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const output = io.err ? { writeOut: out, writeErr: io.err } : { writeOut: out };
  const data = new Command('data').description('dataset tools: draw and inspect long-tailed splits').exitOverride();
  data.configureOutput(output);

  const split = new Command('split')
    .description('draw a long-tailed labeled/unlabeled/validation split and print per-class counts')
    .exitOverride()
    .configureOutput(output);
  // The same flags, presets and defaults as `ssl run`: the split printed is the split a plain run draws.
  addConfigFlags(split, SPLIT_SPECS, presetDefaultNote(() => registry.compositionOf(DEFAULT_METHOD)));
  split
    .option('--save <file>', 'write the drawn indices (labeled, unlabeled, validation) as JSON, for `ssl run --split-file`')
    .option('--force', 'let --save replace an existing file')
    .option('--json', 'print {labeled, unlabeled, validation, test} per-class count arrays as JSON')
    .addHelpText('after', HELP_EXAMPLES)
    .action(async (raw: Record<string, unknown>) => {
      await runSplit(raw, out);
    });
  data.addCommand(split);
  return data;
}

async function runSplit(raw: Record<string, unknown>, out: (text: string) => void): Promise<void> {
  const overrides = configOverrides(raw, SPLIT_SPECS);
  const c = registry.compositionOf(DEFAULT_METHOD);
  const presets = await shippedPresetLayers(c, typeof overrides.dataset === 'string' ? overrides.dataset : undefined);
  const config = resolveRunConfig(c, [...presets, { source: 'command line', values: overrides }]);
  const opts: LongTailSplitOptions = {
    n1: config.n1,
    m1: config.m1,
    gammaL: config.gammaL,
    gammaU: config.gammaU,
    validationPerClass: config.validationPerClass,
    labeledInUnlabeled: config.labeledInUnlabeled,
    ...(config.balancedLabeled ? { balancedLabeled: true } : {}),
    seed: config.seed,
  };
  const name = config.dataset;
  const dataDir = config.dataDir ?? undefined;

  const dataset = await loadDataset({ name, dataDir });
  let drawn: LongTailSplit;
  try {
    drawn = drawLongTailSplit(dataset.train.labels, dataset.numClasses, opts);
  } catch (e) {
    throw e instanceof UserError && (SPLIT_KEYS as readonly string[]).includes(e.field) ? withFlag(e) : e;
  }
  const counts = splitCounts(drawn, dataset.train.labels, dataset.numClasses);
  const report: SplitCountsReport = { ...counts, test: classCounts(null, dataset.test.labels, dataset.numClasses) };

  if (typeof raw.save === 'string') {
    if (existsSync(raw.save) && raw.force !== true) {
      const what = statSync(raw.save).isDirectory() ? 'is a folder' : 'already exists';
      throw new UserError('--save', `${raw.save} ${what}`, what === 'is a folder' ? `Give a file path, e.g. --save ${path.join(raw.save, 'split.json')}.` : 'Pick another file, or pass --force to replace it.');
    }
    await saveSplitFile(raw.save, drawn, {
      dataset: dataset.name,
      numTrain: dataset.train.count,
      numClasses: dataset.numClasses,
      seed: opts.seed,
      options: opts,
      labeledInUnlabeled: opts.labeledInUnlabeled,
    });
  }
  if (raw.json === true) {
    out(`${JSON.stringify(report)}\n`);
    return;
  }
  const header =
    `${dataset.name}: γ_l=${opts.gammaL} γ_u=${opts.gammaU} N_1=${opts.n1} M_1=${opts.m1}, ` +
    `${opts.validationPerClass} validation/class, seed ${opts.seed}` +
    (opts.labeledInUnlabeled ? ', labeled images also unlabeled' : '') +
    (opts.balancedLabeled ? ', labeled set class-balanced (same total)' : '');
  out(`${header}\n${formatSplitTable(dataset.classNames, report)}`);
  if (typeof raw.save === 'string') out(`saved split indices to ${raw.save}\n`);
}

/**
 * A per-class table: class, labeled, unlabeled, validation, test, and a total row. Ends with a newline.
 */
export function formatSplitTable(classNames: readonly string[], counts: SplitCountsReport): string {
  const cols = ['labeled', 'unlabeled', 'validation', 'test'] as const;
  const total = (a: number[]): number => a.reduce((s, v) => s + v, 0);
  const rows: string[][] = classNames.map((name, c) => [name, ...cols.map((k) => String(counts[k][c]))]);
  rows.push(['total', ...cols.map((k) => String(total(counts[k])))]);
  const head = ['class', ...cols];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.slice(0, -1).map(line), line(rows[rows.length - 1])].join('\n') + '\n';
}

/** Re-labels a UserError from a config key (`gammaL`) with its flag (`--gamma-l`). */
function withFlag(e: UserError): UserError {
  const problem = e.message.slice(e.field.length + 2, e.message.length - e.fix.length - 2);
  return new UserError(`--${kebabCase(e.field)}`, problem, e.fix);
}
