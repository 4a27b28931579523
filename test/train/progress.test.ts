import { describe, expect, it } from 'vitest';
import { formatDuration, formatLine } from '../../src/train/progress.js';

describe('progress line', () => {
  it('shows iteration, rate, ETA, losses and mask rate', () => {
    // ETA = (2000 − 120) / 3.1 = 606.45 s -> 10:06
    const line = formatLine({ step: 119, total: 2000, itPerSec: 3.1, terms: { lossLabeled: 0.4123, lossUnlabeled: 0.1, maskRate: 0.61 } });
    expect(line).toBe('it 120/2000  3.10 it/s  ETA 10:06  L_x 0.412 L_u 0.100 mask 61%');
    expect(formatLine({ step: 0, total: 10, itPerSec: 1, terms: { lossLabeled: 1, lr: 0.00001 } })).toMatch(/L_x 1\.000 lr 1\.0e-5$/);
  });

  it('formats durations past an hour', () => {
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(59.6)).toBe('01:00');
  });
});
