import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findTorchPython, parseTorchScriptLine, referenceEnv, startTorchReference, torchScriptPath } from '../../src/bench/torch-reference.js';

describe('parseTorchScriptLine', () => {
  it('reads the ready and round lines of scripts/bench_torch.py', () => {
    expect(
      parseTorchScriptLine('{"event": "ready", "torch": "1.13.0", "threads": 2, "ompWaitPolicy": "PASSIVE", "net": "cnn-small", "step": "fixmatch", "formats": ["channels_last", "nchw"], "warmup": 3, "imagesPerStep": 320}'),
    ).toEqual({ event: 'ready', torch: '1.13.0', threads: 2, formats: ['channels_last', 'nchw'], imagesPerStep: 320, warmup: 3, ompWaitPolicy: 'PASSIVE' });
    expect(parseTorchScriptLine('{"event": "round", "format": "nchw", "round": 2, "steps": 10, "seconds": 4.0, "imagesPerSecond": 800.0}')).toEqual({
      event: 'round',
      format: 'nchw',
      round: 2,
      steps: 10,
      seconds: 4,
      imagesPerSecond: 800,
    });
    expect(parseTorchScriptLine('{"event": "round", "format": "nchw", "round": 1, "steps": 1, "seconds": 2, "imagesPerSecond": 160, "rss": 1048576}')).toMatchObject({ rss: 1048576 });
    expect(parseTorchScriptLine('{"event": "error", "message": "unknown format"}')).toEqual({ event: 'error', message: 'unknown format' });
  });

  it('rejects lines that are not the protocol, naming the line', () => {
    expect(() => parseTorchScriptLine('Traceback (most recent call last):')).toThrow(/not JSON: Traceback/);
    expect(() => parseTorchScriptLine('{"event": "round", "format": "nchw", "steps": 10}')).toThrow(/'seconds' missing/);
    expect(() => parseTorchScriptLine('{"event": "done"}')).toThrow(/unknown event/);
  });
});

describe('referenceEnv', () => {
  it('tuned malloc keeps freed memory for reuse; stock leaves malloc alone; both share our OpenMP wait policy', () => {
    const omp = process.env.OMP_WAIT_POLICY ?? 'PASSIVE';
    expect(referenceEnv('tuned')).toEqual({ OMP_WAIT_POLICY: omp, MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '68719476736' });
    expect(referenceEnv('stock')).toEqual({ OMP_WAIT_POLICY: omp });
  });
});

describe('findTorchPython', () => {
  it('explains why each candidate failed', () => {
    const probe = findTorchPython(['/nonexistent/python3']);
    expect(probe).toEqual({ python: null, reason: '/nonexistent/python3: not found' });
  });
});

describe('the shipped reference script', () => {
  it('lives in scripts/ of the package', () => {
    expect(torchScriptPath().endsWith('scripts/bench_torch.py')).toBe(true);
    expect(existsSync(torchScriptPath())).toBe(true);
  });

  const probe = findTorchPython();
  const python = probe.python;
  it.skipIf(python === null)('serves interleaved rounds over stdin (cnn-small, 1 step per round)', async () => {
    const ref = await startTorchReference({ python: python as string, net: 'cnn-small', step: 'supervised', threads: 1, steps: 1, rounds: 2, warmup: 0 });
    try {
      expect(ref.threads).toBe(1);
      // The same libgomp wait policy as our torch backend (src/backend/torch/addon.ts).
      expect(ref.ompWaitPolicy).toBe(process.env.OMP_WAIT_POLICY ?? 'PASSIVE');
      expect(ref.runners.map((r) => r.label)).toEqual(['pytorch channels_last', 'pytorch nchw']);
      const a = await ref.runners[1].round(1);
      const b = await ref.runners[0].round(1);
      for (const r of [a, b]) {
        expect(r.steps).toBe(1);
        expect(r.seconds).toBeGreaterThan(0);
        expect(r.imagesPerSecond).toBeCloseTo(64 / r.seconds, 6);
        expect(r.rss).toBeGreaterThan(50 * 1024 * 1024);
      }
    } finally {
      await ref.close();
    }
  });
  if (python === null) it.skip(`PyTorch reference (no Python imports torch: ${probe.reason})`, () => {});
});
