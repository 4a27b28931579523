import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPresetPath, loadPreset, resolveRunConfig, shippedPresetLayers, type RunConfig } from '../../src/config/run-config.js';
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
    // `daso` is FixMatch + DASO: the base learner and the add-on list.
    expect(cfg.algorithm).toBe('fixmatch');
    expect(cfg.with).toEqual(['daso']);
    expect(cfg.labeledLoss).toBe('ce');
    expect(cfg.sampler).toBe('instance-balanced');
  });

  it('`daso` and `fixmatch --with daso` resolve to the same config', () => {
    const layers = [{ source: 'command line', values: { gammaU: 0.01 } }];
    expect(resolveRunConfig('daso', layers)).toEqual(resolveRunConfig({ algorithm: 'fixmatch', with: ['daso'] }, layers));
  });

  it('refuses an add-on on a learner without pseudo-labels, an add-on twice, and unknown names', () => {
    expect(() => resolveRunConfig({ algorithm: 'supervised', with: ['daso'] }, [])).toThrow(/daso cannot be added to supervised.*makes none/);
    expect(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['daso', 'daso'] }, [])).toThrow(/'daso' is given twice/);
    expect(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['dasso'] }, [])).toThrow(/'dasso' is not an add-on.*daso/);
    expect(() => resolveRunConfig('fixmatchh', [])).toThrow(/unknown method 'fixmatchh'.*fixmatch/);
  });

  it('a supervised config has no SSL keys and refuses them, naming their owner', () => {
    const cfg = resolveRunConfig('supervised', []) as RunConfig & Record<string, unknown>;
    expect('threshold' in cfg).toBe(false);
    expect(() => resolveRunConfig('supervised', [{ source: 'command line', values: { threshold: 0.9 } }])).toThrow(/threshold.*option of fixmatch/);
  });

  it('keeps DASO keys out of a FixMatch config and refuses them there, naming the flag', () => {
    const cfg = resolveRunConfig('fixmatch', []);
    expect('dasoWarmup' in cfg).toBe(false);
    expect(() => resolveRunConfig('fixmatch', [{ source: 'command line', values: { dasoWarmup: 10 } }])).toThrow(/--daso-warmup.*does not apply to fixmatch.*add --with daso/);
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

  it('rejects an algorithm or with key that disagrees with the composition, naming both', () => {
    expect(() => resolveRunConfig('daso', [{ source: 'p.yaml', values: { algorithm: 'supervised' } }])).toThrow(/p.yaml: algorithm.*is supervised but the run is fixmatch \+ daso/);
    expect(() => resolveRunConfig('fixmatch', [{ source: 'p.yaml', values: { with: ['daso'] } }])).toThrow(/p.yaml: with.*\[daso\]/);
    expect(resolveRunConfig('daso', [{ source: 'p.yaml', values: { algorithm: 'fixmatch', with: ['daso'] } }]).with).toEqual(['daso']);
  });

  it('rejects enum values outside the set', () => {
    expect(() => resolveRunConfig('daso', [{ source: 'command line', values: { dasoBlend: 'sometimes' } }])).toThrow(/dasoBlend/);
  });
});

describe('presets', () => {
  it('the shipped presets validate, and a "+daso" run keeps its baseline\'s schedule', async () => {
    const daso = resolveRunConfig('daso', await shippedPresetLayers({ algorithm: 'fixmatch', with: ['daso'] }));
    const fixmatch = resolveRunConfig('fixmatch', await shippedPresetLayers({ algorithm: 'fixmatch', with: [] }));
    const supervised = resolveRunConfig('supervised', await shippedPresetLayers({ algorithm: 'supervised', with: [] }));
    for (const key of ['iterations', 'evalEvery', 'net', 'lr', 'labeledBatch', 'unlabeledRatio', 'plWindow', 'emaDecay', 'validationPerClass', 'seed'] as const) {
      expect(daso[key]).toEqual(fixmatch[key]);
    }
    for (const key of ['iterations', 'evalEvery', 'net', 'lr', 'labeledBatch', 'emaDecay', 'validationPerClass'] as const) expect(supervised[key]).toEqual(fixmatch[key]);
    expect(daso.dasoWarmup).toBe(160);
    expect(daso.dasoWarmup).toBeLessThan(daso.iterations / 2);
    expect(daso.dasoWarmup).toBeGreaterThanOrEqual(daso.dasoHistogramWindow ?? Infinity);
  });

  it("an add-on's preset may set only the add-on's own options", async () => {
    const layers = await shippedPresetLayers({ algorithm: 'fixmatch', with: ['daso'] });
    expect(layers.map((l) => path.basename(l.source))).toEqual(['fixmatch.yaml', 'daso.yaml']);
    expect(Object.keys(layers[1].values)).toEqual(['dasoWarmup']);
  });

  it('an empty preset is refused, not silently the paper-scale defaults', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ssl-preset-'));
    const file = path.join(dir, 'empty.yaml');
    writeFileSync(file, '# nothing\n');
    await expect(loadPreset(file)).rejects.toThrow(/empty.yaml is empty/);
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
    const c10 = resolveRunConfig('daso', await shippedPresetLayers({ algorithm: 'fixmatch', with: ['daso'] }, 'cifar10'));
    expect([c10.net, c10.iterations, c10.evalEvery, c10.dasoWarmup]).toEqual(['wrn-28-2', 250_000, 500, 5000]);
    const c100 = resolveRunConfig('daso', await shippedPresetLayers({ algorithm: 'fixmatch', with: ['daso'] }, 'cifar100'));
    expect([c100.n1, c100.m1, c100.gammaL, c100.gammaU, c100.dasoWarmup]).toEqual([150, 300, 10, 10, 5000]);
    expect(await loadPreset(defaultPresetPath('fixmatch', 'cifar100') ?? '')).toMatchObject({ n1: 150 });
  });
});
