import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { writeImageFolder } from '../helpers/image-folder.js';
import { cli, testBackend } from '../helpers/cli.js';

let backend = 'cpu';
let dataDir = '';
beforeAll(async () => {
  dataDir = await writeImageFolder(mkdtempSync(path.join(tmpdir(), 'ssl-compose-data-')), syntheticDataset({ trainPerClass: 60, testPerClass: 20 }));
  backend = await testBackend();
});

/** A few steps on tiny image-folder data through the real CLI: presets, flags, registry. */
const tiny = (outDir: string, runId: string): string[] => [
  '--dataset', 'image-folder', '--data-dir', dataDir,
  '--n1', '20', '--m1', '20', '--gamma-l', '4', '--validation-per-class', '5', '--iterations', '6', '--eval-every', '3',
  '--labeled-batch', '8', '--daso-warmup', '2', '--daso-histogram-window', '2', '--pl-window', '3', '--checkpoint-every', '3',
  '--workers', '0', '--progress', 'none', '--backend', backend, '--out-dir', outDir, '--run-id', runId,
];

/** summary.json without what differs between two runs of the same thing (id, clock). */
function comparable(runDir: string): Record<string, unknown> {
  const s = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  const { runId: _id, createdAt: _at, timing: _t, ...rest } = s;
  return rest;
}

describe('`ssl run daso` is `ssl run fixmatch --with daso`', () => {
  it('gives identical summaries and configs for the same seed and backend', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-compose-'));
    const a = await cli('run', 'daso', ...tiny(outDir, 'daso'));
    const b = await cli('run', 'fixmatch', '--with', 'daso', ...tiny(outDir, 'fixmatch-with-daso'));
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    const sa = comparable(path.join(outDir, 'daso'));
    expect(sa.algorithm).toBe('fixmatch+daso');
    expect(Object.keys((sa.pseudoLabels as { sources: object }).sources).sort()).toEqual(['final', 'linear', 'semantic']);
    expect(comparable(path.join(outDir, 'fixmatch-with-daso'))).toEqual(sa);
    const config = (id: string): Record<string, unknown> => {
      const { runId: _r, ...rest } = JSON.parse(readFileSync(path.join(outDir, id, 'config.json'), 'utf8')) as Record<string, unknown>;
      return rest;
    };
    expect(config('fixmatch-with-daso')).toEqual(config('daso'));
    expect(config('daso')).toMatchObject({ algorithm: 'fixmatch', with: ['daso'], dasoWarmup: 2, net: 'cnn-small', emaDecay: 0.99 });
  });

  it('a user preset may name the composition (`algorithm`, `with`) and the command then needs no method', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-compose-preset-'));
    const preset = path.join(outDir, 'mine.yaml');
    writeFileSync(preset, 'algorithm: fixmatch\nwith: [daso]\nnet: cnn-small\nemaDecay: 0.99\n');
    const r = await cli('run', '--preset', preset, ...tiny(outDir, 'p'));
    expect(r.code, r.err).toBe(0);
    const config = JSON.parse(readFileSync(path.join(outDir, 'p', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ algorithm: 'fixmatch', with: ['daso'], dasoWarmup: 2, emaDecay: 0.99, iterations: 6 });
    // The built-in defaults under it, not the shipped presets: --preset replaces them.
    expect(config.validationPerClass).toBe(5);
    expect(config.checkpointEvery).toBe(3);
    const clash = await cli('run', 'supervised', '--preset', preset, ...tiny(outDir, 'q'));
    expect(clash.code).toBe(2);
    expect(clash.err).toMatch(/mine.yaml: algorithm.*is fixmatch but the command names supervised/);
  });

  it('resumes with `ssl run --resume <dir>` alone, and refuses a different method naming both', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-compose-resume-'));
    const first = await cli('run', 'daso', ...tiny(outDir, 'r'));
    expect(first.code, first.err).toBe(0);
    const wrong = await cli('run', 'fixmatch', '--resume', path.join(outDir, 'r'));
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/is a fixmatch \+ daso run, not fixmatch.*ssl run --resume/);
    const again = await cli('run', '--resume', path.join(outDir, 'r'), '--iterations', '9');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/--resume: iterations.*iterations = 6, this run has 9/);
  });
});
