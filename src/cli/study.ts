import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { allOptionSpecs } from '../config/run-config.js';
import type { OptionSpec } from '../options/option-spec.js';
import type { ProgressMode } from '../options/trainer-options.js';
import { COMMAND_LINE, GRID_KEYS, loadStudyFile, seedList, validateDefinition, type StudyDefinition } from '../study/definition.js';
import { assertSamePlan, planStudy, readStudyPlan, writeStudyPlan, type StudyPlan } from '../study/plan.js';
import { runLabel, runStudyLocally, type LiveRun } from '../study/local-executor.js';
import { createStudyProgress } from '../study/progress.js';
import { countStates, estimateSecondsLeft, readStudyStatus, type RunStatus } from '../study/run-state.js';
import { StudyFailed, StudyInterrupted } from '../study/outcome.js';
import { aggregateStudyDir } from '../study/aggregate.js';
import { reuseFinishedRuns } from '../study/reuse-runs.js';
import { writeStudyReport } from '../report/write-report.js';
import { assertRedisReachable, enqueueStudy, queuedStudyStatus, watchQueuedStudy } from '../study/queue.js';
import { formatDuration } from '../train/progress.js';
import { pct } from '../report/run-report.js';
import { addConfigFlags, configOverrides } from './config-flags.js';
import { processOutput, type CliOutput } from './output.js';

const EXAMPLES = `
Examples:
  $ ssl study mismatch --methods fixmatch,daso --gamma-u 100,1,0.01 --seeds 3
                                              # FixMatch vs FixMatch + DASO, γ_u consistent / uniform / reversed, 3 seeds each
  $ ssl study mismatch --methods fixmatch,daso,fixmatch+daso+la --concurrency 2 --iterations 400
  $ ssl study run pipelines/studies/mismatch-embedded.yaml          # the same grid, from a study file
  $ ssl study mismatch --resume studies/<id>                        # skips finished runs, resumes or re-runs the others
  $ ssl study run pipelines/studies/beyond-daso-embedded.yaml --reuse studies/<ssl-family-id>
                                              # FixMatch and DASO rows taken from that study where their ids match
  $ ssl study status studies/<id>                                   # done / running / failed / queued, ETA
  $ ssl report studies/<id>                                         # mean ± std table and charts

Every run lives in studies/<id>/runs/<run>, a run directory as \`ssl run\` writes it. The same grid
gives the same study id and run ids. Run flags (--iterations, --gamma-l, --daso-warmup, ...) apply
to every run of the study whose method has that option.`;

/** Run options a study sets itself (the grid) or that concern only its own display. */
const NOT_RUN_FLAGS = new Set([...GRID_KEYS, 'progress']);

function studyRunSpecs(): Map<string, OptionSpec<unknown>> {
  const out = new Map<string, OptionSpec<unknown>>();
  for (const [k, spec] of allOptionSpecs()) if (!NOT_RUN_FLAGS.has(k)) out.set(k, spec);
  return out;
}

/** `100,1,0.01` or `100,1,1/100` → numbers. */
function parseNumberList(flag: string, raw: string): number[] {
  return raw.split(',').map((part) => {
    const t = part.trim();
    const frac = /^(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(t);
    const v = frac ? Number(frac[1]) / Number(frac[2]) : /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) ? Number(t) : Number.NaN;
    if (!(v > 0) || !Number.isFinite(v)) throw new UserError(flag, `'${t}' is not a positive number`, `Give a comma-separated list, e.g. ${flag} 100,1,0.01.`);
    return v;
  });
}

/** `3` → seeds 0, 1, 2; `0,5,7` → those seeds. */
function parseSeeds(raw: string): number[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new UserError('--seeds', `'${raw}' is not a count or a list of seeds`, 'Give a count (--seeds 3 = seeds 0, 1, 2) or a list (--seeds 0,5,7).');
  const n = parts.map(Number);
  if (parts.length === 1) {
    if (n[0] < 1) throw new UserError('--seeds', 'is 0', 'Give at least 1.');
    return seedList(n[0]);
  }
  return n;
}

function parsePositiveInt(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UserError(flag, `'${raw}' is not a positive whole number`, `Give e.g. ${flag} 2.`);
  return n;
}

