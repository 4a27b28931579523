import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { resolveRunConfig, type RunConfig } from '../../src/config/run-config.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { TrainingInterrupted } from '../../src/train/interrupted.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { testBackend } from '../helpers/cli.js';

/** The fastest backend this machine has (CI builds the torch addon). */
let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  backend = await testBackend();
});

function tinyConfig(algorithm: 'fixmatch' | 'daso' | 'supervised', outDir: string, extra: Record<string, unknown> = {}): RunConfig {
  return resolveRunConfig(algorithm, [
    {
      source: 'test',
      values: {
        net: 'cnn-small',
        backend,
        n1: 40,
        m1: 60,
        gammaL: 4,
        gammaU: 1,
        validationPerClass: 10,
        iterations: 60,
        evalEvery: 20,
        checkpointEvery: 20,
        labeledBatch: 16,
        unlabeledRatio: 2,
        plWindow: 20,
        workers: 0,
        progress: 'none',
        outDir,
        selection: 'last',
        ...(algorithm === 'daso' ? { dasoWarmup: 20, dasoHistogramWindow: 10 } : {}),
        ...extra,
      },
    },
  ]);
}

const quiet = { log: () => {} };

describe('ssl run on tiny data (end to end)', () => {
  it('DASO learns: balanced accuracy well above chance, report written, tensors flat', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-e2e-'));
    const dataset = syntheticDataset();
    const counts: number[] = [];
    const result = await runExperiment(tinyConfig('daso', outDir, { runId: 'daso' }), {
      ...quiet,
      dataset,
      onStep: (step) => {
        if (step >= 9) counts.push(tf.memory().numTensors);
      },
    });
    // Chance is 25% on 4 classes.
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
    expect(result.summary.iterations).toBe(60);
    // No tensor growth from step 10 to step 60 (evaluation and checkpoints included).
    expect(new Set(counts).size).toBe(1);
    for (const f of ['config.json', 'environment.json', 'events.jsonl', 'summary.json', 'summary.md', 'report.html', 'checkpoints/last.ckpt']) {
      expect(existsSync(path.join(result.runDir, f)), f).toBe(true);
    }
    const summary = JSON.parse(readFileSync(path.join(result.runDir, 'summary.json'), 'utf8'));
    expect(summary.selection.rule).toBe('last');
    expect(summary.final.ece).toBeGreaterThanOrEqual(0);
    expect(summary.final.ece).toBeLessThanOrEqual(1);
    expect(Object.keys(summary.pseudoLabels.sources).sort()).toEqual(['final', 'linear', 'semantic']);
    // Every summary carries LADE's 11 shifted test sets and DASO's post-hoc LA top-1 of the last model.
    expect(summary.lastModel.shiftedTargets.map((r: { target: string }) => r.target)).toHaveLength(11);
    expect(summary.lastModel.shiftedTargets.find((r: { target: string }) => r.target === 'uniform').images).toBe(160);
    expect(summary.lastModel.top1PostHocLa).toBeGreaterThan(0.25);
    expect(readFileSync(path.join(result.runDir, 'summary.md'), 'utf8')).toMatch(/## Shifted test distributions[^]*\| backward-50 \| \d+ \| [\d.]+% \|/);
  });

  it('the supervised learner with a long-tailed labeled loss and sampler learns, and logs no pseudo-labels', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-e2e-sup-'));
    const config = tinyConfig('supervised', outDir, { runId: 'sup', labeledLoss: 'balanced-softmax', sampler: 'class-balanced' });
    const result = await runExperiment(config, { ...quiet, dataset: syntheticDataset() });
    expect(result.summary.algorithm).toBe('supervised');
    expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
    expect(result.summary.pseudoLabels).toBeUndefined();
    // Balanced Softmax adjusted the logits in training: no post-hoc LA on top (adjust once).
    expect(result.summary.lastModel?.shiftedTargets).toHaveLength(11);
    expect(result.summary.lastModel?.top1PostHocLa).toBeUndefined();
    expect(JSON.parse(readFileSync(path.join(result.runDir, 'config.json'), 'utf8'))).toMatchObject({ algorithm: 'supervised', with: [], labeledLoss: 'balanced-softmax', sampler: 'class-balanced' });
  });

  it('resume after an interruption gives the same metrics as an uninterrupted run', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-resume-'));
    const dataset = syntheticDataset();
    const full = await runExperiment(tinyConfig('daso', outDir, { runId: 'full', iterations: 40 }), { ...quiet, dataset });

    const interrupted = tinyConfig('daso', outDir, { runId: 'cut', iterations: 40 });
    await expect(
      runExperiment(interrupted, {
        ...quiet,
        dataset,
        onStep: (step) => {
          if (step === 19) throw new TrainingInterrupted(step);
        },
      }),
    ).rejects.toThrow(TrainingInterrupted);
    const resumed = await runExperiment(interrupted, { ...quiet, dataset, resumeDir: path.join(outDir, 'cut') });

    expect(resumed.summary.final).toEqual(full.summary.final);
    expect(resumed.summary.pseudoLabels).toEqual(full.summary.pseudoLabels);
    expect(resumed.train.evaluations.map((e) => e.step)).toEqual([20, 40]);

    // Ctrl-C's path: the CLI aborts `stop`; the loop finishes the step, checkpoints off-schedule
    // (step 13) and throws, naming the resume command. Resuming gives the same run again.
    const stopped = tinyConfig('daso', outDir, { runId: 'stopped', iterations: 40 });
    const controller = new AbortController();
    const err = await runExperiment(stopped, { ...quiet, dataset, stop: controller.signal, onStep: (step) => step === 11 && controller.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingInterrupted);
    expect(String(err)).toMatch(/after step 13; the checkpoint is saved, continue with: ssl run --resume .*stopped/);
    const again = await runExperiment(stopped, { ...quiet, dataset, resumeDir: path.join(outDir, 'stopped') });
    expect(again.summary.final).toEqual(full.summary.final);
    expect(again.summary.pseudoLabels).toEqual(full.summary.pseudoLabels);
  });

  it('refuses to resume with a setting that changes the numbers, naming it', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-resume-cfg-'));
    const dataset = syntheticDataset();
    const cfg = tinyConfig('fixmatch', outDir, { runId: 'a', iterations: 20 });
    await runExperiment(cfg, { ...quiet, dataset });
    await expect(runExperiment({ ...cfg, gammaU: 2 }, { ...quiet, dataset, resumeDir: path.join(outDir, 'a') })).rejects.toThrow(/gammaU/);
  });
});
