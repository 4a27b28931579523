/**
 * The supervised long-tailed learners end to end on tiny data: each learns, keeps its tensor count
 * flat, and decoupled training's stage 2 changes only what its classifier owns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { resolveRunConfig, type RunConfig } from '../../src/config/run-config.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath } from '../../src/train/run-checkpoint.js';
import { TAU_GRID } from '../../src/algorithms/decoupled/tau-norm.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { writeImageFolder } from '../helpers/image-folder.js';
import { cli, testBackend } from '../helpers/cli.js';
import { expectUserError, userErrorAsync } from '../helpers/user-error.js';

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  backend = await testBackend();
});

/** A tiny config; a key given as undefined is left out (so a learner's implied iterations apply). */
function tiny(algorithm: string, outDir: string, extra: Record<string, unknown> = {}): RunConfig {
  const values: Record<string, unknown> = {
    net: 'cnn-small',
    backend,
    n1: 40,
    m1: 20,
    gammaL: 4,
    validationPerClass: 10,
    iterations: 60,
    evalEvery: 20,
    checkpointEvery: 20,
    labeledBatch: 16,
    workers: 0,
    progress: 'none',
    outDir,
    selection: 'last',
    emaDecay: 0.9,
    ...extra,
  };
  return resolveRunConfig(algorithm, [{ source: 'test', values: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) }]);
}

const quiet = { log: () => {} };
const dataset = syntheticDataset();

/** Runs a config, recording the tensor count after step 10 on. */
async function runFlat(config: RunConfig) {
  const counts: number[] = [];
  const result = await runExperiment(config, { ...quiet, dataset, onStep: (s) => s >= 9 && counts.push(tf.memory().numTensors) });
  return { result, flat: new Set(counts).size <= 1 };
}

describe('supervised long-tailed learners (end to end)', () => {
  it.each([
    ['LDAM-DRW on the cosine head', 'supervised', { labeledLoss: 'ldam', drw: true, lrSchedule: 'step', lrMilestones: [0.7] }],
    ['BBN', 'bbn', {}],
    ['Remix', 'supervised', { remix: true }],
    ['De-confound-TDE', 'supervised', { head: 'tde' }],
    ['CB-focal with its bias init', 'supervised', { labeledLoss: 'cb-focal' }],
  ] as const)('%s learns (balanced accuracy well above the 25%% chance) with a flat tensor count', async (_name, algorithm, extra) => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-lt-'));
    const { result, flat } = await runFlat(tiny(algorithm, outDir, { runId: 'r', ...extra }));
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
    expect(flat).toBe(true);
  });
});

describe('relative accuracy (--balanced-reference)', () => {
  it('trains plain CE and the method on the balanced set of the same size, and reports A_t / max(A_v, A_b)', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-rel-'));
    const { result } = await runFlat(tiny('supervised', outDir, { runId: 'bs', labeledLoss: 'balanced-softmax', balancedReference: true, iterations: 30, evalEvery: 30 }));
    const rel = result.summary.relativeAccuracy;
    expect(rel).toBeDefined();
    if (!rel) return;
    expect(rel.value).toBeCloseTo(rel.testTop1 / Math.max(rel.balancedCeTop1, rel.balancedMethodTop1), 12);
    const refSummary = (id: string) => JSON.parse(readFileSync(path.join(result.runDir, 'references', id, 'summary.json'), 'utf8'));
    const ce = refSummary('ce');
    expect(ce.classCounts.labeled).toEqual([23, 23, 22, 22]); // the 40 + 25 + 15 + 10 = 90 long-tailed images, balanced
    expect(ce.classCounts.labeled.reduce((a: number, b: number) => a + b, 0)).toBe(result.summary.classCounts.labeled.reduce((a, b) => a + b, 0));
    expect(ce.method).toEqual({ algorithm: 'supervised', with: [] });
    expect(rel.balancedCeTop1).toBe(ce.final.top1);
    expect(rel.balancedMethodTop1).toBe(refSummary('method').final.top1);
    expect(readFileSync(path.join(result.runDir, 'summary.md'), 'utf8')).toMatch(/Relative accuracy A_t \/ max\(A_v, A_b\)/);
  });
});

