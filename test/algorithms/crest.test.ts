import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useCpuBackend, expectNoLeak } from '../helpers/tf-cpu.js';
import { expectUserError } from '../helpers/user-error.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import {
  DistributionAligner,
  createCrest,
  generationBoundaries,
  inclusionRates,
  progressiveTemperature,
  selectConfident,
  temperedTarget,
  type UnlabeledView,
} from '../../src/algorithms/index.js';
import { resolveRunConfig, type RunConfig } from '../../src/config/run-config.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { TrainingInterrupted } from '../../src/train/interrupted.js';
import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath } from '../../src/train/run-checkpoint.js';
import { createRunModel } from '../../src/train/training-state.js';
import { generationInitSeed } from '../../src/train/generations.js';
import { testBackend } from '../helpers/cli.js';

beforeAll(useCpuBackend);

describe('CReST\'s inclusion rates μ_k = (n_{C−1−r_k} / n_0)^(1/α)', () => {
  it('matches hand values on a sorted and an unsorted count vector (α = 3)', () => {
    // [40, 25, 15, 10]: class 0 gets (10/40)^(1/3) = 0.629961, class 1 (15/40)^(1/3) = 0.721125,
    // class 2 (25/40)^(1/3) = 0.854988, class 3 (40/40)^(1/3) = 1.
    const sorted = inclusionRates([40, 25, 15, 10], 3);
    [0.6299605249, 0.7211247852, 0.8549879733, 1].forEach((v, k) => expect(sorted[k]).toBeCloseTo(v, 9));
    // [10, 40, 15, 25]: ranks 3, 0, 2, 1 -> class 1 (the head) 0.629961, class 3 0.721125, class 2 0.854988, class 0 (the tail) 1.
    const unsorted = inclusionRates([10, 40, 15, 25], 3);
    [1, 0.6299605249, 0.8549879733, 0.7211247852].forEach((v, k) => expect(unsorted[k]).toBeCloseTo(v, 9));
  });

  it('takes, per predicted class, the ⌊μ_k · #predicted⌋ most confident samples', () => {
    // Predicted class 0: positions 0 (.6), 2 (.9), 5 (.7), 8 (.5) -> ⌊0.5·4⌋ = 2: positions 2, 5.
    // Predicted class 1: 1 (.8), 4 (.5), 9 (.6) -> ⌊1·3⌋ = 3: positions 1, 9, 4.
    // Predicted class 2: 3 (.4), 6 (.9), 7 (.8) -> ⌊0.34·3⌋ = 1: position 6.
    const probs = [
      [0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.9, 0.05, 0.05], [0.3, 0.3, 0.4], [0.3, 0.5, 0.2],
      [0.7, 0.2, 0.1], [0.05, 0.05, 0.9], [0.1, 0.1, 0.8], [0.5, 0.25, 0.25], [0.2, 0.6, 0.2],
    ].flat();
    const s = selectConfident(probs, 3, [0.5, 1, 0.34]);
    expect(Array.from(s.positions)).toEqual([2, 5, 1, 9, 4, 6]);
    expect(Array.from(s.labels)).toEqual([0, 0, 1, 1, 1, 2]);
    expect(s.perClass).toEqual([2, 3, 1]);
    expect(s.predictedPerClass).toEqual([4, 3, 3]);
    // A rate that rounds below one sample adds none (the official `num_selected < 1: continue`).
    expect(selectConfident(probs, 3, [0.2, 0.2, 0.2]).perClass).toEqual([0, 0, 0]);
  });

  it('cuts the run into generations and lowers the alignment temperature over them', () => {
    expect(generationBoundaries(1600, 5)).toEqual([320, 640, 960, 1280]);
    expect(generationBoundaries(10, 3)).toEqual([3, 6]);
    expect(generationBoundaries(10, 1)).toEqual([]);
    // t_g = 1 − f + f·0.5, f = g/4: 1, 0.875, 0.75, 0.625, 0.5.
    expect([0, 1, 2, 3, 4].map((g) => progressiveTemperature(g, 5, 0.5))).toEqual([1, 0.875, 0.75, 0.625, 0.5]);
    expect(progressiveTemperature(0, 1, 0.5)).toBe(1);
    // π = [0.8, 0.2] at t = 0.5: [√0.8, √0.2] / (√0.8 + √0.2) = [2/3, 1/3].
    temperedTarget([40, 10], 0.5).forEach((v, k) => expect(v).toBeCloseTo([2 / 3, 1 / 3][k], 12));
  });
});

