/**
 * kill -9 of a real `ssl run` process, checkpointing every step so the kill lands during or
 * between checkpoint writes: the checkpoint on disk is always a whole one (atomic rename), and the
 * resumed run ends exactly where the uninterrupted one does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { writeImageFolder } from '../helpers/image-folder.js';
import { cli, testBackend } from '../helpers/cli.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath } from '../../src/train/run-checkpoint.js';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'ssl.js');
let backend = 'cpu';
let dataDir = '';
beforeAll(async () => {
  dataDir = await writeImageFolder(mkdtempSync(path.join(tmpdir(), 'ssl-kill-data-')), syntheticDataset({ trainPerClass: 60, testPerClass: 20 }));
  backend = await testBackend();
});

/** Long enough that the kill lands mid-run on any machine, short enough for the suite. */
const ITERATIONS = 60;
const flags = (outDir: string, runId: string): string[] => [
  'run', 'supervised', '--dataset', 'image-folder', '--data-dir', dataDir, '--n1', '20', '--m1', '20', '--gamma-l', '4',
  '--validation-per-class', '5', '--iterations', String(ITERATIONS), '--eval-every', '10', '--checkpoint-every', '1', '--labeled-batch', '8',
  '--workers', '0', '--progress', 'none', '--backend', backend, '--threads', '1', '--out-dir', outDir, '--run-id', runId,
];

function comparable(runDir: string): Record<string, unknown> {
  const { runId: _id, createdAt: _at, timing: _t, ...rest } = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  return rest;
}

/** Starts `ssl run` as a process and kills it with SIGKILL `delayMs` after its first checkpoint exists. */
async function killDuringCheckpoints(args: string[], ckpt: string, delayMs: number): Promise<NodeJS.Signals | null> {
  expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'cli', 'main.js')), 'dist/ is built by npm ci (npm run build)').toBe(true);
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  while (!existsSync(ckpt)) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  return exited;
}

describe('kill -9 during checkpoint writes', () => {
  it('leaves a whole checkpoint, and the resumed run equals the uninterrupted one', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-kill-'));
    const reference = await cli(...flags(outDir, 'reference'));
    expect(reference.code, reference.err).toBe(0);
    for (const [i, delay] of [100, 300].entries()) {
      const runDir = path.join(outDir, `killed-${i}`);
      // The run was still going: killed by the signal, not finished before it.
      expect(await killDuringCheckpoints(flags(outDir, `killed-${i}`), checkpointPath(runDir), delay)).toBe('SIGKILL');
      // Whatever the kill interrupted, the file on disk decodes and passes its checksum.
      const ckpt = await loadCheckpoint(checkpointPath(runDir));
      expect(ckpt.meta.step as number).toBeGreaterThan(0);
      expect(ckpt.meta.step as number).toBeLessThan(ITERATIONS);
      const resumed = await cli('run', '--resume', runDir, '--progress', 'none', '--threads', '1');
      expect(resumed.code, resumed.err).toBe(0);
      expect(comparable(runDir)).toEqual(comparable(path.join(outDir, 'reference')));
    }
  });
});