describe('decoupled training (stage 2 on a finished run)', () => {
  let outDir = '';
  let stage1 = '';
  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'ssl-decoupled-'));
    stage1 = (await runExperiment(tiny('supervised', outDir, { runId: 'stage1', iterations: 40 }), { ...quiet, dataset })).runDir;
  });

  const ema = async (runDir: string) => (await loadCheckpoint(checkpointPath(runDir))).arrays;
  const backboneOf = (arrays: Record<string, Float32Array | Int32Array>) =>
    Object.entries(arrays).filter(([k]) => k.startsWith('ema/') && !k.startsWith('ema/classifier.'));

  it('cRT re-trains a fresh head on the frozen backbone (BatchNorm statistics included) and learns', async () => {
    const { result, flat } = await runFlat(tiny('decoupled', outDir, { runId: 'crt', stage1, classifier: 'crt', iterations: 40, sampler: 'class-balanced' }));
    expect(flat).toBe(true);
    const [before, after] = [await ema(stage1), await ema(result.runDir)];
    for (const [k, v] of backboneOf(before)) expect(Array.from(after[k]), k).toEqual(Array.from(v));
    expect(Array.from(after['ema/classifier.classifier.weight'])).not.toEqual(Array.from(before['ema/classifier.classifier.weight']));
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
  });

  it('LWS learns only the per-class scales', async () => {
    const { result } = await runFlat(tiny('decoupled', outDir, { runId: 'lws', stage1, classifier: 'lws', iterations: 20 }));
    const [before, after] = [await ema(stage1), await ema(result.runDir)];
    for (const k of ['ema/classifier.classifier.weight', 'ema/classifier.classifier.bias']) expect(Array.from(after[k])).toEqual(Array.from(before[k]));
    expect(Array.from(after['ema/classifier.classifier.scales']).some((s) => Math.abs(s - 1) > 1e-6)).toBe(true);
  });

  it('τ-norm needs no training: τ searched on validation, recorded, applied to the saved head (bias dropped)', async () => {
    const config = tiny('decoupled', outDir, { runId: 'tau', stage1, classifier: 'tau-norm', iterations: undefined });
    expect(config.iterations).toBe(0);
    const { result } = await runFlat(config);
    const tau = result.summary.lastModel?.finish?.tau as number;
    expect(TAU_GRID).toContain(tau);
    const after = await ema(result.runDir);
    expect(Array.from(after['ema/classifier.classifier.bias']).every((b) => b === 0)).toBe(true);
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.5);
    // Its saved config (iterations 0) resolves again, as ssl eval and --resume read it.
    const saved = JSON.parse(readFileSync(path.join(result.runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(resolveRunConfig({ algorithm: 'decoupled', with: [] }, [{ source: 'saved', values: saved }]).iterations).toBe(0);
    expect(() => tiny('supervised', outDir, { iterations: 0 })).toThrow(/iterations \(--iterations\): is 0, and supervised learns only by training/);
  });

  it('NCM classifies by the class means of the stage-1 features', async () => {
    const { result } = await runFlat(tiny('decoupled', outDir, { runId: 'ncm', stage1, classifier: 'ncm', iterations: undefined }));
    expect(result.summary.iterations).toBe(0);
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
    expect(result.summary.lastModel?.finish).toMatchObject({ ncmMetric: 'centred-l2' });
  });

  it('refuses a missing, an unfinished and a different stage-1 run, naming the problem', async () => {
    const missing = await userErrorAsync(runExperiment(tiny('decoupled', outDir, { runId: 'x1', stage1: path.join(outDir, 'nope') }), { ...quiet, dataset }));
    expect(missing.message).toMatch(/--stage1: .*nope is not a directory/);
    const unfinished = path.join(outDir, 'unfinished');
    mkdirSync(unfinished);
    writeFileSync(path.join(unfinished, 'config.json'), readFileSync(path.join(stage1, 'config.json')));
    expect((await userErrorAsync(runExperiment(tiny('decoupled', outDir, { runId: 'x2', stage1: unfinished }), { ...quiet, dataset }))).message).toMatch(/has not finished/);
    const other = await userErrorAsync(runExperiment(tiny('decoupled', outDir, { runId: 'x3', stage1, gammaL: 8 }), { ...quiet, dataset }));
    expect(other.message).toMatch(/was trained with gammaL = 4, this run has 8/);
    expectUserError(() => tiny('decoupled', outDir, { runId: 'x4' }), /--stage1: is required/);
    expect(() => tiny('decoupled', outDir, { stage1, classifier: 'ncm' })).toThrow(/--iterations: --classifier ncm trains nothing/);
    expect(() => tiny('decoupled', outDir, { stage1, head: 'tde' })).toThrow(/--head: decoupled takes no --head tde/);
    expect(() => tiny('bbn', outDir, { labeledLoss: 'ldam' })).toThrow(/--head: bbn takes no --head cosine \(--loss ldam asks for it\)/);
  });
});

