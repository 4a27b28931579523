import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeCheckpoint } from '../../src/train/checkpoint.js';
import { cli } from '../helpers/cli.js';

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
    // The defaults a plain `ssl run <method>` uses: the presets' values, the built-in beside them.
    const help = r.out.replace(/\s+/g, ' ');
    expect(help).toMatch(/--net <name>[^]*?\(default: cnn-small from the shipped presets; built-in wrn-28-2\)/);
    expect(help).toMatch(/--iterations <n>[^]*?\(default: 1600 from the shipped presets; built-in 250000\)/);
    expect(help).toMatch(/--daso-warmup <n>[^]*?\(default: 160 from pipelines\/daso\.yaml; built-in 5000\)/);
    expect(help).toMatch(/--no-nesterov/);
    expect(help).toMatch(/--selection <rule>[^]*?median-last-20 \| last \| best-val/);
  });

  it('ssl run <method> --help states that method\'s defaults and their preset file', async () => {
    const r = await cli('run', 'daso', '--help');
    expect(r.code).toBe(0);
    const help = r.out.replace(/\s+/g, ' ');
    expect(help).toMatch(/--iterations <n>[^]*?\(default: 1600 from pipelines\/fixmatch\.yaml; built-in 250000\)/);
    expect(help).toMatch(/--daso-warmup <n>[^]*?\(default: 160 from pipelines\/daso\.yaml; built-in 5000\)/);
    expect(help).toMatch(/--threshold <n>[^]*?\(default: 0\.95\)/);
  });

  it('ssl run --list names every method with its kind, summary and paper', async () => {
    const r = await cli('run', '--list');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^name\s+kind\s+summary\s+paper/m);
    expect(r.out).toMatch(/^fixmatch\s+base learner\s+.*Sohn et al\., NeurIPS 2020$/m);
    expect(r.out).toMatch(/^supervised\s+supervised learner\s+/m);
    expect(r.out).toMatch(/^daso\s+add-on \(ssl run daso = fixmatch \+ daso\)\s+.*Oh et al\., CVPR 2022$/m);
    expect(r.out).toMatch(/labeled losses \(--labeled-loss\): ce/);
  });

  it('ssl --version prints the package version', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
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

  it('unknown algorithm: a typo gets the nearest name, anything else the list', async () => {
    // Names that no method will ever take, so that this never starts a real run.
    const typo = await cli('run', 'fixmach', '--out-dir', outDir);
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/unknown method 'fixmach'\. Did you mean 'fixmatch'\? Use one of: fixmatch, .*supervised, decoupled, bbn, daso.*ssl run --list/);
    const far = await cli('run', 'not-a-method', '--out-dir', outDir);
    expect(far.code).toBe(2);
    expect(far.err).toMatch(/unknown method 'not-a-method'\. Use one of: fixmatch/);
    expect(far.err).not.toMatch(/Did you mean/);
  });

  it('an add-on twice, on a supervised learner, or not an add-on', async () => {
    const twice = await cli('run', 'fixmatch', '--with', 'daso', '--with', 'daso', '--out-dir', outDir);
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/--with: 'daso' is given twice/);
    const sup = await cli('run', 'supervised', '--with', 'daso', '--out-dir', outDir);
    expect(sup.code).toBe(2);
    expect(sup.err).toMatch(/daso cannot be added to supervised.*Use a semi-supervised base learner: fixmatch/);
    const base = await cli('run', 'fixmatch', '--with', 'supervised', '--out-dir', outDir);
    expect(base.code).toBe(2);
    expect(base.err).toMatch(/'supervised' is not an add-on.*daso/);
  });

  it('no method and no preset naming one', async () => {
    const r = await cli('run', '--out-dir', outDir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no method given.*ssl run --list/);
  });

  it('--gamma-l 1e400 names the flag and says the number is not finite', async () => {
    const r = await cli('run', 'daso', '--gamma-l', '1e400', '--out-dir', outDir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--gamma-l: value 1e400 is not a finite number/);
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