describe('distribution alignment (ytaek-oh/daso dist_align.py)', () => {
  it('divides by the mean prediction over the window of batches, this one included', () => {
    const da = new DistributionAligner(2, 2);
    const aligned = (p: number[][]): number[][] =>
      expectNoLeak(() => tf.tidy(() => {
        const out = da.align(tf.tensor2d(p), [0.5, 0.5]).arraySync();
        return out;
      }));
    // Batch 1: p̄ = [0.7, 0.3]; row [0.8, 0.2] -> [0.8/0.7, 0.2/0.3] / Σ = [0.631579, 0.368421]; row [0.6, 0.4] -> [0.391304, 0.608696].
    const a = aligned([[0.8, 0.2], [0.6, 0.4]]);
    expect(a[0][0]).toBeCloseTo(0.631579, 5);
    expect(a[1][0]).toBeCloseTo(0.391304, 5);
    // Batch 2 [0.2, 0.8]: p̄ over both batches = [1.6, 1.4] / 3 = [0.533333, 0.466667];
    // [0.2/0.533333, 0.8/0.466667] = [0.375, 1.714286] -> [0.179487, 0.820513].
    expect(aligned([[0.2, 0.8]])[0][0]).toBeCloseTo(0.179487, 5);
    // Batch 3 pushes batch 1 out of the window of 2: p̄ = ([0.2, 0.8] + [0.5, 0.5]) / 2 = [0.35, 0.65].
    expect(aligned([[0.5, 0.5]])[0][0]).toBeCloseTo((0.5 / 0.35) / (0.5 / 0.35 + 0.5 / 0.65), 5);
    const copy = new DistributionAligner(2, 2);
    copy.restore(da.state());
    expect(copy.mean()).toEqual(da.mean());
  });
});