describe('the long-tailed flags through the CLI', () => {
  let dataDir = '';
  beforeAll(async () => {
    dataDir = await writeImageFolder(mkdtempSync(path.join(tmpdir(), 'ssl-lt-data-')), syntheticDataset({ trainPerClass: 60, testPerClass: 20 }));
  });
  const flags = (outDir: string, runId: string): string[] => [
    '--dataset', 'image-folder', '--data-dir', dataDir, '--n1', '20', '--m1', '20', '--gamma-l', '4', '--validation-per-class', '5',
    '--iterations', '6', '--eval-every', '3', '--labeled-batch', '8', '--checkpoint-every', '3', '--workers', '0', '--progress', 'none',
    '--backend', backend, '--out-dir', outDir, '--run-id', runId,
  ];

  it('--loss is --labeled-loss; `ssl run decoupled --stage1 <run>` inherits its data, split and net; ssl eval reads a cosine-head run', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-lt-cli-'));
    const a = await cli('run', 'supervised', '--loss', 'ldam', '--drw', ...flags(outDir, 'ldam'));
    expect(a.code, a.err).toBe(0);
    const config = JSON.parse(readFileSync(path.join(outDir, 'ldam', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ labeledLoss: 'ldam', drw: true, head: 'cosine', lrSchedule: 'step' });
    const b = await cli('run', 'decoupled', '--stage1', path.join(outDir, 'ldam'), '--classifier', 'ncm', '--out-dir', outDir, '--run-id', 'ncm', '--progress', 'none', '--workers', '0', '--backend', backend);
    expect(b.code, b.err).toBe(0);
    const inherited = JSON.parse(readFileSync(path.join(outDir, 'ncm', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(inherited).toMatchObject({ dataset: 'image-folder', dataDir, gammaL: 4, n1: 20, validationPerClass: 5, net: 'cnn-small', iterations: 0 });
    const e = await cli('eval', path.join(outDir, 'ldam'), '--target-dist', 'uniform');
    expect(e.code, e.err).toBe(0);
  });

  it('refuses bad values before any work, naming the flag and what is allowed', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-lt-bad-'));
    const loss = await cli('run', 'supervised', '--loss', 'foo', ...flags(outDir, 'a'));
    expect(loss.code).toBe(2);
    expect(loss.err).toMatch(/labeledLoss.*"foo".*ldam/s);
    const both = await cli('run', 'supervised', '--loss', 'ce', '--labeled-loss', 'lade', ...flags(outDir, 'b'));
    expect(both.err).toMatch(/--loss: says ce but --labeled-loss says lade/);
    const tau = await cli('run', 'decoupled', '--classifier', 'tau-norm', ...flags(outDir, 'c'));
    expect(tau.err).toMatch(/--stage1: is required/);
    const drw = await cli('run', 'supervised', '--drw', '--lr-schedule', 'constant', ...flags(outDir, 'd'));
    expect(drw.err).toMatch(/--drw: switches its weights on at the first LR decay/);
    for (const r of [loss, both, tau, drw]) expect(r.err).not.toMatch(/internal error|at .*\.js/);
  });
});

describe('one process per run directory', () => {
  it('a second run started with the same --run-id while the first trains is refused; the first finishes intact', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-lock-'));
    const config = tiny('supervised', outDir, { runId: 'same', iterations: 20, evalEvery: 20 });
    const first = runExperiment(config, { ...quiet, dataset });
    const second = await userErrorAsync(runExperiment(config, { ...quiet, dataset }));
    expect(second.message).toMatch(/same: is in use by process \d+/);
    const done = await first;
    expect(done.summary.iterations).toBe(20);
    // Released at the end: the finished run can be evaluated, and a new run there is refused as a run, not a lock.
    const third = await userErrorAsync(runExperiment(config, { ...quiet, dataset }));
    expect(third.message).toMatch(/already holds a run/);
  });
});
