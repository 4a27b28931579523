import { Command, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { readRunSummary, writeComparisonReport, writeStudyReport } from '../report/write-report.js';
import { readStudyPlan, STUDY_FILE } from '../study/plan.js';
import { readStudyResults } from '../study/aggregate.js';
import { rewriteRunReport } from '../run/rewrite-report.js';
import { renderComparison } from '../report/comparison.js';
import { processOutput, type CliOutput } from './output.js';

const EXAMPLES = `
Examples:
  $ ssl report runs/daso-fashion-mnist-s0-...                 # the run's report.md, report.html and charts/*.png, written again
  $ ssl report studies/mismatch-1a2b3c4d                      # the study's mean ± std tables: report.md, report.html, charts/*.png
  $ ssl report compare runs/fixmatch-... runs/daso-... --out reports/fm-vs-daso
                                                            # per-class pseudo-label recall/precision side by side`;

/** `ssl report`: show a run's summary, or compare runs (e.g. FixMatch vs DASO on one seed). */
export function createReportCommand(output: CliOutput = processOutput): Command {
  const cmd = new Command('report').description("a run's report, a study's tables and charts, or a comparison of runs").addHelpText('after', EXAMPLES);
  cmd
    .argument('<dir>', 'a run directory (runs/<id>) or a study folder (studies/<id>)')
    .action(async (runDir: string) => {
      if (existsSync(path.join(runDir, STUDY_FILE))) {
        const plan = await readStudyPlan(runDir, '<dir>');
        const written = await writeStudyReport(runDir, await readStudyResults(runDir, plan));
        output.out(`${written.text}\nwritten: ${written.markdown}, ${written.html}, ${written.charts.length} charts in ${path.join(runDir, 'charts')}\n`);
        return;
      }
      if (!existsSync(path.join(runDir, 'summary.json'))) {
        throw new UserError('<dir>', `${runDir} has no summary.json (and no study.json)`, 'Give a finished run directory or a study folder; an interrupted run can be finished with `ssl run --resume <runDir>`.');
      }
      const files = await rewriteRunReport(runDir);
      output.out(`${await readFile(files.summaryMd, 'utf8')}\nwritten: ${files.reportMd}, ${files.reportHtml}, ${files.charts.length} charts in ${path.join(runDir, 'charts')}\n`);
    });
  cmd
    .command('compare')
    .description('compare runs: accuracy, per-class accuracy and pseudo-label recall/precision, tail classes called out')
    .argument('<runDirs...>', 'two or more run directories; the first is the reference')
    .option('--out-dir <dir>', 'where comparison.md, comparison.html and charts/ go (as `ssl run --out-dir`)', 'reports/comparison')
    .addOption(new Option('--out <dir>', 'old name of --out-dir').hideHelp())
    .action(async (runDirs: string[], flags: { outDir: string; out?: string }) => {
      if (runDirs.length < 2) throw new UserError('<runDirs>', `got ${runDirs.length} run`, 'Give at least two run directories.');
      const runs = await Promise.all(runDirs.map((d) => readRunSummary(path.join(d, 'summary.json'))));
      const files = await writeComparisonReport(flags.out ?? flags.outDir, runs);
      output.out(`${renderComparison(runs).markdown}\nwritten: ${files.markdown}, ${files.html}\n`);
    });
  return cmd;
}