describe('the CReST add-on', () => {
  const view = (step: number): UnlabeledView => {
    const none = tf.zeros([1, 1]) as tf.Tensor2D;
    return { step, iterations: 10, unlabeledPositions: Int32Array.of(0), probs: none, featuresWeak: none, featuresStrong: none, logitsStrong: none } as UnlabeledView;
  };

  it('starts a generation at each boundary with the picks of the EMA model\'s predictions, and checkpoints them', () => {
    const crest = createCrest({ crestGenerations: 3, crestAlpha: 3, crestAlign: 'progressive', crestTMin: 0.5 }, { numClasses: 2, labeledClassCounts: [8, 1], iterations: 9 });
    expect(crest.boundaries).toEqual([3, 6]);
    expect(crest.generation!()).toEqual({ index: 0, start: 0, end: 3, additions: { positions: new Int32Array(0), labels: new Int32Array(0) } });
    // Rates: class 0 (1/8)^(1/3) = 0.5, class 1 1. Predicted 0: positions 0 (.9), 1 (.6), 3 (.8), 4 (.7) -> 2: 0, 3. Predicted 1: 2 -> 1.
    const probs = Float32Array.from([0.9, 0.1, 0.6, 0.4, 0.3, 0.7, 0.8, 0.2, 0.7, 0.3]);
    const outcome = crest.atBoundary!({ step: 3, iterations: 9, unlabeledProbs: () => probs, validationProbs: () => null, log: () => {} });
    expect(outcome?.newGeneration).toBe(true);
    expect(outcome?.record).toMatchObject({ generation: 1, predictedPerClass: [4, 1], addedPerClass: [2, 1], alignTemperature: 0.75 });
    const g = crest.generation!();
    expect({ index: g.index, start: g.start, end: g.end, positions: Array.from(g.additions.positions), labels: Array.from(g.additions.labels) }).toEqual({ index: 1, start: 3, end: 6, positions: [0, 3, 2], labels: [0, 0, 1] });
    const copy = createCrest({ crestGenerations: 3, crestAlpha: 3, crestAlign: 'progressive', crestTMin: 0.5 }, { numClasses: 2, labeledClassCounts: [8, 1], iterations: 9 });
    const saved = crest.state!();
    copy.restore!({ json: JSON.parse(JSON.stringify(saved.json)) as Record<string, unknown>, arrays: saved.arrays });
    expect(copy.generation!()).toEqual(g);
    // CReST+ in generation 1 of 3 aligns to π^0.75 = [8/9, 1/9]^0.75 normalised.
    const t = expectNoLeak(() => tf.tidy(() => Array.from(copy.transformTarget!(tf.tensor2d([[0.5, 0.5]]), view(4)).dataSync())));
    const target = temperedTarget([8, 1], 0.75);
    expect(t[0]).toBeCloseTo(target[0], 5);
  });

  it('refuses more generations than steps, and ABC beside it; composes with DASO and LA', () => {
    expectUserError(() => resolveRunConfig('crest', [{ source: 'test', values: { iterations: 4, crestGenerations: 5 } }]), /--crest-generations: 5 generations do not fit in 4 steps/);
    expectUserError(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['crest', 'abc'] }, []), /crest and abc cannot be combined: neither paper/);
    expectUserError(() => resolveRunConfig({ algorithm: 'fixmatch', with: ['crest', 'adsh'] }, []), /crest and adsh cannot be combined/);
    expect(resolveRunConfig({ algorithm: 'fixmatch', with: ['crest', 'daso', 'la'] }, []).with).toEqual(['crest', 'daso', 'la']);
    expect(resolveRunConfig({ algorithm: 'fixmatch', with: ['crest', 'saw'] }, []).with).toEqual(['crest', 'saw']);
    expectUserError(() => resolveRunConfig({ algorithm: 'pseudo-label', with: ['crest'] }, []), /crest cannot be added to pseudo-label: CReST's code retrains FixMatch and MixMatch/);
    // A learner without pseudo-labels is refused by the registry, naming the reason.
    expectUserError(() => resolveRunConfig({ algorithm: 'supervised', with: ['crest'] }, []), /crest cannot be added to supervised/);
  });
});

/** A tiny FixMatch + CReST run on the synthetic 4-class data: labeled counts [40, 25, 15, 10], 240 unlabeled. */
function tinyCrest(outDir: string, runId: string, backend: string): RunConfig {
  return resolveRunConfig({ algorithm: 'fixmatch', with: ['crest'] }, [
    {
      source: 'test',
      values: {
        net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 1, validationPerClass: 10, iterations: 40, evalEvery: 20,
        checkpointEvery: 10, labeledBatch: 16, unlabeledRatio: 2, plWindow: 20, workers: 0, progress: 'none', outDir, selection: 'last',
        runId, crestGenerations: 2,
      },
    },
  ]);
}

