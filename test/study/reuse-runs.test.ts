import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeStudyPlan, type PlannedRun, type StudyPlan } from '../../src/study/plan.js';
import { isReused, reuseFinishedRuns, reusedRunIds } from '../../src/study/reuse-runs.js';
import { readStudyStatus } from '../../src/study/run-state.js';
import { studyWallSeconds } from '../../src/study/aggregate.js';
import { UserError } from '../../src/errors.js';
import type { RunConfig } from '../../src/config/run-config.js';

function run(runId: string): PlannedRun {
  return { runId, method: 'fixmatch', gammaU: 1, seed: Number(runId.slice(-1)), config: { iterations: 10 } as RunConfig };
}

function plan(id: string, runs: PlannedRun[]): StudyPlan {
  return { schemaVersion: 1, kind: 'ssl-study', id, definition: { kind: 'mismatch', name: id, methods: ['fixmatch'], gammaU: [1], seeds: runs.map((r) => r.seed), set: {} }, runs, createdAt: '' };
}

/** A run folder: a config, optionally a checkpoint, a summary (finished) and a stale lock. */
function writeRun(studyDir: string, runId: string, opts: { finished: boolean; lock?: boolean; createdAt?: string }): void {
  const dir = path.join(studyDir, 'runs', runId);
  mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), '{}');
  writeFileSync(path.join(dir, 'checkpoints', 'last.ckpt'), `checkpoint of ${studyDir}`);
  if (opts.lock) writeFileSync(path.join(dir, '.lock'), '{"pid": 1}');
  if (opts.finished) {
    const summary = { schemaVersion: 1, runId, iterations: 10, createdAt: opts.createdAt ?? '2026-01-01T00:00:00.000Z', timing: { seconds: 30 } };
    writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary));
  }
}

describe('reusing finished runs of another study', () => {
  it('copies only runs finished there and not here, with log and progress, marks them, and keeps wall time to the runs trained here', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'ssl-reuse-'));
    const source = path.join(root, 'source');
    const target = path.join(root, 'target');
    const runs = ['r-s0', 'r-s1', 'r-s2', 'r-s3'].map(run);
    // Source: s0 finished (with a stale lock), s1 unfinished, s2 finished, s3 absent.
    await writeStudyPlan(source, plan('source', runs.slice(0, 3)));
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    const inAMinute = new Date(Date.now() + 60_000).toISOString();
    writeRun(source, 'r-s0', { finished: true, lock: true, createdAt: inAnHour });
    writeRun(source, 'r-s1', { finished: false });
    writeRun(source, 'r-s2', { finished: true });
    mkdirSync(path.join(source, 'logs'), { recursive: true });
    writeFileSync(path.join(source, 'logs', 'r-s0.log'), 'trained in source\n');
    // Target: s0 half-trained (its checkpoint is replaced), s2 already finished here (kept).
    const targetPlan = plan('target', runs);
    await writeStudyPlan(target, targetPlan);
    writeRun(target, 'r-s0', { finished: false });
    writeRun(target, 'r-s2', { finished: true, createdAt: inAMinute });

    const taken = await reuseFinishedRuns(target, targetPlan, [source]);
    expect(taken.map((t) => t.runId)).toEqual(['r-s0']);
    expect(taken[0]).toMatchObject({ from: source, fromStudy: 'source' });
    const s0 = path.join(target, 'runs', 'r-s0');
    expect(readFileSync(path.join(s0, 'summary.json'), 'utf8')).toBe(readFileSync(path.join(source, 'runs', 'r-s0', 'summary.json'), 'utf8'));
    expect(readFileSync(path.join(s0, 'checkpoints', 'last.ckpt'), 'utf8')).toBe(`checkpoint of ${source}`);
    expect(existsSync(path.join(s0, '.lock'))).toBe(false);
    expect(readFileSync(path.join(target, 'logs', 'r-s0.log'), 'utf8')).toBe('trained in source\n');
    expect(JSON.parse(readFileSync(path.join(target, 'runs', 'r-s2', 'summary.json'), 'utf8')).createdAt).toBe(inAMinute);
    expect(existsSync(path.join(target, 'runs', 'r-s1'))).toBe(false);
    expect(isReused(target, 'r-s0')).toBe(true);
    expect(isReused(target, 'r-s2')).toBe(false);
    expect(readdirSync(path.join(target, 'runs')).sort()).toEqual(['r-s0', 'r-s2']);

    const statuses = await readStudyStatus(target, targetPlan);
    expect(statuses.map((s) => s.state)).toEqual(['done', 'queued', 'done', 'queued']);
    const reused = reusedRunIds(target, statuses);
    expect([...reused]).toEqual(['r-s0']);
    // The wall time ends at the summary of the run trained here (s2, in a minute), not at the copied one's (in an hour).
    const wall = studyWallSeconds(target, statuses);
    expect(wall).toBeGreaterThan(50);
    expect(wall).toBeLessThan(70);

    // A second pass takes nothing: what is finished here stays.
    expect(await reuseFinishedRuns(target, targetPlan, [source])).toEqual([]);
  });

  it('refuses a source that is not a study, naming the flag', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'ssl-reuse-'));
    await expect(reuseFinishedRuns(root, plan('t', [run('r-s0')]), [path.join(root, 'nope')])).rejects.toThrow(UserError);
    await expect(reuseFinishedRuns(root, plan('t', [run('r-s0')]), [path.join(root, 'nope')])).rejects.toThrow(/--reuse: .*nope does not exist/);
  });
});
