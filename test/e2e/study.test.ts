/**
 * `ssl study` end to end on tiny image-folder data: 2 methods × 3 γ_u × 2 seeds, locally (with a
 * Ctrl-C, a failed run and two resumes), then through a real Redis with two worker processes, one
 * SIGKILLed mid-run, giving the same table; and bad input that must leave nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { writeImageFolder } from '../helpers/image-folder.js';
import { cli, testBackend } from '../helpers/cli.js';
import { createProgram } from '../../src/cli/main.js';
import { readStudyPlan } from '../../src/study/plan.js';
import { countStates, readStudyStatus } from '../../src/study/run-state.js';
import { StudyInterrupted } from '../../src/study/outcome.js';
import { checkpointPath } from '../../src/train/run-checkpoint.js';
import { queueStates } from '../../src/study/queue.js';
import { REDIS_SERVER, freePort, startRedis } from '../helpers/redis.js';
import { sslProcess } from '../helpers/ssl-process.js';

let backend = 'cpu';
let dataDir = '';
beforeAll(async () => {
  dataDir = await writeImageFolder(mkdtempSync(path.join(tmpdir(), 'ssl-study-data-')), syntheticDataset({ trainPerClass: 60, testPerClass: 20 }));
  backend = await testBackend();
});

/** The grid and a tiny schedule; one thread per run, so local and queued runs compute the same numbers. */
const grid = (): string[] => [
  '--methods', 'fixmatch,daso', '--gamma-u', '4,1,0.25', '--seeds', '2',
  '--dataset', 'image-folder', '--data-dir', dataDir, '--n1', '20', '--m1', '20', '--gamma-l', '4', '--validation-per-class', '5',
  '--iterations', '4', '--eval-every', '2', '--labeled-batch', '8', '--daso-warmup', '2', '--daso-histogram-window', '2', '--pl-window', '2',
  '--checkpoint-every', '2', '--workers', '0', '--threads', '1', '--backend', backend, '--progress', 'none',
];

/** The CLI with a stop signal of our own (the Ctrl-C the CLI wires to SIGINT). */
async function cliWithStop(stop: AbortSignal, ...args: string[]): Promise<{ error: unknown; out: string; err: string }> {
  let out = '';
  let err = '';
  try {
    await createProgram({ out: (s) => (out += s), err: (s) => (err += s) }, stop).parseAsync(['node', 'ssl', ...args]);
    return { error: undefined, out, err };
  } catch (e) {
    return { error: e, out, err };
  }
}

/** The study report's tables (everything from the first table on, without the charts): what two executions of one grid must agree on. */
function tablesOf(md: string): string {
  return md.slice(md.indexOf('## Balanced accuracy'), md.indexOf('## Charts'));
}

/** The local study's tables, for the queued study to equal. */
let localTables = '';

function studyDirIn(outDir: string): string {
  const ids = readdirSync(outDir);
  expect(ids).toHaveLength(1);
  return path.join(outDir, ids[0]);
}

