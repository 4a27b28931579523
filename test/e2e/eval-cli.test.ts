import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { writeImageFolder } from '../helpers/image-folder.js';
import { cli, testBackend } from '../helpers/cli.js';

let backend = 'cpu';
let dataDir = '';
const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-eval-'));
beforeAll(async () => {
  dataDir = await writeImageFolder(mkdtempSync(path.join(tmpdir(), 'ssl-eval-data-')), syntheticDataset({ trainPerClass: 60, testPerClass: 20 }));
  backend = await testBackend();
});

const train = (runId: string, ...extra: string[]) =>
  cli('run', 'supervised', '--dataset', 'image-folder', '--data-dir', dataDir, '--n1', '20', '--m1', '20', '--gamma-l', '4', '--validation-per-class', '5',
    '--iterations', '30', '--eval-every', '30', '--labeled-batch', '16', '--workers', '0', '--progress', 'none', '--backend', backend,
    '--out-dir', outDir, '--run-id', runId, ...extra);

describe('ssl eval: shifted target distributions', () => {
  it('prints and saves the 11-distribution table and chart; post-hoc LA changes only the adjusted column', async () => {
    const run = await train('ce');
    expect(run.code, run.err).toBe(0);
    const r = await cli('eval', path.join(outDir, 'ce'), '--target-dist', 'all', '--post-hoc', 'la');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[1]).toMatch(/^target\s+images\s+top-1\s+top-1 \+la$/);
    expect(lines.filter((l) => /^(forward|backward)-\d+|^uniform/.test(l))).toHaveLength(11);
    // Labeled counts 20, 12, 7, 5 (γ 4); 20 test images per class: uniform keeps all 80.
    expect(r.out).toMatch(/^uniform\s+80\s/m);
    expect(r.out).toMatch(/^forward-50\s+\d+\s/m);
    const json = JSON.parse(readFileSync(path.join(outDir, 'ce', 'shifted-targets.json'), 'utf8'));
    expect(json.rows.map((x: { target: string }) => x.target)).toEqual([
      'forward-50', 'forward-25', 'forward-10', 'forward-5', 'forward-2', 'uniform', 'backward-2', 'backward-5', 'backward-10', 'backward-25', 'backward-50',
    ]);
    expect(json.rows.every((x: { top1: number; top1Adjusted: number }) => x.top1 >= 0 && x.top1 <= 1 && x.top1Adjusted >= 0 && x.top1Adjusted <= 1)).toBe(true);
    expect(existsSync(path.join(outDir, 'ce', 'charts', 'shifted-targets.png'))).toBe(true);
    // The model learned: the uniform set is well above chance (25%).
    expect(json.rows[5].top1).toBeGreaterThan(0.5);
  });

  it('refuses a second prior adjustment, an unknown distribution, and an unfinished run', async () => {
    const run = await train('bs', '--labeled-loss', 'balanced-softmax');
    expect(run.code, run.err).toBe(0);
    const twice = await cli('eval', path.join(outDir, 'bs'), '--post-hoc', 'pc-softmax');
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/--post-hoc: pc-softmax would adjust the logits a second time.*balanced-softmax.*lade-prior/);
    const ok = await cli('eval', path.join(outDir, 'bs'), '--post-hoc', 'lade-prior', '--target-dist', 'backward-10');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/^backward-10\s+\d+\s+[\d.]+%\s+[\d.]+%$/m);
    const bad = await cli('eval', path.join(outDir, 'bs'), '--target-dist', 'sideways-3');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--target-dist: unknown distribution 'sideways-3'.*forward-50/);
    const none = await cli('eval', outDir);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/has no config.json/);
  });
});