describe('fixmatch --with crest, two generations on tiny data', () => {
  it('grows the labeled set by the expected per-class amounts, restarts the model, learns, and resumes mid-generation exactly', { timeout: 300_000 }, async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-crest-'));
    const dataset = syntheticDataset();
    // The fastest backend here (the torch engine where built); the unit tests above ran on cpu.
    const backend = await testBackend();
    let atBoundary: ReturnType<typeof decodeCheckpoint> | undefined;
    const counts: number[] = [];
    const config = tinyCrest(outDir, 'full', backend);
    const full = await runExperiment(config, {
      log: () => {},
      dataset,
      // onStep runs after the step's checkpoint: the one of step 20 holds the new generation.
      onStep: (step) => {
        if (step >= 4) counts.push(tf.memory().numTensors);
        if (step === 19) atBoundary = decodeCheckpoint(new Uint8Array(readFileSync(checkpointPath(path.join(outDir, 'full')))), 'ckpt');
      },
    });
    const gens = full.summary.generations!;
    expect(gens.map((g) => [g.index, g.startStep, g.endStep])).toEqual([[0, 0, 20], [1, 20, 40]]);
    expect(gens[0].addedPerClass).toEqual([0, 0, 0, 0]);
    expect(gens[0].labeledPerClass).toEqual([40, 25, 15, 10]);
    // What the boundary saw: the EMA model's predicted class counts over the 240 unlabeled images.
    const events = readFileSync(path.join(full.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const boundary = events.find((e) => e.type === 'boundary') as { step: number; crest: { predictedPerClass: number[]; addedPerClass: number[] } };
    expect(boundary.step).toBe(20);
    const predicted = boundary.crest.predictedPerClass;
    expect(predicted.reduce((a, b) => a + b, 0)).toBe(240);
    // Expected additions ⌊μ_k · predicted_k⌋ with the hand rates of [40, 25, 15, 10] (first test).
    const expected = [0.6299605249, 0.7211247852, 0.8549879733, 1].map((r, k) => Math.floor(r * predicted[k]));
    expect(gens[1].addedPerClass).toEqual(expected);
    expect(boundary.crest.addedPerClass).toEqual(expected);
    expect(gens[1].labeledPerClass).toEqual([40, 25, 15, 10].map((n, k) => n + expected[k]));
    expect(expected.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // The picks are mostly right on this easy data.
    gens[1].addedPrecision.forEach((p, k) => expected[k] > 0 && expect(p!).toBeGreaterThan(0.5));
    expect(events.filter((e) => e.type === 'generation').map((e) => e.step)).toEqual([0, 20]);
    // report.md tabulates the generations: the second adds `expected` with its precision.
    const report = readFileSync(path.join(full.runDir, 'report.md'), 'utf8');
    expect(report).toContain('## Generations (CReST)');
    expect(report).toMatch(/\| 1 \| 0–20 \| 90 \| 0 \| 0 \| 0 \| 0 \|/);
    expect(report).toContain(`| 2 | 20–40 | ${90 + expected.reduce((a, b) => a + b, 0)} |`);

    // The checkpoint at the boundary holds a freshly initialised student, its EMA copy and zero momentum.
    const fresh = createRunModel({ ...config, seed: generationInitSeed(config.seed, 1) }, { numClasses: 4, inputChannels: 1 });
    try {
      for (const { name, variable } of [...fresh.params, ...fresh.buffers]) {
        const values = Array.from(variable.dataSync());
        expect(Array.from(atBoundary!.arrays[`model/${name}`]), name).toEqual(values);
        expect(Array.from(atBoundary!.arrays[`ema/${name}`]), name).toEqual(values);
      }
    } finally {
      fresh.dispose();
    }
    expect(Object.entries(atBoundary!.arrays).filter(([k]) => k.startsWith('velocity/')).every(([, v]) => v.every((x) => x === 0))).toBe(true);
    expect(Array.from(atBoundary!.arrays['algorithm/crest/additionLabels']).length).toBe(expected.reduce((a, b) => a + b, 0));

    // No tensor growth across the boundary's predictions and re-initialisation.
    expect(new Set(counts).size).toBe(1);
    // The second generation learns from scratch in 20 steps (chance is 25%).
    expect(full.summary.final.balancedAccuracy).toBeGreaterThan(0.5);

    // Interrupted mid-generation (after the checkpoint of step 30) and resumed: the same run.
    const cut = tinyCrest(outDir, 'cut', backend);
    await expect(runExperiment(cut, { log: () => {}, dataset, onStep: (step) => { if (step === 29) throw new TrainingInterrupted(step); } })).rejects.toThrow(TrainingInterrupted);
    const resumed = await runExperiment(cut, { log: () => {}, dataset, resumeDir: path.join(outDir, 'cut') });
    expect(resumed.summary.final).toEqual(full.summary.final);
    expect(resumed.summary.generations).toEqual(full.summary.generations);
    expect(resumed.summary.pseudoLabels).toEqual(full.summary.pseudoLabels);
  });
});
