/**
 * Pseudo-label quality over windows of training steps, as DASO's `DistributionLogger`
 * (ytaek-oh/daso `lib/utils/dist_logger.py`), on plain typed-array counters.
 *
 * What the official code does, and what we keep:
 * - It banks EVERY unlabeled sample's pseudo-label of the window (the argmax, confident or not;
 *   `pl_confidence` is banked but never used by `write()`), for the final, linear and semantic
 *   pseudo-labels, with the unlabeled ground truth, and `write()`s at every eval period
 *   (`PERIODS.EVAL`, 500 steps in the configs), then resets. Our `all` view is exactly that.
 * - Per class k: recall = P(PL = k | GT = k), precision = P(GT = k | PL = k) (official: -1 when k is
 *   never predicted; here null), gain = #(PL = k) / #(GT = k).
 * - Differences, on purpose: the official mean precision averages the -1 placeholders in; our
 *   `meanPrecision` averages only defined classes. Where a class has no ground-truth sample in the
 *   window, recall and gain are null (official: NaN / ZeroDivisionError).
 * - In addition, when a `confident` mask is given (max prob >= threshold, the samples that enter
 *   the unlabeled loss) a `confident` view counts only those: recall = P(PL = k and confident |
 *   GT = k), precision = P(GT = k | PL = k, confident), gain = #(PL = k, confident) / #(GT = k).
 * - A pseudo-label < 0 means "none for this sample" (DASO's semantic label is -1 during warm-up):
 *   the sample still counts in the ground-truth denominator, as in the official code.
 */

/** One source's observation in one step. Arrays are borrowed and not kept. */
export interface PseudoLabelObservation {
  /** [B] pseudo-label argmax per unlabeled sample; < 0 = no pseudo-label. */
  readonly pseudoLabels: Int32Array;
  /** [B] ground-truth class of each unlabeled sample (known for the benchmark datasets). */
  readonly groundTruth: Int32Array;
  /** [B] optional 1 = confident (entered the loss), 0 = masked out. */
  readonly confident?: Uint8Array;
}

/** Per-class statistics of one view (all pseudo-labels, or only confident ones). */
export interface PseudoLabelClassStats {
  /** #(PL = k) in the window. */
  readonly count: ReadonlyArray<number>;
  /** #(PL = k and GT = k). */
  readonly correct: ReadonlyArray<number>;
  /** P(PL = k | GT = k), 0..1; null when GT = k never occurred. */
  readonly recall: ReadonlyArray<number | null>;
  /** P(GT = k | PL = k), 0..1; null when k was never predicted. */
  readonly precision: ReadonlyArray<number | null>;
  /** #(PL = k) / #(GT = k); null when GT = k never occurred. */
  readonly gain: ReadonlyArray<number | null>;
  /** Mean of the defined recalls, null if none. */
  readonly meanRecall: number | null;
  /** Mean of the defined precisions, null if none (official code averages -1 in; we do not). */
  readonly meanPrecision: number | null;
  /**
   * max / min of the non-zero pseudo-label counts (DASO's `imb_factors/main_pl`); null when no
   * pseudo-label was given.
   */
  readonly imbalanceRatio: number | null;
  /**
   * KL(q || p) in nats between the pseudo-label class distribution q (counts normalised) and the
   * ground-truth distribution p of the same samples: how far the pseudo-labels' class prior is from
   * the true unlabeled prior. null when undefined (no pseudo-label, or q_k > 0 where p_k = 0).
   */
  readonly klToGroundTruth: number | null;
}

/** One source (e.g. 'final') over one window. */
export interface PseudoLabelSourceStats {
  /** Unlabeled samples observed. */
  readonly samples: number;
  /** #(GT = k) over the observed samples. */
  readonly groundTruthCount: ReadonlyArray<number>;
  /** Every pseudo-label, confident or not: DASO's DistributionLogger definition. */
  readonly all: PseudoLabelClassStats;
  /** Only confident pseudo-labels; present when masks were given for every observation of the window. */
  readonly confident?: PseudoLabelClassStats;
  /** Fraction of samples that were confident; present with `confident`. */
  readonly confidentRate?: number;
}

/** Summary of one window. Steps are counted by the tracker: the first recorded step is step 1. */
export interface PseudoLabelWindow {
  /** First step (1-based, inclusive) of the window. */
  readonly startStep: number;
  /** Last step (inclusive). */
  readonly endStep: number;
  readonly numClasses: number;
  readonly sources: Readonly<Record<string, PseudoLabelSourceStats>>;
}

