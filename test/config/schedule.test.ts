import { describe, expect, it } from 'vitest';
import { resolveRunConfig, shippedPresetLayers } from '../../src/config/run-config.js';
import { scheduleOf, SCHEDULE_KEYS } from '../../src/config/schedule.js';
import { registry } from '../../src/algorithms/index.js';

describe('a run\'s schedule and its baseline', () => {
  it('every "+method" composition of the shipped presets keeps its baseline\'s schedule', async () => {
    const baseline = resolveRunConfig('fixmatch', await shippedPresetLayers({ algorithm: 'fixmatch', with: [] }));
    const base = scheduleOf(baseline);
    expect(base.parent).toBeNull();
    const addOns = registry.all().filter((e) => e.kind === 'add-on').map((e) => e.name);
    expect(addOns.length).toBeGreaterThan(2);
    for (const name of addOns) {
      const c = { algorithm: 'fixmatch', with: [name] };
      const s = scheduleOf(resolveRunConfig(c, await shippedPresetLayers(c)));
      expect(s.parent, name).toBe('fixmatch');
      expect(s.fingerprint, name).toBe(base.fingerprint);
    }
  });

  it('a schedule flag changes the fingerprint; seed and γ_u do not', () => {
    const at = (values: Record<string, unknown>) => scheduleOf(resolveRunConfig('fixmatch', [{ source: 'test', values }])).fingerprint;
    const ref = at({});
    expect(at({ seed: 3, gammaU: 0.01 })).toBe(ref);
    expect(at({ iterations: 77 })).not.toBe(ref);
    expect(at({ labeledLoss: 'focal' })).not.toBe(ref);
    expect(SCHEDULE_KEYS).toContain('emaDecay');
    expect(SCHEDULE_KEYS).not.toContain('seed');
  });
});
