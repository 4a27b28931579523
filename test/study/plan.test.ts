import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadStudyFile, parseMethod, validateDefinition, type StudyDefinition } from '../../src/study/definition.js';
import { planStudy, stableJson } from '../../src/study/plan.js';
import { userErrorAsync } from '../helpers/user-error.js';

const tiny = { dataset: 'image-folder', dataDir: '/data', iterations: 6, evalEvery: 3, dasoWarmup: 2 };
const def = (over: Partial<StudyDefinition> = {}): StudyDefinition =>
  validateDefinition({ kind: 'mismatch', name: 'mismatch', methods: ['fixmatch', 'daso'], gammaU: [100, 1, 0.01], seeds: [0, 1], set: tiny, ...over }, 'test');

function yaml(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ssl-study-def-')), 'study.yaml');
  writeFileSync(file, text);
  return file;
}

describe('study plan', () => {
  it('expands methods × γ_u × seeds into resolved configs with stable, distinct ids', async () => {
    const a = await planStudy(def(), 'test');
    expect(a.runs).toHaveLength(2 * 3 * 2);
    expect(new Set(a.runs.map((r) => r.runId)).size).toBe(12);
    // Same grid, same ids: planned again, and with keys in another order.
    const b = await planStudy(def({ set: { dasoWarmup: 2, evalEvery: 3, iterations: 6, dataset: 'image-folder', dataDir: '/data' } }), 'test');
    expect(b.runs.map((r) => r.runId)).toEqual(a.runs.map((r) => r.runId));
    expect(b.id).toBe(a.id);
    expect(a.id).toMatch(/^mismatch-[0-9a-f]{8}$/);
    // How a run executes (threads, workers, data folder) is not part of its id; what it computes is.
    const c = await planStudy(def({ set: { ...tiny, threads: 1, workers: 0, dataDir: '/elsewhere' } }), 'test');
    expect(c.runs.map((r) => r.runId)).toEqual(a.runs.map((r) => r.runId));
    const d = await planStudy(def({ set: { ...tiny, iterations: 7 } }), 'test');
    expect(d.runs.map((r) => r.runId).filter((id) => a.runs.some((r) => r.runId === id))).toEqual([]);
    const run = a.runs.find((r) => r.method === 'fixmatch+daso' && r.gammaU === 0.01 && r.seed === 1);
    expect(run?.runId).toMatch(/^fixmatch_daso-gu0\.01-s1-[0-9a-f]{8}$/);
    expect(run?.config).toMatchObject({ algorithm: 'fixmatch', with: ['daso'], gammaU: 0.01, seed: 1, iterations: 6, dasoWarmup: 2, net: 'cnn-small', outDir: 'runs', runId: run?.runId });
    // The option of one method goes only to that method's runs; the shipped preset's schedule stays.
    expect(a.runs.find((r) => r.method === 'fixmatch')?.config).not.toHaveProperty('dasoWarmup');
    expect(a.runs.find((r) => r.method === 'fixmatch')?.config.emaDecay).toBe(0.99);
  });

  it('spells a composition as base+add-on+...: daso is fixmatch+daso', () => {
    expect(parseMethod('daso', 'm')).toEqual({ algorithm: 'fixmatch', with: ['daso'] });
    expect(parseMethod('fixmatch+daso+la', 'm')).toEqual({ algorithm: 'fixmatch', with: ['daso', 'la'] });
    expect(() => def({ methods: ['daso', 'fixmatch+daso'] })).toThrow(/'daso' and 'fixmatch\+daso' are the same method/);
  });

  it('refuses an unknown method, naming it and the known ones', () => {
    expect(() => def({ methods: ['fixmatch', 'fixmatch+dasoo'] })).toThrow(/methods: unknown method 'dasoo' in 'fixmatch\+dasoo'\. Use one of: .*daso/);
  });

  it('refuses a run option no method of the study has, and grid keys in set', async () => {
    const e = await userErrorAsync(planStudy(def({ methods: ['fixmatch'] }), 'cli'));
    expect(e.message).toMatch(/cli: dasoWarmup: applies to none of the study's methods \(fixmatch\); it is an option of daso/);
    expect(() => def({ set: { gammaU: 2 } })).toThrow(/set\.gammaU: is set by the study itself.*gammaU instead/);
    expect(() => def({ set: { iterationz: 2 } })).toThrow(/set\.iterationz: is not a run option/);
  });

  it('reads a study YAML and refuses unknown keys, naming the key', async () => {
    const ok = await loadStudyFile(yaml('study: mismatch\nname: fm\nmethods: [fixmatch, daso]\ngammaU: [100, 1, 0.01]\nseeds: 3\nset:\n  iterations: 6\n'));
    expect(ok).toMatchObject({ kind: 'mismatch', name: 'fm', methods: ['fixmatch', 'daso'], gammaU: [100, 1, 0.01], seeds: [0, 1, 2], set: { iterations: 6 } });
    const unknown = yaml('study: mismatch\nmethods: [fixmatch]\ngammaU: [1]\nseeds: 1\ngamaU: [2]\n');
    expect((await userErrorAsync(loadStudyFile(unknown))).message).toMatch(/study\.yaml: gamaU: is not a study key\. Allowed keys: study, name, methods, gammaU, seeds, set/);
    const runOption = yaml('study: mismatch\nmethods: [fixmatch]\ngammaU: [1]\nseeds: 1\niterations: 5\n');
    expect((await userErrorAsync(loadStudyFile(runOption))).message).toMatch(/iterations: is not a study key\. iterations is a run option: put it under set:/);
    const badMethod = yaml('study: mismatch\nmethods: [nope]\ngammaU: [1]\nseeds: 1\n');
    expect((await userErrorAsync(loadStudyFile(badMethod))).message).toMatch(/study\.yaml: methods: unknown method 'nope'/);
    const badValue = yaml('study: mismatch\nmethods: [fixmatch]\ngammaU: [0]\nseeds: 1\n');
    expect((await userErrorAsync(loadStudyFile(badValue))).message).toMatch(/study\.yaml: gammaU\.0:/);
  });

  it('the shipped pipelines/studies/mismatch-embedded.yaml: FixMatch vs DASO, γ_u 100 / 1 / 1/100, 3 seeds, on the presets\' schedule', async () => {
    const plan = await planStudy(await loadStudyFile(path.join(import.meta.dirname, '..', '..', 'pipelines', 'studies', 'mismatch-embedded.yaml')), 'file: set');
    expect(plan.id).toMatch(/^mismatch-embedded-[0-9a-f]{8}$/);
    expect(plan.runs).toHaveLength(18);
    expect(new Set(plan.runs.map((r) => r.method))).toEqual(new Set(['fixmatch', 'fixmatch+daso']));
    expect(new Set(plan.runs.map((r) => r.gammaU))).toEqual(new Set([100, 1, 0.01]));
    for (const r of plan.runs) expect(r.config).toMatchObject({ dataset: 'fashion-mnist', net: 'cnn-small', iterations: 1600, gammaL: 100, n1: 1500, m1: 3000, emaDecay: 0.99 });
  });

  it('stableJson sorts keys at every level', () => {
    expect(stableJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });
});