/** Serializable tracker state for checkpoints (plain JSON). */
export interface PseudoLabelTrackerState {
  readonly numClasses: number;
  readonly window: number;
  readonly totalSteps: number;
  readonly stepsInWindow: number;
  readonly sources: Readonly<
    Record<
      string,
      {
        readonly samples: number;
        readonly observations: number;
        readonly maskedObservations: number;
        readonly confidentSamples: number;
        readonly gt: number[];
        readonly count: number[];
        readonly correct: number[];
        readonly confCount: number[];
        readonly confCorrect: number[];
      }
    >
  >;
}

class SourceCounters {
  samples = 0;
  observations = 0;
  maskedObservations = 0;
  confidentSamples = 0;
  readonly gt: Float64Array;
  readonly count: Float64Array;
  readonly correct: Float64Array;
  readonly confCount: Float64Array;
  readonly confCorrect: Float64Array;

  constructor(numClasses: number) {
    this.gt = new Float64Array(numClasses);
    this.count = new Float64Array(numClasses);
    this.correct = new Float64Array(numClasses);
    this.confCount = new Float64Array(numClasses);
    this.confCorrect = new Float64Array(numClasses);
  }
}

function classStats(gt: Float64Array, count: Float64Array, correct: Float64Array): PseudoLabelClassStats {
  const recall: Array<number | null> = [];
  const precision: Array<number | null> = [];
  const gain: Array<number | null> = [];
  for (let k = 0; k < gt.length; k++) {
    recall.push(gt[k] > 0 ? correct[k] / gt[k] : null);
    precision.push(count[k] > 0 ? correct[k] / count[k] : null);
    gain.push(gt[k] > 0 ? count[k] / gt[k] : null);
  }
  const mean = (xs: Array<number | null>): number | null => {
    const d = xs.filter((x): x is number => x !== null);
    return d.length === 0 ? null : d.reduce((a, b) => a + b, 0) / d.length;
  };
  const nonZero = Array.from(count).filter((n) => n > 0);
  const plTotal = nonZero.reduce((a, b) => a + b, 0);
  const gtTotal = gt.reduce((a, b) => a + b, 0);
  let kl: number | null = plTotal > 0 && gtTotal > 0 ? 0 : null;
  for (let k = 0; k < gt.length && kl !== null; k++) {
    if (count[k] === 0) continue;
    if (gt[k] === 0) kl = null;
    else kl += (count[k] / plTotal) * Math.log(count[k] / plTotal / (gt[k] / gtTotal));
  }
  return {
    count: Array.from(count),
    correct: Array.from(correct),
    recall,
    precision,
    gain,
    meanRecall: mean(recall),
    meanPrecision: mean(precision),
    imbalanceRatio: nonZero.length > 0 ? Math.max(...nonZero) / Math.min(...nonZero) : null,
    klToGroundTruth: kl,
  };
}

/**
 * Accumulates pseudo-label observations of named sources ('final', 'linear', 'semantic', ...) and
 * summarises them every `window` steps. Plain counters, no tfjs.
 *
 * Usage per training step: `const w = tracker.recordStep({ final: {...}, linear: {...} })`; when
 * `w` is not null a window just closed (log it). At the end of training `flush()` returns the
 * partial last window (or null).
 */
export class PseudoLabelTracker {
  readonly numClasses: number;
  /** Window length W in steps (default 500, DASO's eval period). */
  readonly window: number;
  private totalSteps = 0;
  private stepsInWindow = 0;
  private sources = new Map<string, SourceCounters>();

