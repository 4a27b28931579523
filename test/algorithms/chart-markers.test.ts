/** The learning-curve markers methods draw from their options and the run's length. */
import { describe, expect, it } from 'vitest';
import { registry } from '../../src/algorithms/index.js';
import { resolveRunConfig, type RunConfig } from '../../src/config/run-config.js';

function config(algorithm: string, withAddOns: string[], values: Record<string, unknown> = {}): RunConfig {
  return resolveRunConfig({ algorithm, with: withAddOns }, [{ source: 'test', values: { net: 'cnn-small', iterations: 10, ...values } }]);
}

describe('chart markers of DARP and CReST', () => {
  it('DARP marks the end of its warm-up, CReST the start of each generation after the first', () => {
    // ⌊1000 · 0.4⌋ = 400; 5 generations of 1000: 200, 400, 600, 800.
    expect(registry.chartMarkers(config('fixmatch', ['darp'], { iterations: 1000 }))).toEqual([{ step: 400, label: 'DARP warm-up ends' }]);
    expect(registry.chartMarkers(config('fixmatch', ['crest'], { iterations: 1000 }))).toEqual([200, 400, 600, 800].map((step, g) => ({ step, label: `CReST generation ${g + 2}` })));
  });
});