describe('ssl study mismatch, locally', () => {
  it('runs the grid two at a time; Ctrl-C leaves runs resumable; --resume skips finished runs, records a failure, re-runs it', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-study-local-'));
    // 1. Stop (as Ctrl-C does) once two runs are done.
    const stop = new AbortController();
    let studyDir = '';
    const watcher = setInterval(async () => {
      if (!existsSync(outDir) || readdirSync(outDir).length === 0) return;
      studyDir = studyDirIn(outDir);
      if (!existsSync(path.join(studyDir, 'study.json'))) return;
      const plan = await readStudyPlan(studyDir, 'dir');
      if (countStates(await readStudyStatus(studyDir, plan)).done >= 2) stop.abort();
    }, 200);
    const first = await cliWithStop(stop.signal, 'study', 'mismatch', ...grid(), '--concurrency', '2', '--out-dir', outDir);
    clearInterval(watcher);
    expect(first.error, first.err).toBeInstanceOf(StudyInterrupted);
    expect((first.error as Error).message).toMatch(/--resume .*mismatch-[0-9a-f]{8}/);
    const plan = await readStudyPlan(studyDir, 'dir');
    expect(plan.runs).toHaveLength(12);
    const stopped = await readStudyStatus(studyDir, plan);
    const n = countStates(stopped);
    expect(n.done).toBeGreaterThanOrEqual(2);
    expect(n.done).toBeLessThan(12);
    expect(n.running + n.failed).toBe(0);
    // Every run that started has a checkpoint to resume from.
    const interrupted = stopped.filter((s) => s.state === 'interrupted');
    for (const s of interrupted) expect(existsSync(checkpointPath(path.join(studyDir, 'runs', s.run.runId))), s.run.runId).toBe(true);
    const doneBefore = new Map(stopped.filter((s) => s.state === 'done').map((s) => [s.run.runId, statSync(path.join(studyDir, 'runs', s.run.runId, 'summary.json')).mtimeMs]));

    // 2. A broken checkpoint: that run fails on resume, is recorded and shown; the others finish.
    const broken = interrupted[0] ?? stopped.find((s) => s.state === 'queued');
    expect(broken).toBeDefined();
    const brokenDir = path.join(studyDir, 'runs', broken!.run.runId);
    writeFileSync(checkpointPath(brokenDir), 'not a checkpoint');
    const second = await cli('study', 'mismatch', '--resume', studyDir, '--concurrency', '2', '--progress', 'none');
    expect(second.code, second.err).toBe(1);
    expect(second.err).toMatch(new RegExp(`1 run\\(s\\) of .* failed:\\n  ${broken!.run.runId}: `));
    const status = await cli('study', 'status', studyDir);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/12 runs: 11 done, 1 failed; all runs ended/);
    expect(status.out).toMatch(new RegExp(`${broken!.run.runId} .* failed .*checkpoint`));
    expect(JSON.parse(readFileSync(path.join(brokenDir, 'failure.json'), 'utf8')).error).toMatch(/checkpoint/);
    // Finished runs were not run again.
    for (const [id, mtime] of doneBefore) expect(statSync(path.join(studyDir, 'runs', id, 'summary.json')).mtimeMs, id).toBe(mtime);

    // 3. Without the broken file the run starts over; the grid given again must be the study's.
    rmSync(checkpointPath(brokenDir));
    const other = await cli('study', 'mismatch', ...grid(), '--gamma-u', '4,1', '--resume', studyDir);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/--resume: .* holds another grid: they drop .*gu0\.25/);
    const third = await cli('study', 'mismatch', ...grid(), '--resume', studyDir, '--concurrency', '2');
    expect(third.code, third.err).toBe(0);
    expect(third.out).toMatch(/12 runs: 12 done; all runs ended/);
    expect(readFileSync(path.join(studyDir, 'logs', `${broken!.run.runId}.log`), 'utf8')).toMatch(/failed:[^]*starting on/);

    // 4. The study report: mean ± std per method × γ_u, the runs, charts as PNG files.
    const report = await cli('report', studyDir);
    expect(report.code, report.err).toBe(0);
    const md = readFileSync(path.join(studyDir, 'report.md'), 'utf8');
    expect(md).toContain('| method | γ_u = 4 | γ_u = 1 | γ_u = 1/4 |');
    expect(md).toMatch(/\| fixmatch \| [\d.]+ ± [\d.]+ \| [\d.]+ ± [\d.]+ \| [\d.]+ ± [\d.]+ \|/);
    expect(md).toMatch(/\| fixmatch\+daso \| [\d.]+ ± [\d.]+ \|/);
    expect(md).toMatch(/Runs: 12 of 12 done/);
    expect(md).not.toMatch(/Failed runs|⚠/);
    for (const chart of ['study-balanced-accuracy', 'study-tail-pl-recall', 'study-pl-recall-gu4', 'study-pl-recall-gu1', 'study-pl-recall-gu0.25']) {
      expect(existsSync(path.join(studyDir, 'charts', `${chart}.png`)), chart).toBe(true);
    }
    expect(readFileSync(path.join(studyDir, 'report.html'), 'utf8')).toContain('<img src="charts/study-balanced-accuracy.png"');
    localTables = tablesOf(md);

    // 5. Another study planning some of these runs takes them finished (--reuse): nothing trains again.
    const reuseOut = mkdtempSync(path.join(tmpdir(), 'ssl-study-reuse-'));
    const reused = await cli('study', 'mismatch', ...grid(), '--methods', 'daso', '--out-dir', reuseOut, '--reuse', studyDir);
    expect(reused.code, reused.err).toBe(0);
    expect(reused.err).toContain(`reused 6 finished run(s) from ${studyDir}`);
    expect(reused.out).toMatch(/6 runs: 6 done; all runs ended/);
    const reusedDir = studyDirIn(reuseOut);
    for (const run of (await readStudyPlan(reusedDir, 'dir')).runs) {
      const copy = path.join(reusedDir, 'runs', run.runId);
      expect(JSON.parse(readFileSync(path.join(copy, 'reused.json'), 'utf8')).from, run.runId).toBe(studyDir);
      expect(readFileSync(path.join(copy, 'summary.json'), 'utf8')).toBe(readFileSync(path.join(studyDir, 'runs', run.runId, 'summary.json'), 'utf8'));
    }
    const reusedMd = readFileSync(path.join(reusedDir, 'report.md'), 'utf8');
    expect(reusedMd).toMatch(/Runs: 6 of 6 done \(6 of them taken finished from another study/);
    expect(tablesOf(reusedMd).split('\n').filter((l) => l.startsWith('| fixmatch+daso |'))).toEqual(tablesOf(md).split('\n').filter((l) => l.startsWith('| fixmatch+daso |')));
  }, 400_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, ms: number, cond: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(REDIS_SERVER === undefined)('ssl study mismatch --queue: BullMQ on a real redis-server, two workers', () => {
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a SIGKILLed worker\'s run is resumed by the other from its checkpoint; every run counts once; the table equals the local one', async () => {
    const url = redis!.url;
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-study-queue-'));
    // Enqueue only; then enqueue again and wait: the same runs are not queued twice.
    const queued = await cli('study', 'mismatch', ...grid(), '--out-dir', outDir, '--queue', url, '--no-wait');
    expect(queued.code, queued.err).toBe(0);
    expect(queued.err).toMatch(/queued 12 run\(s\) on redis:/);
    const studyDir = studyDirIn(outDir);
    const plan = await readStudyPlan(studyDir, 'dir');
    const waiting = cli('study', 'mismatch', '--resume', studyDir, '--queue', url, '--progress', 'none');

    const workers = [0, 1].map(() => sslProcess('worker', '--queue', url, '--lock-duration', '2000'));
    const [a, b] = workers;
    // Kill worker A once one of its runs has a checkpoint and no summary yet.
    let killed: { runId: string; pid: number } | undefined;
    await until('a run of worker A past its first checkpoint', 240_000, () => {
      const dir = path.join(studyDir, 'progress');
      for (const f of existsSync(dir) ? readdirSync(dir) : []) {
        let p: { ppid: number; pid: number };
        try {
          p = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as typeof p;
        } catch {
          continue;
        }
        const runId = f.replace(/\.json$/, '');
        const runDir = path.join(studyDir, 'runs', runId);
        if (p.ppid === a.child.pid && existsSync(checkpointPath(runDir)) && !existsSync(path.join(runDir, 'summary.json'))) {
          a.child.kill('SIGKILL');
          killed = { runId, pid: p.pid };
          return true;
        }
      }
      return false;
    });
    expect((await a.exited).signal).toBe('SIGKILL');
    // Its run process dies with it: nothing trains beside the worker that takes the job over.
    await until('the killed worker\'s run process to exit', 30_000, () => !alive(killed!.pid));

    const done = await waiting;
    expect(done.code, `${done.err}\nworker B:\n${b.log()}`).toBe(0);
    expect(done.err).toMatch(/queued 0 run\(s\) on redis:.* \(12 already queued\)/);
    b.child.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);

    // The killed run was taken over by B and resumed from its checkpoint.
    const events = readFileSync(path.join(studyDir, 'runs', killed!.runId, 'events.jsonl'), 'utf8');
    expect(events).toMatch(/"type":"resume"/);
    expect(b.log()).toMatch(new RegExp(`${killed!.runId}: start \\(job .*, attempt \\d\\)[^]*${killed!.runId}: done`));
    // Every run's job completed once; the study counts each run once.
    const states = await queueStates(url, plan);
    expect([...states.values()].map((s) => s.state)).toEqual(new Array(12).fill('completed'));
    const status = await cli('study', 'status', studyDir);
    expect(status.out).toMatch(/12 runs: 12 done; all runs ended/);
    const md = readFileSync(path.join(studyDir, 'report.md'), 'utf8');
    expect(md).toMatch(/Runs: 12 of 12 done/);
    if (localTables !== '') expect(tablesOf(md)).toBe(localTables);
  }, 400_000);
});

