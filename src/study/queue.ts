/**
 * Studies on a real queue: BullMQ on Redis. `ssl study ... --queue redis://host:port` enqueues one
 * job per unfinished run; `ssl worker --queue ...` processes on any number of machines pull them.
 *
 * - The job names the study folder (an absolute path every worker must see: a shared file
 *   system) and the run; the worker trains the run in `<study>/runs/<run>` through a run process,
 *   as the local executor does.
 * - The job is acknowledged (the processor returns) only after the run's summary.json is on disk:
 *   runExperiment writes it atomically, last.
 * - A killed worker's job stalls (its lock expires) and BullMQ gives it to another worker, whose
 *   run resumes from the run's last checkpoint in the shared folder. (The killed worker's run
 *   process notices its parent is gone, checkpoints and exits.)
 * - A run never counts twice: job ids are `<study id>.<run id>` (stable ids, so re-enqueuing
 *   adds nothing already queued), a job whose run already has its summary is acknowledged at once,
 *   and a study's table reads each run's folder once.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import path from 'node:path';
import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { UserError } from '../errors.js';
import { STUDY_FILE, type StudyPlan } from './plan.js';
import { runDirOf, writeFailure, type RunStatus } from './run-state.js';
import { startRunProcess, type RunProcess } from './run-process.js';
import { threadShare } from './local-executor.js';

/** The BullMQ queue every study's runs go to. */
export const QUEUE_NAME = 'ssl-runs';

/** A job: one run of one study. */
export interface RunJobData {
  /** Absolute path of the study folder, the same on every worker (a shared path). */
  readonly studyDir: string;
  readonly studyId: string;
  readonly runId: string;
}

/** What a completed job returns. */
export interface RunJobResult {
  readonly runId: string;
  readonly host: string;
  /** The run was already finished when the job came (a retried job whose worker died after the summary). */
  readonly alreadyDone: boolean;
  readonly resumed: boolean;
}

/** The job id of a run: stable, so the same run is never queued twice. */
export function jobIdOf(studyId: string, runId: string): string {
  return `${studyId}.${runId}`;
}

function howToStart(url: string): string {
  let port = '6379';
  try {
    port = new URL(url).port || '6379';
  } catch {
    // The URL was refused before this point.
  }
  return `Start one, e.g. on this machine: \`redis-server --port ${port} --daemonize yes\` (Debian: apt-get install redis-server), or point --queue at a running server (redis://host:port).`;
}

/**
 * Refuses a URL that is not redis:// or rediss://, and one where no Redis answers (within a few
 * seconds), naming the URL and how to start redis-server. Nothing is written before this passes.
 */
export async function assertRedisReachable(url: string, flag = '--queue'): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(flag, `'${url}' is not a URL`, 'Give a Redis URL: redis://host:port (e.g. redis://127.0.0.1:6379).');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UserError(flag, `'${url}' is not a Redis URL (scheme ${parsed.protocol})`, 'Give redis://host:port or rediss://host:port.');
  }
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // The socket's error (ECONNREFUSED, ENOTFOUND) says more than connect()'s "Connection is closed".
  let cause: Error | undefined;
  client.on('error', (err: Error) => (cause ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new UserError(flag, `cannot reach Redis at ${url} (${(cause ?? (err as Error)).message})`, howToStart(url));
  } finally {
    client.disconnect();
  }
}

/** A connection for BullMQ (workers need `maxRetriesPerRequest: null`: their blocking commands wait). */
function connection(url: string): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: null });
  r.on('error', () => undefined);
  return r;
}

async function withQueue<T>(url: string, fn: (q: Queue<RunJobData, RunJobResult>) => Promise<T>): Promise<T> {
  const conn = connection(url);
  const queue = new Queue<RunJobData, RunJobResult>(QUEUE_NAME, { connection: conn });
  queue.on('error', () => undefined);
  try {
    return await fn(queue);
  } finally {
    await queue.close();
    conn.disconnect();
  }
}

/** States in which a job is still on its way (not to be added again). */
const PENDING = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Enqueues every run of the study not done yet. A run already waiting or active stays as it is;
 * one whose job completed or failed earlier (a resumed study) is queued anew.
 * @returns how many jobs were added and how many were already on their way
 */
