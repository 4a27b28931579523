import { Command, CommanderError } from 'commander';
import { UserError } from '../errors.js';
import { TrainingInterrupted } from '../train/trainer.js';
import { createRunCommand } from './run.js';
import { createDataCommand } from './data.js';
import { createReportCommand } from './report.js';
import { createBenchCommand } from './bench.js';
import { processOutput, type CliOutput } from './output.js';

/** The `ssl` program with every command. */
export function createProgram(output: CliOutput = processOutput): Command {
  const program = new Command('ssl')
    .description('Imbalanced semi-supervised learning: FixMatch, DASO and long-tailed methods on tfjs')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) })
    .exitOverride();
  program.addCommand(createRunCommand(output));
  program.addCommand(createDataCommand(output));
  program.addCommand(createReportCommand(output));
  program.addCommand(createBenchCommand(output));
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) });
    cmd.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/**
 * Runs the CLI on process-style argv and returns the exit code: 0 success, 2 bad input
 * (UserError, unknown flag), 130 training interrupted (checkpoint saved), 1 anything else. The only place that decides exit codes.
 */
export async function main(argv: readonly string[], output: CliOutput = processOutput): Promise<number> {
  try {
    await createProgram(output).parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof TrainingInterrupted) {
      output.err(`${err.message}\n`);
      return 130;
    }
    if (err instanceof UserError) {
      output.err(`error: ${err.message}\n`);
      return 2;
    }
    output.err(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
