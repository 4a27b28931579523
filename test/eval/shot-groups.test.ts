import { describe, expect, it } from 'vitest';
import { assignShotGroups, shotGroupAccuracy, shotGroups } from '../../src/eval/shot-groups.js';

const dasoC10 = [1500, 899, 539, 323, 193, 116, 69, 41, 25, 15]; // docs/methods.md §5, N_1 = 1500, γ = 100

describe('assignShotGroups', () => {
  it('count rule: many > 100, medium 20..100, few < 20 (boundaries inclusive as shot_acc)', () => {
    const a = assignShotGroups(dasoC10, 'count');
    expect(a.many).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.medium).toEqual([6, 7, 8]);
    expect(a.few).toEqual([9]);
    const b = assignShotGroups([101, 100, 20, 19], 'count');
    expect([b.many, b.medium, b.few]).toEqual([[0], [1, 2], [3]]);
  });

  it('count rule can leave a group empty', () => {
    const a = assignShotGroups([5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50], 'count');
    expect(a.few).toEqual([]);
    expect(a.medium).toEqual([8, 9]);
  });

  it('index-thirds uses MiSLAS ranges for C = 10 and 100, floor(C/3) otherwise', () => {
    const c10 = assignShotGroups(dasoC10, 'index-thirds');
    expect([c10.many, c10.medium, c10.few]).toEqual([[0, 1, 2], [3, 4, 5, 6], [7, 8, 9]]);
    const c100 = assignShotGroups(new Array(100).fill(1), 'index-thirds');
    expect([c100.many.length, c100.medium.length, c100.few.length]).toEqual([36, 35, 29]);
    expect([c100.medium[0], c100.few[0]]).toEqual([36, 71]);
    const c7 = assignShotGroups(new Array(7).fill(1), 'index-thirds');
    expect([c7.many, c7.medium, c7.few]).toEqual([[0, 1], [2, 3, 4], [5, 6]]);
  });

  it('rank-thirds sorts by training count, so a reversed class order still finds the tail', () => {
    const a = assignShotGroups([5, 10, 20, 40, 80, 160], 'rank-thirds');
    expect([a.many, a.medium, a.few]).toEqual([[4, 5], [2, 3], [0, 1]]);
  });
});

describe('shotGroupAccuracy', () => {
  it('averages per-class accuracies per group and gives null for an empty group', () => {
    const g = shotGroups([1, 0.8, 0.6, 0.4], [200, 150, 50, 30], 'count');
    expect(g.rule).toBe('count');
    expect(g.groups.many.accuracy).toBeCloseTo(0.9, 12);
    expect(g.groups.medium.accuracy).toBeCloseTo(0.5, 12);
    expect(g.groups.few).toEqual({ classes: [], accuracy: null });
  });

  it('skips classes whose accuracy is undefined', () => {
    const g = shotGroupAccuracy([0.5, null, 1], { rule: 'index-thirds', many: [0, 1], medium: [], few: [2] });
    expect(g.groups.many.accuracy).toBe(0.5);
    expect(g.groups.medium.accuracy).toBeNull();
  });

  it('rejects a length mismatch', () => {
    expect(() => shotGroups([1, 1], [1, 2, 3], 'count')).toThrow(/2 classes/);
  });
});