export async function enqueueStudy(url: string, studyDir: string, plan: StudyPlan, statuses: ReadonlyArray<RunStatus>): Promise<{ added: number; pending: number }> {
  const dir = path.resolve(studyDir);
  return withQueue(url, async (queue) => {
    let added = 0;
    let pending = 0;
    for (const s of statuses) {
      if (s.state === 'done') continue;
      const jobId = jobIdOf(plan.id, s.run.runId);
      const existing = await queue.getJob(jobId);
      if (existing) {
        if (PENDING.has(await existing.getState())) {
          pending++;
          continue;
        }
        await existing.remove();
      }
      await queue.add(
        'run',
        { studyDir: dir, studyId: plan.id, runId: s.run.runId },
        // Retries: a run process that crashed, a run still locked by a dying worker's process.
        { jobId, attempts: 5, backoff: { type: 'fixed', delay: 2000 }, removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } },
      );
      added++;
    }
    return { added, pending };
  });
}

/** Each run's job state on the queue (absent: no job), and why a failed one failed. */
export async function queueStates(url: string, plan: StudyPlan): Promise<Map<string, { state: string; failedReason?: string }>> {
  return withQueue(url, async (queue) => {
    const out = new Map<string, { state: string; failedReason?: string }>();
    for (const r of plan.runs) {
      const job = await queue.getJob(jobIdOf(plan.id, r.runId));
      if (!job) continue;
      const state = await job.getState();
      out.set(r.runId, { state, ...(state === 'failed' && job.failedReason ? { failedReason: job.failedReason } : {}) });
    }
    return out;
  });
}

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** Runs at once on this machine (default 1). */
  readonly concurrency?: number;
  /** Compute threads per run (default: cores / concurrency; a study that sets `threads` keeps its own). */
  readonly threads?: number;
  /**
   * How long a job stays locked without its worker renewing the lock; after it, another worker
   * takes the job over (default 30 s, BullMQ's). The stalled-job check runs this often too.
   */
  readonly lockDurationMs?: number;
  /** Abort to stop: running runs checkpoint and their jobs go back to the queue. */
  readonly stop?: AbortSignal;
  readonly log?: (line: string) => void;
}

/**
 * A worker: pulls run jobs from the queue and trains them, `concurrency` at a time, each in its
 * own run process. Resolves once `stop` is aborted and its runs have checkpointed.
 */
