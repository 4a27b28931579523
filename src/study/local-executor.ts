/**
 * The local executor: a study's unfinished runs on this machine, `concurrency` at a time, each in
 * its own run process with its share of the cores (threads = cores / concurrency, unless the
 * study sets `threads`). Finished runs are skipped; interrupted and failed ones are resumed from
 * their checkpoint or started over. Stopping (Ctrl-C) lets every running run write a checkpoint.
 */
import { availableParallelism } from 'node:os';
import { acquireRunLock } from '../run/run-lock.js';
import { readStudyStatus, writeFailure, type RunState, type RunStatus } from './run-state.js';
import { startRunProcess, type RunProcess, type RunProcessResult } from './run-process.js';
import type { StudyPlan } from './plan.js';

/** A run's live standing during execution (what progress displays read). */
export interface LiveRun {
  readonly status: RunStatus;
  readonly total: number;
  state: RunState;
  step: number | null;
  itPerSec: number | null;
  error?: string;
}

/** Options of {@link runStudyLocally}. */
export interface LocalExecutorOptions {
  /** Runs at once (default 1). */
  readonly concurrency?: number;
  /** Cores to share between the runs (default: this machine's). */
  readonly cores?: number;
  /** Abort to checkpoint every running run and stop. */
  readonly stop?: AbortSignal;
  /** After every change: a run started, stepped, ended. */
  readonly onUpdate?: (runs: readonly LiveRun[]) => void;
  /** One line per run start and end. */
  readonly log?: (line: string) => void;
}

/** How the study's execution ended. */
export interface StudyOutcome {
  /** Every run's standing at the end, in plan order. */
  readonly runs: readonly LiveRun[];
  /** True when `stop` ended it before every run did. */
  readonly interrupted: boolean;
}

/** Threads per run: an equal share of the cores, at least 1. */
export function threadShare(cores: number, concurrency: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, concurrency)));
}

/** Short label of a run for progress lines: `fixmatch+daso γu=100 s0`. */
export function runLabel(r: { readonly method: string; readonly gammaU: number; readonly seed: number }): string {
  return `${r.method} γu=${r.gammaU} s${r.seed}`;
}

/**
 * Runs the study's unfinished runs here. One executor per study folder at a time (its lock).
 * Failed runs are recorded in their folder and reported in the outcome; the executor goes on
 * with the others.
 */
export async function runStudyLocally(studyDir: string, plan: StudyPlan, opts: LocalExecutorOptions = {}): Promise<StudyOutcome> {
  const release = await acquireRunLock(studyDir);
  const procs: RunProcess[] = [];
  try {
    const concurrency = Math.max(1, opts.concurrency ?? 1);
    const threads = threadShare(opts.cores ?? availableParallelism(), concurrency);
    const live: LiveRun[] = (await readStudyStatus(studyDir, plan)).map((s) => ({ status: s, total: s.total, state: s.state, step: s.step, itPerSec: s.itPerSec, error: s.error }));
    const update = (): void => opts.onUpdate?.(live);
    const todo = live.filter((r) => r.state !== 'done' && r.state !== 'running');
    for (const r of live.filter((x) => x.state === 'running')) opts.log?.(`${r.status.run.runId}: trained by another process on ${r.status.host}; skipped`);
    update();
    let next = 0;
    const worker = async (): Promise<void> => {
      let proc: RunProcess | null = null;
      while (next < todo.length && !opts.stop?.aborted) {
        const r = todo[next++];
        if (!proc || proc.gone) {
          proc = startRunProcess();
          procs.push(proc);
        }
        const resumeNote = r.state === 'interrupted' ? ' (resuming)' : r.state === 'failed' ? ' (again, after a failure)' : '';
        opts.log?.(`start ${runLabel(r.status.run)}${resumeNote}`);
        r.state = 'running';
        r.error = undefined;
        update();
        const result = await proc.run(studyDir, r.status.run.runId, threads, (p) => {
          r.step = p.step;
          r.itPerSec = p.itPerSec;
          update();
        });
        const line = await settle(studyDir, r, result, opts.stop?.aborted === true);
        update();
        opts.log?.(line);
      }
      if (proc && !proc.gone) await proc.close();
    };
    const onStop = (): void => procs.forEach((p) => p.stop());
    opts.stop?.addEventListener('abort', onStop);
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
    } finally {
      opts.stop?.removeEventListener('abort', onStop);
    }
    return { runs: live, interrupted: opts.stop?.aborted === true };
  } finally {
    await Promise.all(procs.map((p) => p.close()));
    await release();
  }
}

/** Records what a run process reported about a run; returns the line saying so. */
async function settle(studyDir: string, r: LiveRun, result: RunProcessResult, stopping: boolean): Promise<string> {
  const label = runLabel(r.status.run);
  switch (result.type) {
    case 'done':
      r.state = 'done';
      r.step = r.status.total;
      return `done ${label}${result.alreadyDone ? ' (already finished)' : result.balancedAccuracy !== null ? `: balanced ${(result.balancedAccuracy * 100).toFixed(1)}%` : ''}`;
    case 'interrupted':
      r.state = 'interrupted';
      return `stopped ${label}: checkpoint saved`;
    case 'busy':
      r.state = 'running';
      return `skipped ${label}: ${result.message}`;
    case 'failed':
      r.state = 'failed';
      r.error = result.error;
      return `FAILED ${label}: ${result.error}`;
    case 'crashed':
      // Quit at once by a second Ctrl-C: its last checkpoint stands, as for any interruption.
      if (stopping) {
        r.state = 'interrupted';
        return `stopped ${label}`;
      }
      r.state = 'failed';
      r.error = result.error;
      await writeFailure(studyDir, r.status.run.runId, new Error(result.error)).catch(() => undefined);
      return `FAILED ${label}: ${result.error}`;
  }
}
