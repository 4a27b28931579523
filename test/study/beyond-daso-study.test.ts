/** The shipped study of the distribution-agnostic learners plans the table: six rows × three γ_u, one seed, one schedule. */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadStudyFile } from '../../src/study/definition.js';
import { planStudy } from '../../src/study/plan.js';
import { scheduleOf } from '../../src/config/schedule.js';

describe('pipelines/studies/beyond-daso-embedded.yaml', () => {
  it('FixMatch, DASO, ACR, SimPro, CPE and CCL at γ_u 100 / 1 / 1/100, seed 0, every run on the same schedule', async () => {
    const plan = await planStudy(await loadStudyFile(path.join(import.meta.dirname, '..', '..', 'pipelines', 'studies', 'beyond-daso-embedded.yaml')), 'file: set');
    expect(plan.runs).toHaveLength(18);
    expect(new Set(plan.runs.map((r) => r.method))).toEqual(new Set(['fixmatch', 'fixmatch+daso', 'acr', 'simpro', 'cpe', 'ccl']));
    expect(new Set(plan.runs.map((r) => r.gammaU))).toEqual(new Set([100, 1, 0.01]));
    // γ_u and the seed are not schedule settings: one fingerprint for all 18 runs.
    expect(new Set(plan.runs.map((r) => scheduleOf(r.config).fingerprint)).size).toBe(1);
    for (const r of plan.runs) expect(r.config).toMatchObject({ dataset: 'fashion-mnist', net: 'cnn-small', iterations: 1600, gammaL: 100, seed: 0, emaDecay: 0.99 });
  });
});
