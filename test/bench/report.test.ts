import { describe, expect, it } from 'vitest';
import { bestOf, formatMemory, formatReport, roundRatios, speedRatio, summarizeRecords, type BenchReport, type OurSummary } from '../../src/bench/report.js';
import type { RoundRecord } from '../../src/bench/runner.js';

const rec = (label: string, kind: 'ours' | 'pytorch', round: number, ips: number): RoundRecord => ({ label, kind, round, steps: 10, seconds: 3200 / ips, imagesPerSecond: ips });

const records: RoundRecord[] = [
  rec('torch', 'ours', 1, 120),
  rec('pytorch channels_last', 'pytorch', 1, 130),
  rec('pytorch nchw', 'pytorch', 1, 100),
  rec('torch', 'ours', 2, 140),
  rec('pytorch channels_last', 'pytorch', 2, 126),
  rec('pytorch nchw', 'pytorch', 2, 110),
  rec('torch', 'ours', 3, 135),
  rec('pytorch channels_last', 'pytorch', 3, 128),
  rec('pytorch nchw', 'pytorch', 3, 90),
];

const MB = 1024 * 1024;

describe('summarizeRecords / bestOf / speedRatio', () => {
  it('takes the median per runner and the ratio to the fastest PyTorch format', () => {
    const s = summarizeRecords(records);
    expect(s.map((x) => [x.label, x.imagesPerSecond])).toEqual([
      ['torch', 135],
      ['pytorch channels_last', 128],
      ['pytorch nchw', 100],
    ]);
    expect(s[0].rounds).toEqual([120, 140, 135]);
    const best = bestOf(s.slice(1));
    expect(best?.label).toBe('pytorch channels_last');
    expect(speedRatio(135, best)).toBeCloseTo(135 / 128, 12);
    expect(speedRatio(135, null)).toBeNull();
    expect(bestOf([])).toBeNull();
  });
});

function ours(rssStart: number, rssEnd: number): OurSummary {
  return {
    label: 'torch',
    backend: 'torch',
    imagesPerSecond: 135,
    rounds: [120, 140, 135],
    steps: 10,
    memoryStart: { rss: rssStart, tfjsTensors: 200, nativeTensors: 210 },
    memoryEnd: { rss: rssEnd, tfjsTensors: 200, nativeTensors: 210 },
    ratio: 135 / 128,
    roundRatios: roundRatios(records, 'torch'),
  };
}

describe('roundRatios', () => {
  it('pairs ours with the faster PyTorch format of the same round', () => {
    const r = roundRatios(records, 'torch');
    expect(r).toHaveLength(3);
    expect(r[0]).toBeCloseTo(120 / 130, 12);
    expect(r[1]).toBeCloseTo(140 / 126, 12);
    expect(r[2]).toBeCloseTo(135 / 128, 12);
    expect(roundRatios(records.filter((x) => x.kind === 'ours'), 'torch')).toEqual([]);
  });
});

describe('formatMemory', () => {
  it('prints RSS start -> end with the relative change and the tensor counts', () => {
    expect(formatMemory(ours(400 * MB, 404 * MB))).toBe(
      'memory torch (first timed round -> after the last round): RSS 400.0 MB -> 404.0 MB (+1.0%); tfjs tensors 200 -> 200; native tensors 210 -> 210',
    );
  });
  it('flags growth above 5%', () => {
    expect(formatMemory(ours(400 * MB, 440 * MB))).toContain('(+10.0%, MORE THAN 5%)');
  });
});

describe('formatReport', () => {
  const s = summarizeRecords(records);
  const report: BenchReport = {
    net: 'wrn-28-2',
    step: 'fixmatch',
    imagesPerStep: 320,
    threads: 2,
    ompWaitPolicy: 'PASSIVE',
    rounds: 3,
    warmup: 3,
    backendNotes: ['torch (libtorch addon, 2 threads); the fastest available'],
    ours: [ours(400 * MB, 401 * MB)],
    unavailable: [{ backend: 'tensorflow', reason: 'not installed' }],
    pytorch: { python: '/usr/bin/python3', version: '1.13.1', threads: 2, ompWaitPolicy: 'PASSIVE', malloc: 'tuned', formats: s.slice(1), best: s[1], rss: { first: 300 * MB, last: 310 * MB } },
    pytorchNote: null,
    records,
    failures: [],
    notes: [],
  };

  it('shows each runner with its median and rounds, and the ratio', () => {
    const text = formatReport(report);
    expect(text).toContain('ssl bench: wrn-28-2, fixmatch step (64 labeled + 128 weak + 128 strong 32x32x3 images = 320 images/step), 2 threads');
    expect(text).toMatch(/ours torch\s+135\.0 {2}120\.0 140\.0 135\.0 {2}\(10 steps each\)/);
    expect(text).toMatch(/pytorch channels_last\s+128\.0/);
    expect(text).toMatch(/pytorch nchw\s+100\.0/);
    expect(text).toContain('PyTorch 1.13.1 (/usr/bin/python3, 2 threads, OMP_WAIT_POLICY PASSIVE, malloc tuned; ours PASSIVE); best format: channels_last');
    // per round: 120/130, 140/126, 135/128
    expect(text).toContain('ratio ours torch / PyTorch best = 1.05; per round 0.92 1.11 1.05 (median 1.05)');
    expect(text).toContain('memory pytorch (its own process, first -> last round): RSS 300.0 MB -> 310.0 MB');
    expect(text).toContain('unavailable tensorflow: not installed');
  });

  it('says why there is no PyTorch reference', () => {
    const text = formatReport({ ...report, pytorch: null, pytorchNote: 'skipped (--no-torch-reference)', ours: [{ ...ours(1, 1), ratio: null }] });
    expect(text).toContain('no PyTorch reference: skipped (--no-torch-reference)');
    expect(text).not.toContain('ratio');
  });
});
