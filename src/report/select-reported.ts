import type { PriorEstimateRecord } from '../eval/prior-estimate.js';
/**
 * How the reported number is picked from a run's evaluations (docs/methods.md §8: record it; never
 * select on the test set).
 *
 * - `median-last-20` (DASO): each metric is the median over the last 20 evaluations (fewer if the
 *   run has fewer). The official code (ytaek-oh/daso `lib/algorithm/base_algorithm.py`,
 *   `lib/utils/meters.py:get_last_n_median` = `np.median(list[-20:])`) takes the median of the
 *   TEST top-1 (and, separately, of validation top-1); numpy's median averages the two middle values
 *   for an even count, and so do we. We apply the same median to every scalar and to each class's
 *   accuracy independently, so the reported balanced accuracy need not equal the mean of the
 *   reported per-class accuracies (each is a median of its own).
 * - `last`: the test metrics of the last evaluation.
 * - `best-val`: the test metrics of the evaluation with the highest VALIDATION balanced accuracy
 *   (the earliest one on ties). Requires validation metrics.
 */
import type { ClassificationMetrics } from '../eval/metrics.js';
import { UserError } from '../errors.js';

export const SELECTION_RULES = ['median-last-20', 'last', 'best-val'] as const;
export type SelectionRule = (typeof SELECTION_RULES)[number];

/** One evaluation (EMA model) of the validation and test splits at a training step. */
export interface EvalRecord {
  /** Training step after which the evaluation ran (1-based count of completed steps). */
  readonly step: number;
  /** Validation metrics; required by `best-val`. */
  readonly val?: ClassificationMetrics;
  readonly test: ClassificationMetrics;
  /** For a model with several class heads: which one `test` is, and every head's test accuracy. */
  readonly heads?: { readonly reported: string; readonly test: Readonly<Record<string, { readonly top1: number; readonly balancedAccuracy: number }>> };
  /** The method's estimates of the unlabeled class prior at this evaluation, by source, with KL to the truth. */
  readonly priors?: Readonly<Record<string, PriorEstimateRecord>>;
}

/** Result of {@link selectReported}. */
export interface Selection {
  readonly rule: SelectionRule;
  /** Number of evaluations the reported values come from (1 for `last` and `best-val`). */
  readonly evaluations: number;
  /** Steps of those evaluations. */
  readonly steps: ReadonlyArray<number>;
  /** Reported test metrics (aggregated per field for the median rule; no confusion matrix). */
  readonly test: ClassificationMetrics;
  /** Validation metrics picked by the same rule, when every used evaluation has them. */
  readonly validation?: ClassificationMetrics;
}

/** numpy.median semantics: middle value, or the mean of the two middle values for an even count. */
export function median(values: ReadonlyArray<number>): number {
  if (values.length === 0) throw new RangeError('median: no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function medianOrNull(values: ReadonlyArray<number | null>): number | null {
  const d = values.filter((v): v is number => v !== null);
  return d.length === 0 ? null : median(d);
}

/** Field-wise median of several evaluations of one split (perClassCount from the last one). */
export function medianMetrics(list: ReadonlyArray<ClassificationMetrics>): ClassificationMetrics {
  if (list.length === 0) throw new RangeError('medianMetrics: no evaluations');
  const last = list[list.length - 1];
  const numClasses = last.perClassAccuracy.length;
  const perClassAccuracy: Array<number | null> = [];
  for (let c = 0; c < numClasses; c++) perClassAccuracy.push(medianOrNull(list.map((m) => m.perClassAccuracy[c] ?? null)));
  return {
    numSamples: last.numSamples,
    top1: median(list.map((m) => m.top1)),
    balancedAccuracy: median(list.map((m) => m.balancedAccuracy)),
    geometricMeanRecall: median(list.map((m) => m.geometricMeanRecall)),
    perClassAccuracy,
    perClassCount: [...last.perClassCount],
  };
}

function withoutConfusion(m: ClassificationMetrics): ClassificationMetrics {
  const { confusion: _confusion, ...rest } = m;
  return rest;
}

/**
 * Picks the reported metrics from a run's evaluations under `rule`.
 * @param evals evaluations in step order (at least one)
 * @param lastN window of the median rule (default 20)
 * @throws UserError for `best-val` without validation metrics; RangeError when `evals` is empty
 */
export function selectReported(evals: ReadonlyArray<EvalRecord>, rule: SelectionRule, lastN = 20): Selection {
  if (evals.length === 0) throw new RangeError('selectReported: no evaluations to select from');
  switch (rule) {
    case 'median-last-20': {
      const used = evals.slice(-lastN);
      const vals = used.map((e) => e.val);
      const allVal = vals.every((v): v is ClassificationMetrics => v !== undefined);
      return {
        rule,
        evaluations: used.length,
        steps: used.map((e) => e.step),
        test: medianMetrics(used.map((e) => e.test)),
        ...(allVal ? { validation: medianMetrics(vals) } : {}),
      };
    }
    case 'last': {
      const e = evals[evals.length - 1];
      return {
        rule,
        evaluations: 1,
        steps: [e.step],
        test: withoutConfusion(e.test),
        ...(e.val ? { validation: withoutConfusion(e.val) } : {}),
      };
    }
    case 'best-val': {
      let best: EvalRecord | undefined;
      for (const e of evals) {
        if (e.val === undefined) {
          throw new UserError(
            'selection',
            `rule 'best-val' needs validation metrics, but the evaluation at step ${e.step} has none`,
            "Keep a validation split (it is on by default) or use --selection median-last-20 or last",
          );
        }
        if (best === undefined || e.val.balancedAccuracy > (best.val as ClassificationMetrics).balancedAccuracy) best = e;
      }
      const b = best as EvalRecord;
      return {
        rule,
        evaluations: 1,
        steps: [b.step],
        test: withoutConfusion(b.test),
        validation: withoutConfusion(b.val as ClassificationMetrics),
      };
    }
    default: {
      const never: never = rule;
      throw new UserError('selection', `unknown rule '${String(never)}'`, `Use one of: ${SELECTION_RULES.join(', ')}`);
    }
  }
}
