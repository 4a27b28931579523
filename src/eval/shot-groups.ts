/**
 * Many / medium / few-shot class groups and their accuracies (docs/methods.md §1).
 *
 * Rules, named in every report because the numbers depend on them:
 * - `count` (classifier-balancing `utils.py:shot_acc`, LADE, TADE): on the TRAINING labeled count
 *   n_c, many = n_c > 100, medium = 20 <= n_c <= 100, few = n_c < 20. On CIFAR-10-LT a group can be
 *   empty (its accuracy is then null, and the report says so).
 * - `index-thirds` (MiSLAS): fixed class-index ranges, which assume class 0 is the head and the last
 *   class the tail: C = 10 -> [0,3) [3,7) [7,10); C = 100 -> [0,36) [36,71) [71,100). For any other C:
 *   [0,k) [k,C-k) [C-k,C) with k = floor(C/3) (which gives MiSLAS's split for C = 10).
 * - `rank-thirds`: the same sizes as `index-thirds` but on classes sorted by training count
 *   (descending, ties by index), for datasets whose class order is not the frequency order.
 * A group's accuracy is the unweighted mean of its classes' per-class accuracies (as shot_acc).
 */
import { meanDefined } from './metrics.js';

/** Names of the grouping rules; see the module comment. */
export const SHOT_RULES = ['count', 'index-thirds', 'rank-thirds'] as const;
export type ShotRule = (typeof SHOT_RULES)[number];

/** One group: its classes (ascending index) and the mean per-class accuracy, null when empty. */
export interface ShotGroup {
  readonly classes: ReadonlyArray<number>;
  /** Mean per-class accuracy of the group, 0..1; null when the group has no class (or no evaluated class). */
  readonly accuracy: number | null;
}

/** Group assignment of all classes under one rule. */
export interface ShotGroups {
  readonly rule: ShotRule;
  readonly groups: { readonly many: ShotGroup; readonly medium: ShotGroup; readonly few: ShotGroup };
}

/** Class lists per group, before accuracies are attached. */
export interface ShotAssignment {
  readonly rule: ShotRule;
  readonly many: ReadonlyArray<number>;
  readonly medium: ReadonlyArray<number>;
  readonly few: ReadonlyArray<number>;
}

/** Thresholds of the `count` rule (defaults 100 and 20, as shot_acc). */
export interface CountThresholds {
  /** many = n_c > manyAbove (default 100). */
  readonly manyAbove?: number;
  /** few = n_c < fewBelow (default 20). */
  readonly fewBelow?: number;
}

const MISLAS_RANGES: Readonly<Record<number, readonly [number, number]>> = {
  // [end of many, end of medium]: MiSLAS's fixed index ranges.
  10: [3, 7],
  100: [36, 71],
};

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i < b; i++) out.push(i);
  return out;
}

/**
 * Assigns every class to many / medium / few under `rule`.
 * @param trainCounts labeled TRAINING count per class, length C (used by `count` and `rank-thirds`)
 */
export function assignShotGroups(
  trainCounts: ReadonlyArray<number>,
  rule: ShotRule,
  thresholds: CountThresholds = {},
): ShotAssignment {
  const numClasses = trainCounts.length;
  if (numClasses === 0) throw new RangeError('assignShotGroups: trainCounts is empty');
  switch (rule) {
    case 'count': {
      const manyAbove = thresholds.manyAbove ?? 100;
      const fewBelow = thresholds.fewBelow ?? 20;
      const many: number[] = [];
      const medium: number[] = [];
      const few: number[] = [];
      trainCounts.forEach((n, c) => {
        if (n > manyAbove) many.push(c);
        else if (n < fewBelow) few.push(c);
        else medium.push(c);
      });
      return { rule, many, medium, few };
    }
    case 'index-thirds': {
      const k = Math.floor(numClasses / 3);
      const [a, b] = MISLAS_RANGES[numClasses] ?? [k, numClasses - k];
      return { rule, many: range(0, a), medium: range(a, b), few: range(b, numClasses) };
    }
    case 'rank-thirds': {
      const k = Math.floor(numClasses / 3);
      const order = range(0, numClasses).sort((x, y) => trainCounts[y] - trainCounts[x] || x - y);
      const asc = (xs: number[]): number[] => xs.sort((x, y) => x - y);
      return {
        rule,
        many: asc(order.slice(0, k)),
        medium: asc(order.slice(k, numClasses - k)),
        few: asc(order.slice(numClasses - k)),
      };
    }
    default: {
      const never: never = rule;
      throw new RangeError(`assignShotGroups: unknown rule '${String(never)}'; valid: ${SHOT_RULES.join(', ')}`);
    }
  }
}

/**
 * Group accuracies: the mean per-class accuracy of each group (null for an empty group, and
 * classes whose accuracy is null are skipped).
 * @param perClassAccuracy length C, fractions 0..1 or null
 */
export function shotGroupAccuracy(
  perClassAccuracy: ReadonlyArray<number | null>,
  assignment: ShotAssignment,
): ShotGroups {
  const group = (classes: ReadonlyArray<number>): ShotGroup => ({
    classes: [...classes],
    accuracy: meanDefined(classes.map((c) => perClassAccuracy[c] ?? null)),
  });
  return {
    rule: assignment.rule,
    groups: { many: group(assignment.many), medium: group(assignment.medium), few: group(assignment.few) },
  };
}

/** Convenience: assign and average in one call. */
export function shotGroups(
  perClassAccuracy: ReadonlyArray<number | null>,
  trainCounts: ReadonlyArray<number>,
  rule: ShotRule,
  thresholds: CountThresholds = {},
): ShotGroups {
  if (perClassAccuracy.length !== trainCounts.length) {
    throw new RangeError(
      `shotGroups: perClassAccuracy has ${perClassAccuracy.length} classes but trainCounts has ${trainCounts.length}`,
    );
  }
  return shotGroupAccuracy(perClassAccuracy, assignShotGroups(trainCounts, rule, thresholds));
}
