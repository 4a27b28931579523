import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { balancedCounts, classCounts, drawLongTailSplit, longTailCounts, splitCounts, type LongTailSplitOptions } from '../../src/data/longtail.js';

/** CIFAR-10-shaped training labels: 5000 per class, classes interleaved. */
function cifar10Labels(perClass = 5000, numClasses = 10): Int32Array {
  const labels = new Int32Array(perClass * numClasses);
  for (let i = 0; i < labels.length; i++) labels[i] = (i * 7) % numClasses;
  return labels;
}

const sum = (a: number[]): number => a.reduce((s, v) => s + v, 0);

const base: LongTailSplitOptions = {
  n1: 1500,
  m1: 3000,
  gammaL: 100,
  gammaU: 100,
  validationPerClass: 500,
  labeledInUnlabeled: false,
  seed: 0,
};

describe('longTailCounts', () => {
  it('matches DASO get_imb_num for N_1=1500, gamma=100 (docs/methods.md §5)', () => {
    expect(longTailCounts(1500, 100, 10)).toEqual([1500, 899, 539, 323, 193, 116, 69, 41, 25, 15]);
  });

  it('gives the totals of docs/methods.md §1/§5', () => {
    expect(sum(longTailCounts(1500, 100, 10))).toBe(3720);
    expect(sum(longTailCounts(500, 100, 10))).toBe(1236);
    expect(sum(longTailCounts(3000, 100, 10))).toBe(7443);
    expect(sum(longTailCounts(4000, 100, 10))).toBe(9922);
    // CIFAR-10-LT / CIFAR-100-LT (LDAM-DRW) totals.
    expect(sum(longTailCounts(5000, 100, 10))).toBe(12406);
    expect(sum(longTailCounts(5000, 50, 10))).toBe(13996);
    expect(sum(longTailCounts(5000, 10, 10))).toBe(20431);
    expect(sum(longTailCounts(500, 100, 100))).toBe(10847);
    expect(sum(longTailCounts(500, 10, 100))).toBe(19573);
  });

  it('reverses the ranks and is uniform at gamma=1', () => {
    expect(longTailCounts(1500, 100, 10, true)).toEqual([15, 25, 41, 69, 116, 193, 323, 539, 899, 1500]);
    expect(longTailCounts(3000, 1, 10)).toEqual(new Array(10).fill(3000));
    expect(longTailCounts(3000, 1, 10, true)).toEqual(new Array(10).fill(3000));
  });
});

