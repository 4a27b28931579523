/**
 * Work between two training steps that reads whole splits through the EMA model: DARP's estimate
 * of the unlabeled distribution, CReST's pseudo-labelling at the end of a generation. An add-on
 * declares the steps (`boundaries`), the trainer runs `atBoundary` after them, and an add-on with
 * generations (`generation`) tells the trainer which labeled set, model and schedule segment are
 * in force.
 */

/**
 * What `atBoundary` may read. Every prediction is the EMA model's softmax in evaluation mode
 * without augmentation, computed on first request and shared by the add-ons of one boundary.
 * The unlabeled split's labels are not here: they reach reporting only.
 */
export interface BoundaryContext {
  /** Completed steps. */
  readonly step: number;
  readonly iterations: number;
  /** Softmax over the unlabeled split [N_u, C] row-major, in unlabeled-position order (borrowed: do not modify). */
  unlabeledProbs(): Float32Array;
  /**
   * Softmax [N_v, C] and labels [N_v] over the validation split (held-out labeled data, never
   * trained on), or null when the run has no validation split.
   */
  validationProbs(): { readonly probs: Float32Array; readonly labels: Int32Array } | null;
  /** A line for the progress output. */
  log(line: string): void;
}

/** Extra labeled samples: positions in the unlabeled split and the (pseudo-)label each is trained on. */
export interface LabeledAdditions {
  /** [n] positions 0..N_u−1 in the unlabeled split. */
  readonly positions: Int32Array;
  /** [n] class ids. */
  readonly labels: Int32Array;
}

/** What one add-on's boundary work asks of the trainer. */
export interface BoundaryOutcome {
  /**
   * A new generation starts here (CReST): the trainer reads `generation()` for its labeled
   * additions and length, re-initialises model, SGD momentum and EMA model, and restarts the LR
   * schedule and the EMA warm-up at this step.
   */
  readonly newGeneration?: boolean;
  /** JSON-able facts for the run's events (`boundary` event, under the add-on's name). */
  readonly record?: Readonly<Record<string, unknown>>;
}

/** A generation of re-training (CReST): a segment of the run with its own labeled set. */
export interface Generation {
  /** 0-based. */
  readonly index: number;
  /** Its first step (0-based). */
  readonly start: number;
  /** The step after its last one. */
  readonly end: number;
  /** Samples added to the labeled split for this generation (empty in the first). */
  readonly additions: LabeledAdditions;
}

/** The run-level hooks of an algorithm: boundary steps, boundary work, the generation in force. */
export interface RunHooks {
  /** Completed-step counts (0 < s < iterations), increasing, after which `atBoundary` runs. */
  readonly boundaries: readonly number[];
  /** Runs the boundary work of every add-on whose boundaries include `ctx.step`. */
  atBoundary(ctx: BoundaryContext): { readonly newGeneration: boolean; readonly records: Readonly<Record<string, Readonly<Record<string, unknown>>>> };
  /** The generation in force, or null when the run has no generations. */
  generation(): Generation | null;
}
