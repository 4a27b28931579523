import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runEndToEnd } from '../../src/bench/end-to-end.js';
import { LOOP_PHASES } from '../../src/report/loop-phases.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { testBackend } from '../helpers/cli.js';

let backend: 'torch' | 'cpu' = 'cpu';
beforeAll(async () => {
  backend = await testBackend();
});

const benchDirs = (): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith('ssl-bench-e2e-'));

describe('runEndToEnd', () => {
  it('times the real DASO loop on the preset schedule, accounts for its wall time by phase, and leaves no run behind', async () => {
    const before = benchDirs();
    const report = await runEndToEnd({
      iterations: 12,
      backend,
      dataset: syntheticDataset({ trainPerClass: 60, testPerClass: 20 }),
      overrides: {
        n1: 20, m1: 30, gammaL: 4, validationPerClass: 5, evalEvery: 4, checkpointEvery: 12, labeledBatch: 8,
        plWindow: 4, dasoWarmup: 4, dasoHistogramWindow: 4, workers: 0, progress: 'none',
      },
    });
    expect(report.command).toBe('ssl run daso --gamma-l 4 --gamma-u 1 --iterations 12');
    expect(report.iterations).toBe(12);
    expect(report.fullIterations).toBe(1600);
    expect(report.evaluations).toBe(3);
    expect(report.imagesPerIteration).toBe(8 * (1 + 2 * 2));
    expect(Object.keys(report.phases).sort()).toEqual([...LOOP_PHASES, 'other'].sort());
    for (const phase of ['steps', 'evaluation', 'checkpoints'] as const) expect(report.phases[phase]).toBeGreaterThan(0);
    // The phases cover the loop's wall time: their sum is the loop's seconds up to the setup before the first step.
    const covered = Object.values(report.phases).reduce((a, b) => a + b, 0);
    expect(covered).toBeLessThanOrEqual(report.seconds * 1.05 + 0.05);
    expect(covered).toBeGreaterThan(report.seconds * 0.8);
    expect(report.itPerSec).toBeCloseTo(12 / report.seconds, 6);
    expect(report.stepItPerSec).toBeGreaterThan(report.itPerSec);
    expect(benchDirs()).toEqual(before);
  }, 120_000);
});