export async function runWorker(url: string, opts: WorkerOptions = {}): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const threads = opts.threads ?? threadShare(availableParallelism(), concurrency);
  const idle: RunProcess[] = [];
  const busy = new Set<RunProcess>();
  let stopping = opts.stop?.aborted === true;
  const take = (): RunProcess => {
    let p = idle.pop();
    while (p && p.gone) p = idle.pop();
    const proc = p ?? startRunProcess();
    busy.add(proc);
    return proc;
  };
  const giveBack = (p: RunProcess): void => {
    busy.delete(p);
    if (!p.gone) idle.push(p);
  };

  const processor = async (job: Job<RunJobData, RunJobResult>, token?: string): Promise<RunJobResult> => {
    const { studyDir, runId } = job.data;
    if (!existsSync(path.join(studyDir, STUDY_FILE))) {
      throw new Error(`the study folder ${studyDir} is not on ${hostname()}: every worker needs it at the same path (a shared file system)`);
    }
    if (existsSync(path.join(runDirOf(studyDir, runId), 'summary.json'))) return { runId, host: hostname(), alreadyDone: true, resumed: false };
    log(`${runId}: start (job ${job.id}, attempt ${job.attemptsMade + 1})`);
    const proc = take();
    let lastProgress = 0;
    const result = await proc.run(studyDir, runId, threads, (p) => {
      if (Date.now() - lastProgress < 1000) return;
      lastProgress = Date.now();
      void job.updateProgress({ step: p.step, total: p.total, itPerSec: p.itPerSec, host: hostname() }).catch(() => undefined);
    });
    giveBack(proc);
    const backToQueue = async (): Promise<never> => {
      log(`${runId}: stopped with a checkpoint; back to the queue`);
      await job.moveToWait(token);
      throw new WaitingError();
    };
    switch (result.type) {
      case 'done':
        // Acknowledge only what is on disk: the summary is written atomically, last.
        if (!existsSync(path.join(runDirOf(studyDir, runId), 'summary.json'))) throw new Error(`${runId}: the run ended but its summary.json is missing`);
        log(`${runId}: done${result.alreadyDone ? ' (already finished)' : result.balancedAccuracy !== null ? `, balanced ${(result.balancedAccuracy * 100).toFixed(1)}%` : ''}`);
        return { runId, host: hostname(), alreadyDone: result.alreadyDone, resumed: result.resumed };
      case 'interrupted':
        return backToQueue();
      case 'busy':
        log(`${runId}: ${result.message}; retried later`);
        throw new Error(result.message);
      case 'failed':
        log(`${runId}: FAILED: ${result.error}`);
        // The run's own error (recorded in its failure.json): another attempt would fail the same way.
        throw new UnrecoverableError(result.error);
      case 'crashed':
        if (stopping) return backToQueue();
        log(`${runId}: ${result.error}; retried`);
        await writeFailure(studyDir, runId, new Error(result.error)).catch(() => undefined);
        throw new Error(result.error);
    }
  };

  const conn = connection(url);
  const lock = opts.lockDurationMs ?? 30_000;
  const worker = new Worker<RunJobData, RunJobResult>(QUEUE_NAME, processor, {
    connection: conn,
    concurrency,
    lockDuration: lock,
    stalledInterval: lock,
    // A job whose worker died is taken over this many times before it is given up as failed.
    maxStalledCount: 5,
    autorun: false,
  });
  worker.on('error', (err) => log(`queue: ${err.message}`));
  const done = new Promise<void>((resolve) => {
    const onStop = (): void => {
      stopping = true;
      log('stopping: running runs write a checkpoint and go back to the queue');
      for (const p of busy) p.stop();
      void worker
        .close()
        .catch(() => undefined)
        .then(() => Promise.all([...idle, ...busy].map((p) => p.close())))
        .then(() => resolve());
    };
    if (opts.stop?.aborted) onStop();
    else opts.stop?.addEventListener('abort', onStop, { once: true });
  });
  log(`worker ${hostname()}:${process.pid} on ${url}, queue ${QUEUE_NAME}: ${concurrency} run(s) at once, ${threads} thread(s) each`);
  void worker.run().catch((err: Error) => log(`queue: ${err.message}`));
  await done;
  conn.disconnect();
}

/** Options of {@link watchQueuedStudy}. */
export interface WatchOptions {
  /** Abort to stop watching (the runs stay on the queue). */
  readonly stop?: AbortSignal;
  /** After every poll, with every run's standing. */
  readonly onUpdate?: (statuses: readonly RunStatus[]) => void;
  readonly intervalMs?: number;
}

/**
 * Each run's standing from the study folder, with what the queue knows on top: a job that failed
 * on the queue (its attempts used up) without a record in the folder is failed, with its reason.
 */
export async function queuedStudyStatus(url: string, studyDir: string, plan: StudyPlan, folder: readonly RunStatus[]): Promise<RunStatus[]> {
  const jobs = await queueStates(url, plan);
  return folder.map((s) => {
    const job = jobs.get(s.run.runId);
    if (s.state === 'done' || !job || job.state !== 'failed' || s.state === 'failed') return s;
    return { ...s, state: 'failed', error: job.failedReason ?? 'failed on the queue' };
  });
}

/**
 * Waits until every run of a queued study is done or failed, polling the study folder (where
 * workers write) and the queue. Returns the last standing, and whether watching was stopped first.
 */
export async function watchQueuedStudy(url: string, studyDir: string, plan: StudyPlan, readFolder: () => Promise<RunStatus[]>, opts: WatchOptions = {}): Promise<{ statuses: RunStatus[]; interrupted: boolean }> {
  const interval = opts.intervalMs ?? 1000;
  for (;;) {
    const statuses = await queuedStudyStatus(url, studyDir, plan, await readFolder());
    opts.onUpdate?.(statuses);
    if (statuses.every((s) => s.state === 'done' || s.state === 'failed')) return { statuses, interrupted: false };
    if (opts.stop?.aborted) return { statuses, interrupted: true };
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        opts.stop?.removeEventListener('abort', wake);
        resolve();
      };
      const t = setTimeout(wake, interval);
      opts.stop?.addEventListener('abort', wake);
    });
  }
}