describe('ssl study: bad input leaves nothing behind', () => {
  it('an unknown study key, an unknown method, --resume of a folder that is not a study, an unreachable Redis', async () => {
    const outDir = path.join(mkdtempSync(path.join(tmpdir(), 'ssl-study-bad-')), 'studies');
    const file = path.join(path.dirname(outDir), 'bad.yaml');
    writeFileSync(file, 'study: mismatch\nmethods: [fixmatch]\ngammaU: [1]\nseeds: 1\nseed: 4\n');
    const key = await cli('study', 'run', file, '--out-dir', outDir);
    expect(key.code).toBe(2);
    expect(key.err).toMatch(/bad\.yaml: seed: is not a study key/);
    const method = await cli('study', 'mismatch', '--methods', 'fixmatch,fixmatch+nope', '--out-dir', outDir);
    expect(method.code).toBe(2);
    expect(method.err).toMatch(/--methods: unknown method 'nope' in 'fixmatch\+nope'\. Use one of: /);
    const notStudy = await cli('study', 'mismatch', '--resume', path.dirname(outDir));
    expect(notStudy.code).toBe(2);
    expect(notStudy.err).toMatch(/--resume: .* is not a study \(it has no study\.json\)/);
    const status = await cli('study', 'status', path.join(path.dirname(outDir), 'nope'));
    expect(status.code).toBe(2);
    expect(status.err).toMatch(/nope does not exist/);
    const port = await freePort();
    const redis = await cli('study', 'mismatch', '--methods', 'fixmatch', '--out-dir', outDir, '--queue', `redis://127.0.0.1:${port}`);
    expect(redis.code).toBe(2);
    expect(redis.err).toMatch(new RegExp(`--queue: cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(connect ECONNREFUSED[^)]*\\)\\. Start one, e\\.g\\. on this machine: \`redis-server --port ${port} --daemonize yes\``));
    const worker = await cli('worker', '--queue', `redis://127.0.0.1:${port}`);
    expect(worker.code).toBe(2);
    expect(worker.err).toMatch(/cannot reach Redis at .*redis-server --port/);
    expect(existsSync(outDir)).toBe(false);
  });
});
