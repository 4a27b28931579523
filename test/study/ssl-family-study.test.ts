/** The shipped study of the imbalanced-SSL family plans the table: nine rows × three γ_u, one seed, one schedule. */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadStudyFile } from '../../src/study/definition.js';
import { planStudy } from '../../src/study/plan.js';
import { scheduleOf } from '../../src/config/schedule.js';

describe('pipelines/studies/ssl-family-embedded.yaml', () => {
  it('FixMatch, +DASO, +DASO+LA, +ABC, +DARP, +CReST+, ReMixMatch (+DASO) and FlexMatch at γ_u 100 / 1 / 1/100, seed 0, one schedule', async () => {
    const plan = await planStudy(await loadStudyFile(path.join(import.meta.dirname, '..', '..', 'pipelines', 'studies', 'ssl-family-embedded.yaml')), 'file: set');
    expect(plan.runs).toHaveLength(27);
    expect(new Set(plan.runs.map((r) => r.method))).toEqual(
      new Set(['fixmatch', 'fixmatch+daso', 'fixmatch+daso+la', 'fixmatch+abc', 'fixmatch+darp', 'fixmatch+crest', 'remixmatch', 'remixmatch+daso', 'flexmatch']),
    );
    // γ_u and the seed are not schedule settings: one fingerprint per base learner's family, and
    // the two differ only in μ (DASO runs ReMixMatch at 1 unlabeled image per labeled one, FixMatch at 2).
    const fingerprint = (learner: string) => new Set(plan.runs.filter((r) => r.config.algorithm === learner).map((r) => scheduleOf(r.config).fingerprint));
    for (const learner of ['fixmatch', 'remixmatch', 'flexmatch']) expect(fingerprint(learner).size).toBe(1);
    expect(fingerprint('flexmatch')).toEqual(fingerprint('fixmatch'));
    const { unlabeledRatio: mu, ...rest } = scheduleOf(plan.runs.find((r) => r.method === 'remixmatch')!.config).values as Record<string, unknown>;
    const { unlabeledRatio: fixmatchMu, ...fixmatchRest } = scheduleOf(plan.runs.find((r) => r.method === 'fixmatch')!.config).values as Record<string, unknown>;
    expect([mu, fixmatchMu]).toEqual([1, 2]);
    expect(rest).toEqual(fixmatchRest);
    for (const r of plan.runs) expect(r.config).toMatchObject({ dataset: 'fashion-mnist', net: 'cnn-small', iterations: 1600, gammaL: 100, seed: 0 });
  });
});
