import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { encodeCheckpoint } from '../../src/train/checkpoint.js';

/** Runs the CLI like the binary does and captures what it prints. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssl', ...args], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe('ssl CLI: help', () => {
  it('ssl run --help lists every flag with its default and examples, exit 0', async () => {
    const r = await cli('run', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--gamma-l', '--gamma-u', '--n1', '--m1', '--daso-blend', '--daso-align', '--resume', '--split-file', '--backend', '--selection']) {
      expect(r.out).toContain(flag);
    }
    expect(r.out).toMatch(/--gamma-l <n>.*\n?.*default: 100/);
    expect(r.out).toContain('Examples:');
    expect(r.out).toContain('[daso only]');
    expect(r.out).toMatch(/pipelines\/daso\.yaml.*net: cnn-small/s);
  });
});

describe('ssl CLI: bad input fails before any work, names the problem and the fix, exit 2', () => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-cli-'));

  it('unknown flag', async () => {
    const r = await cli('run', 'daso', '--gama-l', '3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--gama-l'/);
    expect(r.err).toMatch(/--gamma-l/);
  });

  it('unknown algorithm', async () => {
    const r = await cli('run', 'mixmatch', '--out-dir', outDir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown algorithm 'mixmatch'.*fixmatch, daso/);
  });

  it('γ of 0', async () => {
    const r = await cli('run', 'daso', '--gamma-l', '0', '--out-dir', outDir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/gammaL \(--gamma-l\): value 0 is invalid/);
  });

  it('unknown dataset', async () => {
    const r = await cli('run', 'daso', '--dataset', 'imagenet', '--out-dir', outDir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/dataset.*imagenet/);
    expect(r.err).toMatch(/cifar10/);
  });

  it('missing data directory', async () => {
    const r = await cli('run', 'daso', '--dataset', 'cifar10', '--data-dir', path.join(outDir, 'nope'), '--out-dir', outDir, '--backend', 'cpu');
    expect(r.code).toBe(2);
    expect(r.err).toContain(path.join(outDir, 'nope'));
  });

  it('truncated data file', async () => {
    const dir = path.join(outDir, 'cifar-10-batches-bin');
    mkdirSync(dir, { recursive: true });
    for (const f of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) {
      writeFileSync(path.join(dir, `${f}.bin`), Buffer.alloc(3073 * 3 + 100));
    }
    const r = await cli('run', 'daso', '--dataset', 'cifar10', '--data-dir', dir, '--out-dir', outDir, '--backend', 'cpu');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/data_batch_1\.bin/);
  });

  it('N_1 larger than a class', async () => {
    const r = await cli('run', 'daso', '--n1', '7000', '--out-dir', outDir, '--backend', 'cpu');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/n1/);
  });

  it('a corrupt checkpoint', async () => {
    const runDir = path.join(outDir, 'broken');
    mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ algorithm: 'fixmatch', net: 'cnn-small', iterations: 10, progress: 'none', backend: 'cpu' }));
    const bytes = encodeCheckpoint({ meta: { step: 1 }, arrays: { 'model/w': new Float32Array(8) } });
    writeFileSync(path.join(runDir, 'checkpoints', 'last.ckpt'), bytes.subarray(0, bytes.length - 5));
    const r = await cli('run', 'fixmatch', '--resume', runDir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/last\.ckpt: is not a usable checkpoint/);
  });

  it('resume of a directory that is not a run', async () => {
    const r = await cli('run', 'daso', '--resume', path.join(outDir, 'nothing-here'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has no config\.json/);
  });
});
