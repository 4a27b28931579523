/** MixMatch and ReMixMatch, alone and with DASO, trained end to end on tiny data. */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveRunConfig, type RunConfig } from '../../src/config/run-config.js';
import { runExperiment } from '../../src/run/run-experiment.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath } from '../../src/train/run-checkpoint.js';
import { TrainingInterrupted } from '../../src/train/interrupted.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { testBackend } from '../helpers/cli.js';

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  backend = await testBackend();
});

function tiny(algorithm: string, withAddOns: string[], outDir: string, extra: Record<string, unknown> = {}): RunConfig {
  return resolveRunConfig({ algorithm, with: withAddOns }, [
    {
      source: 'test',
      values: {
        net: 'cnn-small', backend, n1: 40, m1: 60, gammaL: 4, gammaU: 4, validationPerClass: 10, iterations: 60, evalEvery: 20,
        checkpointEvery: 20, labeledBatch: 16, unlabeledRatio: 1, plWindow: 20, workers: 0, progress: 'none', outDir, selection: 'last',
        ...(withAddOns.includes('daso') ? { dasoWarmup: 20, dasoHistogramWindow: 10 } : {}),
        // MixMatch's L2 loss averages over the classes, so DASO's λ_u = 100 on 10 classes weighs as
        // 40 on these 4; and DASO's 1.6% ramp-up is one step of 60. At 100 from step 1 the
        // consistency term collapses so short a run (balanced accuracy 0.5 after 1.0 at step 20).
        ...(algorithm === 'mixmatch' ? { mixmatchLambdaU: 40, unlabeledRampup: 0.5 } : {}),
        ...extra,
      },
    },
  ]);
}

const quiet = { log: () => {} };

describe('MixMatch and ReMixMatch on tiny data', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['mixmatch', [], ['final', 'linear']],
    ['mixmatch', ['daso'], ['final', 'linear', 'semantic']],
    ['remixmatch', [], ['final', 'linear']],
    ['remixmatch', ['daso'], ['final', 'linear', 'semantic']],
  ];
  for (const [learner, addOns, sources] of cases) {
    const name = [learner, ...addOns].join('+');
    it(`${name} learns: balanced accuracy well above chance, its terms logged, its state checkpointed`, async () => {
      const outDir = mkdtempSync(path.join(tmpdir(), `ssl-${name}-`));
      const result = await runExperiment(tiny(learner, addOns, outDir, { runId: name.replace('+', '-') }), { ...quiet, dataset: syntheticDataset() });
      expect(result.summary.algorithm).toBe(name);
      // Chance is 25% on 4 classes.
      expect(result.summary.final.balancedAccuracy).toBeGreaterThan(0.6);
      expect(Object.keys(result.summary.pseudoLabels?.sources ?? {}).sort()).toEqual(sources);
      const events = readFileSync(path.join(result.runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const [train] = events.filter((e) => e.type === 'train');
      // The mixed labeled cross-entropy starts near ln 4 = 1.386 (near-zero logits against targets
      // that sum to 1); by step 50 it is below (test/algorithms/mix-learners.test.ts follows it step by step).
      expect(train.lossLabeled).toBeLessThan(Math.log(4));
      if (learner === 'remixmatch') expect(Number.isFinite(train.lossKl)).toBe(true);
      if (addOns.includes('daso')) expect(train.lossAlign).toBeGreaterThan(0);
      if (learner === 'remixmatch') {
        expect(train.lossRotation).toBeGreaterThan(0);
        // p̄, the mean prediction the alignment divides by, is ReMixMatch's estimate of the unlabeled prior.
        expect(Object.keys(result.summary.priorEstimates?.sources ?? {})).toContain('remixmatch');
      }
      const ckpt = await loadCheckpoint(checkpointPath(result.runDir));
      if (learner === 'remixmatch') expect(ckpt.arrays['algorithm/remixmatch/alignPosition']).toBeDefined();
      if (addOns.includes('daso')) expect(ckpt.arrays['algorithm/daso/queueBank']).toBeDefined();
    });
  }

  it('ReMixMatch + DASO resumes exactly: alignment queue, DASO state and the views of every step', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'ssl-remixmatch-resume-'));
    const dataset = syntheticDataset();
    const full = await runExperiment(tiny('remixmatch', ['daso'], outDir, { runId: 'full', iterations: 30, evalEvery: 10, checkpointEvery: 10 }), { ...quiet, dataset });
    const cut = tiny('remixmatch', ['daso'], outDir, { runId: 'cut', iterations: 30, evalEvery: 10, checkpointEvery: 10 });
    await expect(
      runExperiment(cut, {
        ...quiet,
        dataset,
        onStep: (step) => {
          if (step === 19) throw new TrainingInterrupted(step);
        },
      }),
    ).rejects.toThrow(TrainingInterrupted);
    const resumed = await runExperiment(cut, { ...quiet, dataset, resumeDir: path.join(outDir, 'cut') });
    expect(resumed.summary.final).toEqual(full.summary.final);
    expect(resumed.summary.pseudoLabels).toEqual(full.summary.pseudoLabels);
  });
});
