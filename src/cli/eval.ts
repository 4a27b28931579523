import { Command } from 'commander';
import { UserError } from '../errors.js';
import { POST_HOC, type PostHoc } from '../eval/post-hoc.js';
import { TARGET_DISTRIBUTIONS } from '../eval/shifted-targets.js';
import { evaluateShiftedTargets, parseTargets, type ShiftedReport } from '../run/evaluate-shifted.js';
import { pct } from '../report/run-report.js';
import { processOutput, type CliOutput } from './output.js';

const EXAMPLES = `
Examples:
  $ ssl eval runs/<id> --target-dist all                       # the 11 shifted test distributions of LADE
  $ ssl eval runs/<id> --post-hoc pc-softmax --target-dist backward-10
  $ ssl eval runs/<id> --post-hoc la --tau 1                   # post-hoc logit adjustment, uniform target

Distributions: ${TARGET_DISTRIBUTIONS.join(', ')}.
Post-hoc adjustments: none; la (z − τ log π, for a uniform target); pc-softmax (z − log π + log p_t,
for a plain-CE model); lade-prior (z + log p_t, for logits balanced in training: balanced-softmax,
la-loss, lade). A model trained with a prior-adjusting loss is not adjusted by the prior again.`;

/** The table `ssl eval` prints. */
export function formatShiftedTable(r: ShiftedReport): string {
  const adjusted = r.postHoc !== 'none';
  const head = ['target', 'images', 'top-1', ...(adjusted ? [`top-1 +${r.postHoc}`] : [])];
  const rows = r.rows.map((x) => [x.target, String(x.images), pct(x.top1), ...(adjusted ? [pct(x.top1Adjusted)] : [])]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [`${r.runId} (${r.algorithm}, --labeled-loss ${r.labeledLoss}); ${r.rule}`, line(head), ...rows.map(line), ''].join('\n');
}

/** `ssl eval <runDir>`: a finished run's EMA model under shifted test label distributions. */
export function createEvalCommand(output: CliOutput = processOutput): Command {
  return new Command('eval')
    .description("evaluate a finished run's EMA model on shifted target label distributions, with inference-time adjustment")
    .argument('<runDir>', 'a finished run directory (runs/<id>)')
    .option('--target-dist <names>', 'all, or a comma-separated list of distributions', 'all')
    .option('--post-hoc <kind>', `inference-time adjustment: ${POST_HOC.join(' | ')}`, 'none')
    .option('--tau <t>', 'τ of --post-hoc la', '1')
    .option('--json', 'print shifted-targets.json instead of the table')
    .addHelpText('after', EXAMPLES)
    .action(async (runDir: string, flags: { targetDist: string; postHoc: string; tau: string; json?: boolean }) => {
      if (!(POST_HOC as readonly string[]).includes(flags.postHoc)) {
        throw new UserError('--post-hoc', `unknown adjustment '${flags.postHoc}'`, `Use one of: ${POST_HOC.join(', ')}.`);
      }
      const tau = Number(flags.tau);
      if (!(Number.isFinite(tau) && tau >= 0)) throw new UserError('--tau', `'${flags.tau}' is not a number ≥ 0`, 'Give τ, e.g. --tau 1.');
      const targets = parseTargets(flags.targetDist);
      const { report, files } = await evaluateShiftedTargets(runDir, { targets, postHoc: flags.postHoc as PostHoc, tau, log: (l) => output.err(`${l}\n`) });
      output.out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatShiftedTable(report)}written: ${files.join(', ')}\n`);
    });
}
