/**
 * A process that trains study runs one at a time for a parent (the local executor or a queue
 * worker): each gets its own tfjs engine and thread count, and a crash takes one run down, not
 * the study. The parent talks over the IPC channel (messages below).
 *
 * Stopping: a `stop` message or SIGINT/SIGTERM (Ctrl-C reaches the whole process group) aborts
 * the current run: it finishes its step, writes a checkpoint and the process exits, leaving the
 * run resumable; a second signal quits at once. When the parent dies (the channel disconnects,
 * e.g. a SIGKILLed worker) the process exits at once: the run resumes from its last checkpoint.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { TrainingInterrupted } from '../train/interrupted.js';
import { readStudyPlan } from './plan.js';
import { executeStudyRun, RunBusy } from './execute-run.js';
import { writeFailure } from './run-state.js';

/** Parent → run process. */
export type ToRunProcess = { readonly type: 'run'; readonly studyDir: string; readonly runId: string; readonly threads: number } | { readonly type: 'stop' };

/** Run process → parent. */
export type FromRunProcess =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly runId: string; readonly step: number; readonly total: number; readonly itPerSec: number }
  | { readonly type: 'done'; readonly runId: string; readonly alreadyDone: boolean; readonly resumed: boolean; readonly balancedAccuracy: number | null; readonly seconds: number | null }
  | { readonly type: 'interrupted'; readonly runId: string; readonly message: string }
  | { readonly type: 'busy'; readonly runId: string; readonly message: string }
  | { readonly type: 'failed'; readonly runId: string; readonly error: string };

/** What one run in a run process came to, as the parent sees it. */
export type RunProcessResult = Exclude<FromRunProcess, { type: 'ready' } | { type: 'progress' }> | { readonly type: 'crashed'; readonly runId: string; readonly error: string };

/** The run-process side: serves `run` messages until told to stop or orphaned. */
export function serveRuns(): void {
  if (!process.send) throw new Error('serveRuns: not started with an IPC channel (fork it with startRunProcess)');
  const send = (m: FromRunProcess): void => {
    if (process.connected) process.send?.(m);
  };
  let current: AbortController | null = null;
  let quitting = false;
  const stopCurrent = (): void => {
    quitting = true;
    if (current) current.abort();
    else process.exit(0);
  };
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) process.exit(130);
    stopCurrent();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The parent died (a SIGKILLed worker): die with it, as its machine would, so that the worker
  // taking the job over never trains beside an orphan. The last checkpoint (written atomically)
  // is what the run resumes from; a half-written report is written again.
  process.on('disconnect', () => process.exit(1));
  process.on('message', (m: ToRunProcess) => {
    if (m.type === 'stop') {
      stopCurrent();
      return;
    }
    void runOne(m);
  });
  const runOne = async (m: Extract<ToRunProcess, { type: 'run' }>): Promise<void> => {
    const controller = new AbortController();
    current = controller;
    if (quitting) controller.abort();
    try {
      const plan = await readStudyPlan(m.studyDir, 'study folder').catch(async (err: unknown) => {
        await writeFailure(m.studyDir, m.runId, err).catch(() => undefined);
        throw err;
      });
      const outcome = await executeStudyRun(m.studyDir, plan, m.runId, {
        threads: m.threads,
        stop: controller.signal,
        onProgress: (p) => send({ type: 'progress', runId: m.runId, ...p }),
      });
      send(
        outcome.kind === 'done'
          ? { type: 'done', runId: m.runId, alreadyDone: false, resumed: outcome.resumed, balancedAccuracy: outcome.summary.final.balancedAccuracy, seconds: outcome.summary.timing.seconds }
          : { type: 'done', runId: m.runId, alreadyDone: true, resumed: false, balancedAccuracy: null, seconds: null },
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof TrainingInterrupted) send({ type: 'interrupted', runId: m.runId, message });
      else if (err instanceof RunBusy) send({ type: 'busy', runId: m.runId, message });
      // executeStudyRun has recorded the failure in the run's failure.json.
      else send({ type: 'failed', runId: m.runId, error: message });
    } finally {
      current = null;
    }
    if (quitting) process.exit(0);
  };
  send({ type: 'ready' });
}

/** How to start the run process: the compiled entry, or from sources (vitest, tsx) through tsx's loader. */
function entry(): { script: string; execArgv: string[] } {
  const self = import.meta.url;
  // tsx resolved from here, not from the working directory `--import tsx` would search.
  if (self.endsWith('.ts')) return { script: new URL('./run-process-entry.ts', self).pathname, execArgv: ['--import', import.meta.resolve('tsx')] };
  return { script: new URL('./run-process-entry.js', self).pathname, execArgv: [] };
}

/** A started run process, driven by the parent. */
export class RunProcess {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  private pending: { runId: string; resolve: (r: RunProcessResult) => void; onProgress?: (p: Extract<FromRunProcess, { type: 'progress' }>) => void } | null = null;
  private stderrTail = '';
  private exited = false;
  /** Resolves when the process has exited. */
  readonly exit: Promise<void>;

  constructor() {
    const { script, execArgv } = entry();
    this.child = fork(script, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => (markReady = resolve));
    this.child.on('message', (m: FromRunProcess) => {
      if (m.type === 'ready') markReady();
      else if (m.type === 'progress') this.pending?.onProgress?.(m);
      else if (this.pending && m.runId === this.pending.runId) {
        const p = this.pending;
        this.pending = null;
        p.resolve(m);
      }
    });
    this.exit = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        markReady();
        const p = this.pending;
        this.pending = null;
        const tail = this.stderrTail.trim().split('\n').slice(-5).join(' | ');
        p?.resolve({ type: 'crashed', runId: p.runId, error: `the run's process exited (${signal ?? `code ${code}`}) before the run ended${tail ? `; its last output: ${tail}` : ''}` });
        resolve();
      }),
    );
  }

  /** True once the process has exited (crashed or stopped); it takes no more runs. */
  get gone(): boolean {
    return this.exited;
  }

  /** Trains (or resumes, or skips) one run; resolves with how it ended. */
  async run(studyDir: string, runId: string, threads: number, onProgress?: (p: Extract<FromRunProcess, { type: 'progress' }>) => void): Promise<RunProcessResult> {
    await this.ready;
    if (this.exited) return { type: 'crashed', runId, error: `the run's process exited before the run started${this.stderrTail ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}` };
    return new Promise((resolve) => {
      this.pending = { runId, resolve, onProgress };
      this.send({ type: 'run', studyDir, runId, threads });
    });
  }

  /** Asks the current run to checkpoint and the process to exit. */
  stop(): void {
    this.send({ type: 'stop' });
  }

  /** Ends an idle process (or, with a run going, stops it first) and waits for it to exit. */
  async close(): Promise<void> {
    if (!this.exited) this.stop();
    await this.exit;
  }

  private send(m: ToRunProcess): void {
    if (!this.exited && this.child.connected) this.child.send(m);
  }
}

/** Starts a run process. */
export function startRunProcess(): RunProcess {
  return new RunProcess();
}
