import { describe, expect, it } from 'vitest';
import { randomSslBatch } from '../../src/bench/random-batch.js';

const tiny = { labeled: 4, unlabeled: 0, height: 8, width: 8, channels: 3, numClasses: 10 };

describe('randomSslBatch', () => {
  it('is deterministic per seed and has the requested shapes', () => {
    const a = randomSslBatch({ ...tiny, unlabeled: 2 }, 7);
    const b = randomSslBatch({ ...tiny, unlabeled: 2 }, 7);
    const c = randomSslBatch({ ...tiny, unlabeled: 2 }, 8);
    expect(a).toEqual(b);
    expect(a.labeledImages).not.toEqual(c.labeledImages);
    expect(a.labeledImages.length).toBe(4 * 8 * 8 * 3);
    expect(a.weakImages.length).toBe(2 * 8 * 8 * 3);
    expect(a.strongImages.length).toBe(2 * 8 * 8 * 3);
    expect(a.labeledLabels.every((y) => y >= 0 && y < 10)).toBe(true);
    expect(new Set(a.labeledImages).size).toBeGreaterThan(100);
  });
});