/** The study flags every executing study command takes. */
interface StudyFlags {
  readonly methods?: string;
  readonly gammaU?: string;
  readonly seeds?: string;
  readonly name?: string;
  readonly outDir: string;
  readonly concurrency: string;
  readonly resume?: string;
  readonly reuse: readonly string[];
  readonly queue?: string;
  readonly wait: boolean;
  readonly progress?: string;
}

function addStudyFlags(cmd: Command, grid: 'required' | 'override'): Command {
  const over = grid === 'override' ? ' (replaces the file\'s)' : '';
  cmd
    .option('--methods <list>', `comma-separated methods, one table row each: a base learner, an add-on, or base+add-on+...: fixmatch,daso,fixmatch+daso+la${over}`)
    .option('--gamma-u <list>', `unlabeled imbalance ratios γ_u, one table column each (100 consistent, 1 uniform, 0.01 or 1/100 reversed)${grid === 'required' ? ' (default: 100,1,0.01)' : over}`)
    .option('--seeds <n|list>', `a count (3 = seeds 0, 1, 2) or a list of seeds${grid === 'required' ? ' (default: 3)' : over}`)
    .option('--name <name>', `study id prefix: studies/<name>-<hash>${grid === 'required' ? ' (default: mismatch)' : over}`)
    .option('--out-dir <dir>', 'parent folder of study folders', 'studies')
    .option('--concurrency <n>', 'runs at once on this machine, each with cores/n compute threads', '1')
    .option('--resume <studyDir>', 'continue a study: skip its finished runs, resume or re-run the others')
    .option('--reuse <studyDir>', 'take the finished runs of another study that this one also plans (same run id = same settings) instead of training them again (repeatable)', (dir: string, dirs: string[]) => [...dirs, dir], [] as string[])
    .option('--queue <redis-url>', 'enqueue the runs on Redis (BullMQ) for `ssl worker` processes instead of running them here')
    .addOption(new Option('--no-wait', 'with --queue: enqueue and return, without waiting for the workers'));
  addConfigFlags(cmd, studyRunSpecs());
  cmd.addOption(new Option('--progress <mode>', 'study progress display: auto | bar | lines | none').choices(['auto', 'bar', 'lines', 'none']));
  return cmd;
}

/** True when the user gave any grid flag. */
function hasGridFlags(flags: StudyFlags): boolean {
  return flags.methods !== undefined || flags.gammaU !== undefined || flags.seeds !== undefined || flags.name !== undefined;
}

/** The definition the flags (over `base`, a study file's or a saved study's) describe. */
function definitionFromFlags(flags: StudyFlags & Record<string, unknown>, base: StudyDefinition | undefined, source: string): StudyDefinition {
  const set = configOverrides(flags, studyRunSpecs());
  const methods = flags.methods !== undefined ? flags.methods.split(',').map((m) => m.trim()).filter((m) => m !== '') : base?.methods;
  if (!methods || methods.length === 0) throw new UserError('--methods', 'no methods given', 'Name them, e.g. --methods fixmatch,daso (ssl run --list shows every method).');
  return validateDefinition(
    {
      kind: base?.kind ?? 'mismatch',
      name: flags.name ?? base?.name ?? 'mismatch',
      methods,
      gammaU: flags.gammaU !== undefined ? parseNumberList('--gamma-u', flags.gammaU) : (base?.gammaU ?? [100, 1, 0.01]),
      seeds: flags.seeds !== undefined ? parseSeeds(flags.seeds) : (base?.seeds ?? seedList(3)),
      set: { ...(base?.set ?? {}), ...set },
    },
    source,
  );
}

/** How errors name the run options of a definition from `source` (a study file or the command line). */
function setSourceOf(source: string): string {
  return source === COMMAND_LINE ? COMMAND_LINE : `${source}: set`;
}

