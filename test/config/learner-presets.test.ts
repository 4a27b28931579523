/** The presets of ACR, SimPro, CPE and CCL: valid, on FixMatch's schedule for the embedded default, each paper's own recipe on CIFAR-10. */
import { describe, expect, it } from 'vitest';
import { resolveRunConfig, shippedPresetLayers } from '../../src/config/run-config.js';
import { scheduleOf } from '../../src/config/schedule.js';

const LEARNERS = ['acr', 'simpro', 'cpe', 'ccl'] as const;

describe('presets of the distribution-agnostic learners', () => {
  it('the embedded presets carry FixMatch\'s schedule exactly (same fingerprint), so a table row compares the method only', async () => {
    const fixmatch = scheduleOf(resolveRunConfig('fixmatch', await shippedPresetLayers({ algorithm: 'fixmatch', with: [] })));
    for (const name of LEARNERS) {
      const config = resolveRunConfig(name, await shippedPresetLayers({ algorithm: name, with: [] }));
      expect(config.algorithm).toBe(name);
      expect(scheduleOf(config).fingerprint, name).toBe(fixmatch.fingerprint);
    }
  });

  it('the CIFAR-10 presets resolve, with the official cosine and each recipe\'s own values', async () => {
    const c10 = async (name: (typeof LEARNERS)[number]) => resolveRunConfig(name, await shippedPresetLayers({ algorithm: name, with: [] }, 'cifar10'));
    const acr = await c10('acr');
    expect(acr).toMatchObject({ lrSchedule: 'fixmatch-cosine', unlabeledRatio: 1, iterations: 250_000, acrEpochSteps: 500, acrEstimateAfter: 5, acrEmaU: 0.99, net: 'wrn-28-2' });
    expect(await c10('simpro')).toMatchObject({ lrSchedule: 'fixmatch-cosine', iterations: 43_000, lr: 0.17, unlabeledRatio: 8, n1: 500, m1: 4000, simproTau: 2 });
    expect(await c10('cpe')).toMatchObject({ lrSchedule: 'fixmatch-cosine', iterations: 262_144, evalEvery: 1024, cpeTau2: 2, cpeReportedExpert: 2 });
    expect(await c10('ccl')).toMatchObject({ lrSchedule: 'fixmatch-cosine', unlabeledRatio: 1, cclEstimateAfter: 20, cclBeta: 0.9 });
  });
});
