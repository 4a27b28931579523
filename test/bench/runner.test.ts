import { describe, expect, it } from 'vitest';
import { interleavedOrder, median, runInterleaved, type BenchRunner } from '../../src/bench/runner.js';

/** A runner that records when it ran and returns a fixed speed. */
function fake(label: string, kind: 'ours' | 'pytorch', calls: string[], opts: { rounds?: number; ips?: number; failIn?: number } = {}): BenchRunner {
  return {
    label,
    kind,
    rounds: opts.rounds ?? 99,
    async round(i) {
      calls.push(`${label}#${i}`);
      if (opts.failIn === i) throw new Error(`${label} broke`);
      return { steps: 2, seconds: 1, imagesPerSecond: (opts.ips ?? 100) + i };
    },
  };
}

describe('interleavedOrder', () => {
  it('runs round r of every runner before round r+1 of any', () => {
    const order = interleavedOrder(
      [
        { label: 'torch', rounds: 3 },
        { label: 'pytorch channels_last', rounds: 3 },
        { label: 'pytorch nchw', rounds: 3 },
      ],
      3,
    ).map((o) => `${o.label}#${o.round}`);
    expect(order).toEqual([
      'torch#1',
      'pytorch channels_last#1',
      'pytorch nchw#1',
      'torch#2',
      'pytorch channels_last#2',
      'pytorch nchw#2',
      'torch#3',
      'pytorch channels_last#3',
      'pytorch nchw#3',
    ]);
  });

  it('drops a runner after its own last round (slow backends take one)', () => {
    const order = interleavedOrder(
      [
        { label: 'torch', rounds: 2 },
        { label: 'cpu', rounds: 1 },
      ],
      2,
    ).map((o) => `${o.label}#${o.round}`);
    expect(order).toEqual(['torch#1', 'cpu#1', 'torch#2']);
  });
});

describe('runInterleaved', () => {
  it('calls the runners in the interleaved order and records every round', async () => {
    const calls: string[] = [];
    const seen: string[] = [];
    const { records, failures } = await runInterleaved(
      [fake('torch', 'ours', calls), fake('pytorch channels_last', 'pytorch', calls), fake('pytorch nchw', 'pytorch', calls)],
      2,
      (r) => seen.push(`${r.label}#${r.round}`),
    );
    expect(calls).toEqual(['torch#1', 'pytorch channels_last#1', 'pytorch nchw#1', 'torch#2', 'pytorch channels_last#2', 'pytorch nchw#2']);
    expect(seen).toEqual(calls);
    expect(failures).toEqual([]);
    expect(records.map((r) => r.imagesPerSecond)).toEqual([101, 101, 101, 102, 102, 102]);
    expect(records[0]).toMatchObject({ kind: 'ours', steps: 2, seconds: 1 });
  });

  it('records a failing runner once and keeps running the others', async () => {
    const calls: string[] = [];
    const { records, failures } = await runInterleaved([fake('wasm', 'ours', calls, { failIn: 1 }), fake('torch', 'ours', calls)], 3);
    expect(calls).toEqual(['wasm#1', 'torch#1', 'torch#2', 'torch#3']);
    expect(failures).toEqual([{ label: 'wasm', kind: 'ours', round: 1, message: 'wasm broke' }]);
    expect(records.map((r) => r.label)).toEqual(['torch', 'torch', 'torch']);
  });

  it('rejects duplicate labels', async () => {
    await expect(runInterleaved([fake('torch', 'ours', []), fake('torch', 'ours', [])], 1)).rejects.toThrow(/duplicate runner label 'torch'/);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([10, 1, 4, 2])).toBe(3);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(/empty/);
  });
});
