/**
 * Where each run of a study stands, read from the study folder alone (so `ssl study status`, the
 * local executor, a queue's enqueuer and any worker agree): a run is done when its summary.json
 * exists (written atomically, last), running while a live process holds its lock, failed when it
 * left a failure record, interrupted when it has a checkpoint (or was started), queued otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { lockHolder } from '../run/run-lock.js';
import { checkpointPath } from '../train/run-checkpoint.js';
import type { RunSummary } from '../report/run-summary.js';
import type { PlannedRun, StudyPlan } from './plan.js';

export const RUN_STATES = ['done', 'running', 'interrupted', 'failed', 'queued'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** What a failed run leaves in its folder (runs/<id>/failure.json). */
export interface FailureRecord {
  readonly runId: string;
  /** The error as a user reads it (a UserError's message names the field and the fix). */
  readonly error: string;
  readonly errorName: string;
  readonly stack?: string;
  readonly at: string;
  readonly host: string;
  readonly pid: number;
}

/** The last progress a run's process wrote (progress/<runId>.json). */
export interface ProgressRecord {
  readonly step: number;
  readonly total: number;
  readonly itPerSec: number;
  readonly host: string;
  /** The run process, and the process that started it (a worker, or the local executor). */
  readonly pid: number;
  readonly ppid: number;
  readonly updatedAt: string;
}

/** One run's standing. */
export interface RunStatus {
  readonly run: PlannedRun;
  readonly state: RunState;
  /** Completed steps, where known. */
  readonly step: number | null;
  readonly total: number;
  /** Steps per second of its last (or current) process, where known. */
  readonly itPerSec: number | null;
  /** Failed: the error. */
  readonly error?: string;
  /** Running: where. */
  readonly host?: string;
  /** Done: its summary. */
  readonly summary?: RunSummary;
}

/** The folder of a run. */
export function runDirOf(studyDir: string, runId: string): string {
  return path.join(studyDir, 'runs', runId);
}

export function failurePath(studyDir: string, runId: string): string {
  return path.join(runDirOf(studyDir, runId), 'failure.json');
}

export function progressPath(studyDir: string, runId: string): string {
  return path.join(studyDir, 'progress', `${runId}.json`);
}

export function logPath(studyDir: string, runId: string): string {
  return path.join(studyDir, 'logs', `${runId}.log`);
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Records a run's failure (atomically), naming the error as the user should read it. */
export async function writeFailure(studyDir: string, runId: string, err: unknown): Promise<FailureRecord> {
  const e = err instanceof Error ? err : new Error(String(err));
  const record: FailureRecord = { runId, error: e.message, errorName: e.name, ...(e.stack ? { stack: e.stack } : {}), at: new Date().toISOString(), host: hostname(), pid: process.pid };
  await writeFileAtomic(failurePath(studyDir, runId), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** The standing of one run. */
export async function readRunStatus(studyDir: string, run: PlannedRun): Promise<RunStatus> {
  const dir = runDirOf(studyDir, run.runId);
  const total = run.config.iterations;
  const progress = readJson<ProgressRecord>(progressPath(studyDir, run.runId));
  const base = { run, total, itPerSec: progress?.itPerSec ?? null };
  const summary = readJson<RunSummary>(path.join(dir, 'summary.json'));
  if (summary && summary.schemaVersion === 1) return { ...base, state: 'done', step: summary.iterations, summary };
  const holder = await lockHolder(dir);
  if (holder) return { ...base, state: 'running', step: progress?.step ?? null, host: holder.host };
  const failure = readJson<FailureRecord>(failurePath(studyDir, run.runId));
  if (failure) return { ...base, state: 'failed', step: progress?.step ?? null, error: failure.error };
  if (existsSync(checkpointPath(dir)) || existsSync(path.join(dir, 'config.json'))) return { ...base, state: 'interrupted', step: progress?.step ?? 0 };
  return { ...base, state: 'queued', step: null };
}

/** Every run's standing, in plan order. */
export async function readStudyStatus(studyDir: string, plan: StudyPlan): Promise<RunStatus[]> {
  return Promise.all(plan.runs.map((r) => readRunStatus(studyDir, r)));
}

/** Counts per state. */
export function countStates(statuses: ReadonlyArray<{ readonly state: RunState }>): Record<RunState, number> {
  const out = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
  for (const s of statuses) out[s.state]++;
  return out;
}

/** What an ETA needs of a run. */
export interface EtaView {
  readonly state: RunState;
  readonly step: number | null;
  readonly total: number;
  /** The run's speed, measured while it ran (kept once it is done). */
  readonly itPerSec: number | null;
}

/**
 * Seconds until every run is done: the steps left over the mean speed of a run (of the runs going
 * now, else of every measured run) times the runs going at once (`concurrency`, or more if more
 * are running, at most the runs left). Null before any speed was measured. Failed runs count as
 * ended.
 */
export function estimateSecondsLeft(runs: readonly EtaView[], concurrency: number): number | null {
  const open = runs.filter((s) => s.state !== 'done' && s.state !== 'failed');
  const left = open.reduce((a, s) => a + Math.max(0, s.total - (s.step ?? 0)), 0);
  if (left === 0) return 0;
  const speed = (s: EtaView): number => (s.itPerSec !== null && s.itPerSec > 0 ? s.itPerSec : 0);
  const running = runs.filter((s) => s.state === 'running');
  const measured = running.some((s) => speed(s) > 0) ? running.filter((s) => speed(s) > 0) : runs.filter((s) => speed(s) > 0);
  if (measured.length === 0) return null;
  const perRun = measured.reduce((a, s) => a + speed(s), 0) / measured.length;
  const parallel = Math.max(1, Math.min(open.length, Math.max(concurrency, running.length)));
  return left / (perRun * parallel);
}