/** The study folder and plan a command runs: a new study, or the one --resume names (checked against the flags). */
async function studyToRun(flags: StudyFlags & Record<string, unknown>, fileDef: StudyDefinition | undefined, source: string): Promise<{ studyDir: string; plan: StudyPlan; resumed: boolean }> {
  const hasSet = Object.keys(configOverrides(flags, studyRunSpecs())).length > 0;
  if (flags.resume !== undefined) {
    const saved = await readStudyPlan(flags.resume, '--resume');
    if (!fileDef && !hasGridFlags(flags) && !hasSet) return { studyDir: flags.resume, plan: saved, resumed: true };
    const asked = await planStudy(definitionFromFlags(flags, fileDef ?? saved.definition, source), setSourceOf(source));
    assertSamePlan(saved, asked, flags.resume);
    // Same runs; the flags may change only how they execute (threads, data folder): take those.
    return { studyDir: flags.resume, plan: { ...asked, id: saved.id, createdAt: saved.createdAt, ...(saved.queue ? { queue: saved.queue } : {}) }, resumed: true };
  }
  const plan = await planStudy(definitionFromFlags(flags, fileDef, source), setSourceOf(source));
  const studyDir = path.join(flags.outDir, plan.id);
  if (existsSync(path.join(studyDir, 'study.json'))) {
    throw new UserError(studyDir, 'already holds this study (the same grid gives the same id)', `Continue it with --resume ${studyDir}, or look at it with \`ssl study status ${studyDir}\`.`);
  }
  return { studyDir, plan, resumed: false };
}

/** The standing table `ssl study status` prints. */
export function formatStudyStatus(studyDir: string, plan: StudyPlan, statuses: readonly RunStatus[], concurrency = 1): string {
  const n = countStates(statuses);
  const eta = estimateSecondsLeft(statuses, concurrency);
  const head = ['run', 'method', 'γ_u', 'seed', 'state', 'step', 'balanced', 'note'];
  const rows = statuses.map((s) => [
    s.run.runId,
    s.run.method,
    String(s.run.gammaU),
    String(s.run.seed),
    s.state,
    `${s.step ?? '—'}/${s.total}`,
    s.summary ? pct(s.summary.final.balancedAccuracy) : '',
    s.state === 'failed' ? (s.error ?? '').split('\n')[0] : s.state === 'running' && s.host ? `on ${s.host}` : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === head.length - 1 ? 0 : r[i].length))));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const counts = (['done', 'running', 'interrupted', 'failed', 'queued'] as const).filter((k) => n[k] > 0).map((k) => `${n[k]} ${k}`);
  const left = n.done + n.failed === statuses.length ? 'all runs ended' : `ETA ${eta === null ? 'unknown (no run measured yet)' : formatDuration(eta)}`;
  return [
    `study ${plan.id} (${studyDir}): ${statuses.length} runs: ${counts.join(', ')}; ${left}`,
    '',
    line(head),
    ...rows.map(line),
    '',
  ].join('\n');
}

