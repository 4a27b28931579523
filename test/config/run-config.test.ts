import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPresetPath, loadPreset, resolveRunConfig } from '../../src/config/run-config.js';
import { UserError } from '../../src/errors.js';

describe('resolveRunConfig', () => {
  it('layers defaults < preset < flags', () => {
    const cfg = resolveRunConfig('daso', [
      { source: 'preset', values: { iterations: 100, gammaU: 100 } },
      { source: 'command line', values: { gammaU: 0.01 } },
    ]);
    expect(cfg.iterations).toBe(100);
    expect(cfg.gammaU).toBe(0.01);
    expect(cfg.gammaL).toBe(100); // built-in default
    expect(cfg.dasoQueueSize).toBe(256);
    expect(cfg.algorithm).toBe('daso');
  });

  it('keeps DASO keys out of a FixMatch config and refuses them there, naming the flag', () => {
    const cfg = resolveRunConfig('fixmatch', []);
    expect('dasoWarmup' in cfg).toBe(false);
    expect(() => resolveRunConfig('fixmatch', [{ source: 'command line', values: { dasoWarmup: 10 } }])).toThrow(/--daso-warmup.*does not apply to fixmatch/);
  });

  it('rejects gamma <= 0 naming the field, the value and what is allowed', () => {
    let err: unknown;
    try {
      resolveRunConfig('daso', [{ source: 'command line', values: { gammaL: 0 } }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect(String(err)).toMatch(/gammaL \(--gamma-l\).*value 0 is invalid/);
    expect(String(err)).toMatch(/imbalance ratio/);
  });

  it('rejects unknown keys and suggests the nearest one', () => {
    expect(() => resolveRunConfig('daso', [{ source: 'p.yaml', values: { gammaLL: 3 } }])).toThrow(/gammaLL.*Did you mean 'gammaL'/);
  });

  it('rejects an algorithm key that disagrees with the command', () => {
    expect(() => resolveRunConfig('daso', [{ source: 'p.yaml', values: { algorithm: 'fixmatch' } }])).toThrow(/algorithm/);
  });

  it('rejects enum values outside the set', () => {
    expect(() => resolveRunConfig('daso', [{ source: 'command line', values: { dasoBlend: 'sometimes' } }])).toThrow(/dasoBlend/);
  });
});

describe('presets', () => {
  it('the shipped presets validate and share one schedule', async () => {
    const daso = resolveRunConfig('daso', [{ source: 'daso.yaml', values: await loadPreset(defaultPresetPath('daso')) }]);
    const fixmatch = resolveRunConfig('fixmatch', [{ source: 'fixmatch.yaml', values: await loadPreset(defaultPresetPath('fixmatch')) }]);
    for (const key of ['iterations', 'evalEvery', 'net', 'lr', 'labeledBatch', 'unlabeledRatio', 'plWindow', 'emaDecay', 'validationPerClass', 'seed'] as const) {
      expect(daso[key]).toEqual(fixmatch[key]);
    }
    expect(daso.dasoWarmup).toBeLessThan(daso.iterations / 2);
    expect(daso.dasoWarmup).toBeGreaterThanOrEqual(daso.dasoHistogramWindow ?? Infinity);
  });

  it('a broken YAML preset is a UserError naming the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ssl-preset-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'iterations: [1, 2\n');
    await expect(loadPreset(file)).rejects.toThrow(/bad.yaml is not valid YAML/);
    await expect(loadPreset(path.join(dir, 'missing.yaml'))).rejects.toThrow(/no preset file/);
  });
});

describe('dataset-specific presets', () => {
  it('CIFAR runs get the paper schedule, the embedded default the scaled one', async () => {
    expect(defaultPresetPath('daso', 'cifar10')).toMatch(/pipelines\/cifar10\/daso\.yaml$/);
    expect(defaultPresetPath('daso', 'fashion-mnist')).toMatch(/pipelines\/daso\.yaml$/);
    expect(defaultPresetPath('daso')).toMatch(/pipelines\/daso\.yaml$/);
    const c10 = resolveRunConfig('daso', [{ source: 'p', values: await loadPreset(defaultPresetPath('daso', 'cifar10')) }]);
    expect([c10.net, c10.iterations, c10.evalEvery, c10.dasoWarmup]).toEqual(['wrn-28-2', 250_000, 500, 5000]);
    const c100 = resolveRunConfig('fixmatch', [{ source: 'p', values: await loadPreset(defaultPresetPath('fixmatch', 'cifar100')) }]);
    expect([c100.n1, c100.m1, c100.gammaL, c100.gammaU]).toEqual([150, 300, 10, 10]);
  });
});
