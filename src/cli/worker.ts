import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { assertRedisReachable, runWorker } from '../study/queue.js';
import { processOutput, type CliOutput } from './output.js';

const EXAMPLES = `
Examples:
  $ redis-server --port 6379 --daemonize yes                 # Debian: apt-get install redis-server
  $ ssl study mismatch --methods fixmatch,daso --queue redis://127.0.0.1:6379   # enqueue a study's runs
  $ ssl worker --queue redis://127.0.0.1:6379 --concurrency 1  # on each machine: pull and train runs

Workers write each run into its study folder, which must be at the same path on every machine
(a shared file system). Ctrl-C (or SIGTERM) stops a worker: its running runs write a checkpoint
and go back to the queue. A killed worker's run is taken over by another worker once its lock
expires (--lock-duration), and resumes from its last checkpoint.`;

function positiveInt(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UserError(flag, `'${raw}' is not a positive whole number`, `Give e.g. ${flag} 2.`);
  return n;
}

/** `ssl worker`: trains the runs of queued studies until stopped. */
export function createWorkerCommand(output: CliOutput = processOutput, stop?: AbortSignal): Command {
  return new Command('worker')
    .description('pull study runs from a Redis queue (BullMQ) and train them, until stopped')
    .requiredOption('--queue <redis-url>', 'the Redis the studies were enqueued on, e.g. redis://127.0.0.1:6379')
    .option('--concurrency <n>', 'runs at once on this machine', '1')
    .option('--threads <n>', 'compute threads per run (default: cores / concurrency)')
    .addOption(new Option('--lock-duration <ms>', 'how long a dead worker keeps its job before another takes it over (BullMQ lockDuration)').default('30000'))
    .addHelpText('after', EXAMPLES)
    .action(async (flags: { queue: string; concurrency: string; threads?: string; lockDuration: string }) => {
      const concurrency = positiveInt('--concurrency', flags.concurrency) ?? 1;
      const threads = positiveInt('--threads', flags.threads);
      const lockDurationMs = positiveInt('--lock-duration', flags.lockDuration) ?? 30_000;
      await assertRedisReachable(flags.queue);
      await runWorker(flags.queue, { concurrency, threads, lockDurationMs, stop, log: (line) => output.err(`${new Date().toISOString()} ${line}\n`) });
    });
}