describe('drawLongTailSplit', () => {
  const labels = cifar10Labels();

  it('draws exact per-class counts, consistent gamma_u = gamma_l = 100', () => {
    const split = drawLongTailSplit(labels, 10, base);
    const counts = splitCounts(split, labels, 10);
    expect(counts.labeled).toEqual([1500, 899, 539, 323, 193, 116, 69, 41, 25, 15]);
    expect(sum(counts.unlabeled)).toBe(7443);
    expect(counts.unlabeled).toEqual([3000, 1798, 1078, 646, 387, 232, 139, 83, 50, 30]);
    expect(counts.validation).toEqual(new Array(10).fill(500));
  });

  it('the balanced reference: a class-balanced labeled set of the long-tailed total (3720 = 372 × 10), unlabeled unchanged', () => {
    const split = drawLongTailSplit(labels, 10, { ...base, balancedLabeled: true });
    const counts = splitCounts(split, labels, 10);
    expect(counts.labeled).toEqual(new Array(10).fill(372));
    expect(counts.unlabeled).toEqual(splitCounts(drawLongTailSplit(labels, 10, base), labels, 10).unlabeled);
    expect(balancedCounts(1236, 10)).toEqual([124, 124, 124, 124, 124, 124, 123, 123, 123, 123]);
  });

  it('N_1=500, M_1=4000 totals', () => {
    const split = drawLongTailSplit(labels, 10, { ...base, n1: 500, m1: 4000 });
    expect(split.labeled.length).toBe(1236);
    // Values from Python: [int(4000 * (1 / 100) ** (r / 9.0)) for r in range(10)].
    expect(splitCounts(split, labels, 10).unlabeled).toEqual([4000, 2397, 1437, 861, 516, 309, 185, 111, 66, 40]);
    expect(split.unlabeled.length).toBe(9922);
    expect(split.validation.length).toBe(5000);
  });

  it('uniform unlabeled set (gamma_u = 1) has M_1 per class', () => {
    const split = drawLongTailSplit(labels, 10, { ...base, n1: 500, m1: 4000, gammaU: 1 });
    expect(splitCounts(split, labels, 10).unlabeled).toEqual(new Array(10).fill(4000));
  });

  it('reversed unlabeled set (gamma_u = 0.01)', () => {
    const split = drawLongTailSplit(labels, 10, { ...base, gammaU: 0.01 });
    expect(splitCounts(split, labels, 10).unlabeled).toEqual([30, 50, 83, 139, 232, 387, 646, 1078, 1798, 3000]);
  });

  it('keeps labeled, unlabeled and validation disjoint, with in-range indices', () => {
    const split = drawLongTailSplit(labels, 10, { ...base, n1: 500, m1: 4000, gammaU: 1 });
    const seen = new Uint8Array(labels.length);
    for (const set of [split.labeled, split.unlabeled, split.validation]) {
      for (const i of set) {
        expect(seen[i]).toBe(0);
        seen[i] = 1;
      }
    }
    // 500 + 500 + 4000 per class exhausts a 5000-image class in the uniform setting.
    const used = seen.reduce((s, v) => s + v, 0);
    expect(used).toBe(1236 + 40000 + 5000);
  });

  it('same seed, same split; another seed, another split with the same counts', () => {
    const a = drawLongTailSplit(labels, 10, base);
    const b = drawLongTailSplit(labels, 10, base);
    const c = drawLongTailSplit(labels, 10, { ...base, seed: 1 });
    expect(Array.from(a.labeled)).toEqual(Array.from(b.labeled));
    expect(Array.from(a.unlabeled)).toEqual(Array.from(b.unlabeled));
    expect(Array.from(a.validation)).toEqual(Array.from(b.validation));
    expect(Array.from(c.labeled)).not.toEqual(Array.from(a.labeled));
    expect(splitCounts(c, labels, 10)).toEqual(splitCounts(a, labels, 10));
  });

  it('labeledInUnlabeled adds the labeled images to the unlabeled set', () => {
    const plain = drawLongTailSplit(labels, 10, { ...base, gammaU: 1 });
    const both = drawLongTailSplit(labels, 10, { ...base, gammaU: 1, labeledInUnlabeled: true });
    expect(Array.from(both.labeled)).toEqual(Array.from(plain.labeled));
    expect(both.unlabeled.length).toBe(30000 + 3720);
    const unl = new Set(both.unlabeled);
    for (const i of both.labeled) expect(unl.has(i)).toBe(true);
    expect(splitCounts(both, labels, 10).unlabeled).toEqual(
      [1500, 899, 539, 323, 193, 116, 69, 41, 25, 15].map((n) => n + 3000),
    );
  });

  it('labels of each set are what the counts say (indices point at the right class)', () => {
    const split = drawLongTailSplit(labels, 10, base);
    // The labeled set is ordered by class: the first 1500 are class 0.
    for (let k = 0; k < 1500; k++) expect(labels[split.labeled[k]]).toBe(0);
    expect(classCounts(split.labeled, labels, 10)[9]).toBe(15);
  });

  it('rejects bad options naming the field, the value and what is allowed', () => {
    const expectUserError = (opts: Partial<LongTailSplitOptions>, field: string, text: RegExp): void => {
      let err: unknown;
      try {
        drawLongTailSplit(labels, 10, { ...base, ...opts });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).field).toBe(field);
      expect((err as UserError).message).toMatch(text);
    };
    expectUserError({ gammaL: 0 }, 'gammaL', /got 0.*> 0/);
    expectUserError({ gammaU: -1 }, 'gammaU', /got -1/);
    expectUserError({ gammaL: Number.NaN }, 'gammaL', /got NaN/);
    expectUserError({ n1: 6000 }, 'n1', /got 6000.*n1 <= 4500/);
    expectUserError({ n1: 1.5 }, 'n1', /integer >= 1/);
    expectUserError({ m1: 4000 }, 'm1', /got 4000.*m1 <= 3000/);
    expectUserError({ validationPerClass: 5001 }, 'validationPerClass', /at most 5000/);
  });
});
