import { Command, CommanderError } from 'commander';
import { UserError } from '../errors.js';
import { TrainingInterrupted } from '../train/interrupted.js';
import { packageVersion } from '../run/environment.js';
import { createRunCommand } from './run.js';
import { createDataCommand } from './data.js';
import { createReportCommand } from './report.js';
import { createBenchCommand } from './bench.js';
import { createEvalCommand } from './eval.js';
import { createExportCommands } from './export.js';
import { createStudyCommand } from './study.js';
import { createWorkerCommand } from './worker.js';
import { StudyFailed, StudyInterrupted } from '../study/outcome.js';
import { processOutput, type CliOutput } from './output.js';
import { fileSystemUserError } from './fs-error.js';

/** The `ssl` program with every command; `stop` is aborted by the first Ctrl-C. */
export function createProgram(output: CliOutput = processOutput, stop?: AbortSignal): Command {
  const program = new Command('ssl')
    .description('Imbalanced semi-supervised learning: FixMatch, DASO and long-tailed methods on tfjs')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) })
    .exitOverride();
  program.addCommand(createRunCommand(output, stop));
  program.addCommand(createDataCommand({ out: (s) => output.out(s), err: (s) => output.err(s) }));
  program.addCommand(createEvalCommand(output));
  program.addCommand(createStudyCommand(output, stop));
  program.addCommand(createWorkerCommand(output, stop));
  program.addCommand(createReportCommand(output));
  program.addCommand(createBenchCommand(output));
  for (const cmd of createExportCommands(output)) program.addCommand(cmd);
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) });
    cmd.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/**
 * Ctrl-C / SIGTERM while a command runs: the first aborts the returned signal (training finishes
 * its step and writes a checkpoint), a second quits at once, as a user pressing Ctrl-C twice
 * expects. `release()` restores the default handling.
 */
function interruptSignal(output: CliOutput): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(name === 'SIGINT' ? 130 : 143);
    controller.abort();
    output.err(`\n${name}: finishing this step and writing a checkpoint (again to quit now)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * `ssl run --help | head`: the reader closes the pipe early, and the next write fails with EPIPE.
 * That is the reader's choice, not an error: stop quietly, as `git log | head` does.
 */
function quitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}

/**
 * Runs the CLI on process-style argv and returns the exit code: 0 success, 2 bad input
 * (UserError, unknown flag), 130 training interrupted (checkpoint saved), 1 failed study runs or
 * anything else. The
 * only place that decides exit codes.
 */
export async function main(argv: readonly string[], output: CliOutput = processOutput): Promise<number> {
  if (output === processOutput) quitQuietlyOnClosedPipe();
  // Only commands that train (`ssl run`, `ssl study`, `ssl worker`) finish their step and checkpoint on
  // Ctrl-C; other commands keep the default (quit at once).
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  const interrupt = command === 'run' || command === 'study' || command === 'worker' ? interruptSignal(output) : { signal: undefined, release: () => {} };
  try {
    await createProgram(output, interrupt.signal).parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof StudyFailed) {
      output.err(`error: ${err.message}\n`);
      return 1;
    }
    if (err instanceof TrainingInterrupted || err instanceof StudyInterrupted) {
      output.err(`${err.message}\n`);
      return 130;
    }
    const fsError = fileSystemUserError(err);
    if (err instanceof UserError || fsError) {
      output.err(`error: ${(fsError ?? (err as UserError)).message}\n`);
      return 2;
    }
    output.err(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  } finally {
    interrupt.release();
  }
}