/** Plans (or re-reads), writes and runs a study here or on a queue; then prints its standing. */
async function executeStudy(flags: StudyFlags & Record<string, unknown>, fileDef: StudyDefinition | undefined, source: string, output: CliOutput, stop: AbortSignal | undefined): Promise<void> {
  const concurrency = parsePositiveInt('--concurrency', flags.concurrency);
  const { studyDir, plan: planned } = await studyToRun(flags, fileDef, source);
  // Everything is checked before the study folder is written.
  if (flags.queue !== undefined) await assertRedisReachable(flags.queue);
  const plan: StudyPlan = flags.queue !== undefined ? { ...planned, queue: flags.queue } : planned;
  await mkdir(studyDir, { recursive: true });
  await writeStudyPlan(studyDir, plan);
  output.err(`study ${plan.id}: ${plan.runs.length} runs (${plan.definition.methods.length} methods × ${plan.definition.gammaU.length} γ_u × ${plan.definition.seeds.length} seeds) in ${studyDir}\n`);
  const reused = await reuseFinishedRuns(studyDir, plan, flags.reuse);
  for (const from of [...new Set(reused.map((r) => r.from))]) output.err(`reused ${reused.filter((r) => r.from === from).length} finished run(s) from ${from}\n`);
  const mode = (flags.progress ?? 'auto') as ProgressMode;
  const progress = createStudyProgress(plan.id, mode, concurrency, { write: (s) => output.err(s), isTTY: output === processOutput && process.stderr.isTTY, columns: process.stderr.columns });
  const label = (s: RunStatus) => runLabel(s.run);
  let interrupted: boolean;
  let statuses: RunStatus[];
  try {
    if (flags.queue !== undefined) {
      const url = flags.queue;
      const { added, pending } = await enqueueStudy(url, studyDir, plan, await readStudyStatus(studyDir, plan));
      output.err(`queued ${added} run(s) on ${url}${pending > 0 ? ` (${pending} already queued)` : ''}; workers: ssl worker --queue ${url}\n`);
      if (!flags.wait) {
        output.out(formatStudyStatus(studyDir, plan, await queuedStudyStatus(url, studyDir, plan, await readStudyStatus(studyDir, plan))));
        return;
      }
      const watched = await watchQueuedStudy(url, studyDir, plan, () => readStudyStatus(studyDir, plan), {
        stop,
        onUpdate: (all) => progress.update(all.map((s) => ({ state: s.state, step: s.step, total: s.total, itPerSec: s.itPerSec, label: label(s) }))),
      });
      ({ interrupted, statuses } = watched);
    } else {
      const toView = (runs: readonly LiveRun[]) => runs.map((r) => ({ state: r.state, step: r.step, total: r.total, itPerSec: r.itPerSec, label: runLabel(r.status.run) }));
      const outcome = await runStudyLocally(studyDir, plan, {
        concurrency,
        stop,
        onUpdate: (runs) => progress.update(toView(runs)),
        log: (line) => progress.message(line),
      });
      interrupted = outcome.interrupted;
      statuses = await readStudyStatus(studyDir, plan);
    }
  } finally {
    progress.done();
  }
  output.out(formatStudyStatus(studyDir, plan, statuses, concurrency));
  if (statuses.some((s) => s.state === 'done')) {
    const written = await writeStudyReport(studyDir, aggregateStudyDir(studyDir, plan, statuses));
    output.out(`${written.text}\nreport: ${written.html}, ${written.markdown}\n`);
  }
  if (interrupted) throw new StudyInterrupted(studyDir, flags.queue !== undefined ? `stopped waiting; the runs stay on the queue and the workers go on. Follow them with: ssl study status ${studyDir}` : undefined);
  const failed = statuses.filter((s) => s.state === 'failed');
  if (failed.length > 0) throw new StudyFailed(studyDir, failed.map((s) => ({ runId: s.run.runId, error: s.error ?? '' })));
}

/** `ssl study`: grids of runs (methods × γ_u × seeds), executed here or on a queue, and their state. */
export function createStudyCommand(output: CliOutput = processOutput, stop?: AbortSignal): Command {
  const cmd = new Command('study').description('run a grid of runs (methods × γ_u × seeds) and aggregate it: mismatched-distribution studies').addHelpText('after', EXAMPLES);
  addStudyFlags(
    cmd
      .command('mismatch')
      .description('methods × unlabeled imbalance γ_u × seeds on one schedule (the DASO paper\'s mismatched-distribution protocol)')
      .addHelpText('after', EXAMPLES),
    'required',
  ).action(async (flags: StudyFlags & Record<string, unknown>) => {
    await executeStudy(flags, undefined, COMMAND_LINE, output, stop);
  });
  addStudyFlags(
    cmd
      .command('run')
      .description('run the study a YAML file defines (pipelines/studies/*.yaml: study, name, methods, gammaU, seeds, set)')
      .argument('<study.yaml>', 'the study file'),
    'override',
  ).action(async (file: string, flags: StudyFlags & Record<string, unknown>) => {
    const def = await loadStudyFile(file);
    await executeStudy(flags, def, file, output, stop);
  });
  cmd
    .command('status')
    .description('the state of every run of a study: done / running / interrupted / failed / queued, steps, ETA')
    .argument('<studyDir>', 'a study folder (studies/<id>)')
    .action(async (studyDir: string) => {
      const plan = await readStudyPlan(studyDir, '<studyDir>');
      const folder = await readStudyStatus(studyDir, plan);
      if (plan.queue === undefined) {
        output.out(formatStudyStatus(studyDir, plan, folder));
        return;
      }
      // A queued study: what the queue knows (failed jobs) on top of the folder, when Redis answers.
      try {
        await assertRedisReachable(plan.queue);
        output.out(formatStudyStatus(studyDir, plan, await queuedStudyStatus(plan.queue, studyDir, plan, folder)));
      } catch (err) {
        output.out(formatStudyStatus(studyDir, plan, folder));
        output.err(`note: the study is queued on ${plan.queue}, which does not answer (${err instanceof Error ? err.message : String(err)}); the states above are the study folder's\n`);
      }
    });
  return cmd;
}
