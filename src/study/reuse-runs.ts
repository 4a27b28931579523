/**
 * Taking finished runs from another study instead of training them again. A run's id hashes every
 * setting that changes its numbers (plan.ts: the resolved config without threads, folders and the
 * like), so a finished run with the same id in another study folder is exactly the run this study
 * would train: studies that share their baselines (FixMatch and DASO rows of the SSL-family and
 * beyond-DASO tables, seed 0 of the mismatch study) pay for them once.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { LOCK_FILE } from '../run/run-lock.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readStudyPlan, type StudyPlan } from './plan.js';
import { logPath, progressPath, runDirOf } from './run-state.js';

/** Written into a reused run's folder: where it was trained. */
export const REUSED_FILE = 'reused.json';

export interface ReusedRecord {
  readonly runId: string;
  /** The study folder it was copied from, and that study's id. */
  readonly from: string;
  readonly fromStudy: string;
  readonly at: string;
}

function finished(studyDir: string, runId: string): boolean {
  return existsSync(path.join(runDirOf(studyDir, runId), 'summary.json'));
}

/** True when the run's folder was copied from another study rather than trained in this one. */
export function isReused(studyDir: string, runId: string): boolean {
  return existsSync(path.join(runDirOf(studyDir, runId), REUSED_FILE));
}

/** The runs of `statuses` whose folders were copied from another study. */
export function reusedRunIds(studyDir: string, statuses: ReadonlyArray<{ readonly run: { readonly runId: string } }>): Set<string> {
  return new Set(statuses.filter((s) => isReused(studyDir, s.run.runId)).map((s) => s.run.runId));
}

/**
 * Copies into `studyDir` every run of `plan` that is not finished there but is finished in one of
 * `sources` (checked in order), with its log and last progress record. Each run folder is copied
 * beside its place and renamed into it, so an interrupted copy never looks like a finished run; an
 * unfinished folder of the same run here (a checkpoint) is replaced.
 * @param flag the flag that named the sources, for errors
 * @returns the runs taken, in plan order
 * @throws UserError when a source is not a study folder
 */
export async function reuseFinishedRuns(studyDir: string, plan: StudyPlan, sources: readonly string[], flag = '--reuse'): Promise<ReusedRecord[]> {
  const others = await Promise.all(sources.map(async (dir) => ({ dir, plan: await readStudyPlan(dir, flag) })));
  const taken: ReusedRecord[] = [];
  for (const run of plan.runs) {
    if (finished(studyDir, run.runId)) continue;
    const source = others.find((o) => path.resolve(o.dir) !== path.resolve(studyDir) && finished(o.dir, run.runId));
    if (!source) continue;
    const target = runDirOf(studyDir, run.runId);
    const staging = `${target}.reuse-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(path.dirname(target), { recursive: true });
    // The source's lock file, if a finished run left one, is not this study's.
    await cp(runDirOf(source.dir, run.runId), staging, { recursive: true, preserveTimestamps: true, filter: (src) => path.basename(src) !== LOCK_FILE });
    const record: ReusedRecord = { runId: run.runId, from: source.dir, fromStudy: source.plan.id, at: new Date().toISOString() };
    await writeFileAtomic(path.join(staging, REUSED_FILE), `${JSON.stringify(record, null, 2)}\n`);
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
    for (const [from, to] of [[logPath(source.dir, run.runId), logPath(studyDir, run.runId)], [progressPath(source.dir, run.runId), progressPath(studyDir, run.runId)]] as const) {
      if (!existsSync(from)) continue;
      await mkdir(path.dirname(to), { recursive: true });
      await cp(from, to, { preserveTimestamps: true });
    }
    taken.push(record);
  }
  return taken;
}
