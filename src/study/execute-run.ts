/**
 * One run of a study, in its folder `studies/<id>/runs/<runId>`: what the local executor's run
 * processes and every queue worker call. A finished run is never run again (its summary.json is
 * written atomically, last); a run with a checkpoint resumes from it; a run that died before its
 * first checkpoint starts over; an error is recorded in failure.json, never dropped.
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { RunConfig } from '../config/run-config.js';
import { runExperiment } from '../run/run-experiment.js';
import { lockHolder } from '../run/run-lock.js';
import { checkpointPath } from '../train/run-checkpoint.js';
import { TrainingInterrupted } from '../train/interrupted.js';
import type { RunSummary } from '../report/run-summary.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { plannedRun, type StudyPlan } from './plan.js';
import { failurePath, logPath, progressPath, runDirOf, writeFailure, type ProgressRecord } from './run-state.js';

/** How a run executes on this machine. */
export interface ExecuteRunOptions {
  /** Compute threads of the torch backend; 0 keeps the config's (0 there = every core). */
  readonly threads: number;
  /** Abort to finish the current step, checkpoint and throw TrainingInterrupted. */
  readonly stop?: AbortSignal;
  /** After every step. */
  readonly onProgress?: (p: { readonly step: number; readonly total: number; readonly itPerSec: number }) => void;
}

/** What {@link executeStudyRun} did. */
export type ExecuteOutcome = { readonly kind: 'done'; readonly summary: RunSummary; readonly resumed: boolean } | { readonly kind: 'already-done' };

/** Thrown when another live process trains the run: try again later, do not record a failure. */
export class RunBusy extends UserError {
  constructor(runDir: string, holder: string) {
    super(runDir, `is being trained by ${holder}`, 'Wait for it; a queue retries the job later.');
    this.name = 'RunBusy';
  }
}

/** The config a plan's run executes with here: its folder under `studyDir`, its thread share, no progress bar. */
export function executionConfig(studyDir: string, config: RunConfig, threads: number): RunConfig {
  return { ...config, outDir: path.join(studyDir, 'runs'), threads: config.threads !== 0 ? config.threads : threads, progress: 'none' } as RunConfig;
}

/**
 * Runs (or resumes, or skips) `runId` of the study in `studyDir`.
 * @throws TrainingInterrupted when `stop` was aborted (the checkpoint is saved: resumable)
 * @throws RunBusy when a live process holds the run's lock
 * @throws the run's error, after writing it to failure.json
 */
export async function executeStudyRun(studyDir: string, plan: StudyPlan, runId: string, opts: ExecuteRunOptions): Promise<ExecuteOutcome> {
  const run = plannedRun(plan, runId);
  const runDir = runDirOf(studyDir, runId);
  if (existsSync(path.join(runDir, 'summary.json'))) return { kind: 'already-done' };
  const holder = await lockHolder(runDir);
  if (holder) throw new RunBusy(runDir, `process ${holder.pid} on ${holder.host}`);
  await unlink(failurePath(studyDir, runId)).catch(() => undefined);
  const resumed = existsSync(checkpointPath(runDir));
  // Started but never checkpointed: nothing to keep, and its config.json would refuse a new start.
  if (!resumed && existsSync(runDir)) await rm(runDir, { recursive: true, force: true });

  const log = logPath(studyDir, runId);
  mkdirSync(path.dirname(log), { recursive: true });
  const write = (line: string): void => appendFileSync(log, `${new Date().toISOString()} ${line}\n`);
  write(`${resumed ? 'resuming' : 'starting'} on ${hostname()} (pid ${process.pid})`);

  const total = run.config.iterations;
  const started = Date.now();
  let firstStep: number | null = null;
  let lastStep = { step: 0, itPerSec: 0 };
  let lastWrite = 0;
  let writing: Promise<void> = Promise.resolve();
  const record = (step: number, itPerSec: number): void => {
    const p: ProgressRecord = { step, total, itPerSec, host: hostname(), pid: process.pid, ppid: process.ppid, updatedAt: new Date().toISOString() };
    writing = writing.then(() => writeFileAtomic(progressPath(studyDir, runId), `${JSON.stringify(p)}\n`)).catch(() => undefined);
  };
  const onStep = (step: number): void => {
    const done = step + 1;
    firstStep ??= step;
    const itPerSec = (done - firstStep) / Math.max(1e-3, (Date.now() - started) / 1000);
    lastStep = { step: done, itPerSec };
    opts.onProgress?.({ step: done, total, itPerSec });
    if (Date.now() - lastWrite > 1000 || done === total) {
      lastWrite = Date.now();
      record(done, itPerSec);
    }
  };
  try {
    const result = await runExperiment(executionConfig(studyDir, run.config, opts.threads), { resumeDir: resumed ? runDir : undefined, stop: opts.stop, onStep, log: write });
    await writing;
    record(result.summary.iterations, result.summary.timing.itPerSec);
    await writing;
    write(`done: balanced accuracy ${(result.summary.final.balancedAccuracy * 100).toFixed(2)}%`);
    return { kind: 'done', summary: result.summary, resumed };
  } catch (err) {
    await writing;
    if (err instanceof TrainingInterrupted) {
      // Where it stopped (the checkpoint's step), not the last throttled record.
      if (lastStep.step > 0) record(lastStep.step, lastStep.itPerSec);
      await writing;
      write(err.message);
      throw err;
    }
    if (err instanceof UserError && /is in use by process/.test(err.message)) {
      write(err.message);
      throw new RunBusy(runDir, 'another process');
    }
    write(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await writeFailure(studyDir, runId, err);
    throw err;
  }
}