  constructor(numClasses: number, window = 500) {
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new RangeError(`PseudoLabelTracker: numClasses must be a positive integer, got ${numClasses}`);
    }
    if (!Number.isInteger(window) || window < 1) {
      throw new RangeError(`PseudoLabelTracker: window must be a positive integer, got ${window}`);
    }
    this.numClasses = numClasses;
    this.window = window;
  }

  /** Adds one source's observation to the current window without advancing the step counter. */
  observe(source: string, obs: PseudoLabelObservation): void {
    const { pseudoLabels, groundTruth, confident } = obs;
    const b = groundTruth.length;
    if (pseudoLabels.length !== b) {
      throw new RangeError(
        `PseudoLabelTracker.observe(${source}): pseudoLabels has ${pseudoLabels.length} entries, groundTruth ${b}`,
      );
    }
    if (confident !== undefined && confident.length !== b) {
      throw new RangeError(
        `PseudoLabelTracker.observe(${source}): confident has ${confident.length} entries, groundTruth ${b}`,
      );
    }
    const C = this.numClasses;
    let s = this.sources.get(source);
    if (s === undefined) {
      s = new SourceCounters(C);
      this.sources.set(source, s);
    }
    for (let i = 0; i < b; i++) {
      const g = groundTruth[i];
      const p = pseudoLabels[i];
      if (g < 0 || g >= C) {
        throw new RangeError(`PseudoLabelTracker.observe(${source}): groundTruth[${i}] = ${g} outside [0, ${C})`);
      }
      if (p >= C) {
        throw new RangeError(`PseudoLabelTracker.observe(${source}): pseudoLabels[${i}] = ${p} >= ${C}`);
      }
      s.gt[g] += 1;
      if (p >= 0) {
        s.count[p] += 1;
        if (p === g) s.correct[p] += 1;
      }
      if (confident !== undefined && confident[i] !== 0) {
        s.confidentSamples += 1;
        if (p >= 0) {
          s.confCount[p] += 1;
          if (p === g) s.confCorrect[p] += 1;
        }
      }
    }
    s.samples += b;
    s.observations += 1;
    if (confident !== undefined) s.maskedObservations += 1;
  }

  /**
   * Records one training step: observes each given source, advances the step counter, and returns
   * the window summary (and resets) when the step completes a window of W steps; else null.
   */
  recordStep(observations: Readonly<Record<string, PseudoLabelObservation>>): PseudoLabelWindow | null {
    for (const [name, obs] of Object.entries(observations)) this.observe(name, obs);
    return this.endStep();
  }

  /** Advances the step counter (after `observe` calls); returns the window summary when it closes. */
  endStep(): PseudoLabelWindow | null {
    this.totalSteps += 1;
    this.stepsInWindow += 1;
    return this.stepsInWindow >= this.window ? this.flush() : null;
  }

  /** Summary of the current (possibly partial) window without resetting; null if no step recorded. */
  peek(): PseudoLabelWindow | null {
    if (this.stepsInWindow === 0) return null;
    const sources: Record<string, PseudoLabelSourceStats> = {};
    for (const [name, s] of this.sources) {
      const withMask = s.observations > 0 && s.maskedObservations === s.observations;
      sources[name] = {
        samples: s.samples,
        groundTruthCount: Array.from(s.gt),
        all: classStats(s.gt, s.count, s.correct),
        ...(withMask
          ? {
              confident: classStats(s.gt, s.confCount, s.confCorrect),
              confidentRate: s.samples > 0 ? s.confidentSamples / s.samples : 0,
            }
          : {}),
      };
    }
    return {
      startStep: this.totalSteps - this.stepsInWindow + 1,
      endStep: this.totalSteps,
      numClasses: this.numClasses,
      sources,
    };
  }

  /** Returns the current window's summary (null if no step was recorded since the last one) and resets. */
  flush(): PseudoLabelWindow | null {
    const w = this.peek();
    this.stepsInWindow = 0;
    this.sources = new Map();
    return w;
  }

  /** Steps recorded since construction (survives `flush` and checkpoints). */
  get steps(): number {
    return this.totalSteps;
  }

  /** A JSON-safe copy of all counters, for checkpoints. */
  state(): PseudoLabelTrackerState {
    const sources: Record<string, PseudoLabelTrackerState['sources'][string]> = {};
    for (const [name, s] of this.sources) {
      sources[name] = {
        samples: s.samples,
        observations: s.observations,
        maskedObservations: s.maskedObservations,
        confidentSamples: s.confidentSamples,
        gt: Array.from(s.gt),
        count: Array.from(s.count),
        correct: Array.from(s.correct),
        confCount: Array.from(s.confCount),
        confCorrect: Array.from(s.confCorrect),
      };
    }
    return {
      numClasses: this.numClasses,
      window: this.window,
      totalSteps: this.totalSteps,
      stepsInWindow: this.stepsInWindow,
      sources,
    };
  }

  /** Rebuilds a tracker from `state()`; the result continues exactly where the saved one stopped. */
  static fromState(state: PseudoLabelTrackerState): PseudoLabelTracker {
    const t = new PseudoLabelTracker(state.numClasses, state.window);
    t.totalSteps = state.totalSteps;
    t.stepsInWindow = state.stepsInWindow;
    for (const [name, s] of Object.entries(state.sources)) {
      const c = new SourceCounters(state.numClasses);
      for (const key of ['gt', 'count', 'correct', 'confCount', 'confCorrect'] as const) {
        if (s[key].length !== state.numClasses) {
          throw new RangeError(
            `PseudoLabelTracker.fromState: sources.${name}.${key} has ${s[key].length} entries, expected ${state.numClasses}`,
          );
        }
        c[key].set(s[key]);
      }
      c.samples = s.samples;
      c.observations = s.observations;
      c.maskedObservations = s.maskedObservations;
      c.confidentSamples = s.confidentSamples;
      t.sources.set(name, c);
    }
    return t;
  }
}
