import * as tf from '@tensorflow/tfjs-core';
import type { AlgorithmState, StepContext, StepPseudoLabels, TrainBatch } from './algorithm.js';
import type { Classifier } from '../models/model.js';
import type { BoundaryContext, BoundaryOutcome, Generation, RunHooks } from './boundary.js';

/**
 * Extension points an add-on may claim for itself alone. Two add-ons (or an add-on and the
 * labeled loss) claiming the same one are refused at config time: logits are adjusted once
 * (adjusting twice double-counts the prior, as a post-hoc adjustment of a Balanced-Softmax model).
 */
export const EXCLUSIVE_POINTS = ['labeled-logits', 'unlabeled-logits', 'strong-logits', 'threshold', 'labeled-weights'] as const;
export type ExclusivePoint = (typeof EXCLUSIVE_POINTS)[number];

/**
 * What the unlabeled extension points see of one step; every tensor is borrowed. A fresh object
 * per step: an add-on that shares work between its points keys it by this object (a WeakMap), so
 * it can never read another step's values (USB's DASO hook reads the previous batch's).
 */
export interface UnlabeledView {
  readonly step: number;
  readonly iterations: number;
  /** [B_u] positions in the unlabeled split (per-sample state). */
  readonly unlabeledPositions: Int32Array;
  /** The base learner's pseudo-label distribution before any add-on [B_u, C], no gradient. */
  readonly probs: tf.Tensor2D;
  /** Student features of the weak views [B_u, D] (gradient flows). */
  readonly featuresWeak: tf.Tensor2D;
  /** Student features of the strong views [B_u, D] (gradient flows). */
  readonly featuresStrong: tf.Tensor2D;
  /** Student logits of the strong views [B_u, C] (gradient flows). */
  readonly logitsStrong: tf.Tensor2D;
  /** The labeled batch of the same forward (ABC trains its head on it). */
  readonly labeled: LabeledView;
  /** The student the features come from (an add-on's auxiliary head is read through it). */
  readonly model: Classifier;
  /**
   * The learner's own distribution alignment took the add-on's `alignmentTemperature` this step
   * (ReMixMatch + CReST+, as rm_crest.py): the add-on must not align the target again.
   */
  readonly alignedByLearner?: boolean;
}

/** The labeled part of a step's forward; every tensor is borrowed. */
export interface LabeledView {
  /** Student features [B_l, D] (gradient flows). */
  readonly features: tf.Tensor2D;
  /** Labels [B_l] int32. */
  readonly labels: tf.Tensor1D;
}

/** A target distribution [B_u, C] -> [B_u, C]; the caller owns the result. */
export type TargetTransform = (target: tf.Tensor2D) => tf.Tensor2D;

/** What the logit points see: the step and the run's length. */
export interface LogitContext {
  readonly step: number;
  readonly iterations: number;
}

/**
 * An add-on to a base learner that makes pseudo-labels (DASO, later LA, ABC, DARP, ...): named,
 * typed extension points instead of a subclass. Every point is optional; the base learner calls
 * them in this order each step, add-ons in their declared (`--with`) order:
 * 1. `prepare` (outside the gradient tape);
 * 2. `adjustLabeledLogits` and `labeledWeights` before the labeled loss, `adjustUnlabeledLogits` on
 *    the weak logits before the pseudo-label distribution is formed;
 * 3. `transformTarget`: each add-on maps the previous target distribution to its own;
 * 4. `thresholds` and `unlabeledWeights` on the final target, and `adjustStrongLogits` on the
 *    logits, for the masked unlabeled loss;
 * 5. `lossTerms`: extra weighted loss terms, added to the total;
 * 6. `pseudoLabelSources`: named pseudo-labels for the quality report;
 * 7. `afterStep` on the read-back pseudo-labels; `state`/`restore` checkpoint what it keeps;
 *    `priorEstimate` is read at each evaluation.
 * Tensors returned from points 2-6 are owned by the step's tape scope.
 */
export interface AddOn {
  readonly name: string;
  /** Names of the pseudo-label sources this add-on contributes (the report lists them). */
  readonly sources?: readonly string[];
  prepare?(batch: TrainBatch, ctx: StepContext): void;
  adjustLabeledLogits?(logits: tf.Tensor2D, ctx: LogitContext): tf.Tensor2D;
  adjustUnlabeledLogits?(logits: tf.Tensor2D, ctx: LogitContext): tf.Tensor2D;
  /**
   * Per-sample weights [B_l] of the labeled loss (SAW), from the labels; the base learner then
   * takes mean_i w_i·CE_i instead of the slot's loss (the add-on's `validate` keeps the slot at ce).
   */
  labeledWeights?(labels: tf.Tensor1D, ctx: LogitContext): tf.Tensor1D;
  /**
   * Per-class weights [C] of the labeled loss (SAW): a learner that weights samples takes w_{y_i}
   * (the chain's `labeledWeights`); a learner on mixed soft labels t takes −Σ_c w_c·t_c·log p_c
   * per row (SAW_SSL train_remix_cifar10.py `SemiLoss`). Exclusive point `labeled-weights`.
   */
  labeledClassWeights?(ctx: LogitContext): tf.Tensor1D;
  /** @param target [B_u, C] probabilities (no gradient); returns [B_u, C] probabilities. */
  transformTarget?(target: tf.Tensor2D, view: UnlabeledView): tf.Tensor2D;
  /**
   * Per-sample confidence thresholds [B_u] for the final target (Adsh's per-class thresholds),
   * replacing the learner's scalar one. Exclusive point `threshold`.
   */
  thresholds?(target: tf.Tensor2D, view: UnlabeledView): tf.Tensor1D;
  /** Per-sample weights [B_u] ≥ 0 multiplying the unlabeled loss (SAW); several add-ons multiply. */
  unlabeledWeights?(target: tf.Tensor2D, view: UnlabeledView): tf.Tensor1D;
  /**
   * Per-class weights [C] ≥ 0 of the unlabeled loss (SAW): a per-sample learner takes the weight
   * of each row's final pseudo-label (folded into the chain's `unlabeledWeights`), a mixed-row
   * learner weights the classes inside its soft cross-entropy. Several add-ons multiply.
   */
  unlabeledClassWeights?(view: UnlabeledView): tf.Tensor1D;
  /**
   * The add-on aligns the target to the labeled distribution (CReST+), at this step's temperature
   * of the target π^t, or null for the learner's own temperature (CReST's constant alignment, as
   * rm_crest.py passes `da_t=None`). A learner with its own distribution alignment (ReMixMatch)
   * aligns once at that temperature instead of twice, and says so in `view.alignedByLearner`.
   * At most one add-on of a run aligns.
   */
  alignmentTemperature?(): number | null;
  /**
   * The logits [B_u, C] the unlabeled loss is taken on, from the strong logits (DebiasPL's
   * adaptive margin, z_strong + τ·log p̂); gradient flows. Exclusive point `strong-logits`.
   */
  adjustStrongLogits?(logitsStrong: tf.Tensor2D, view: UnlabeledView): tf.Tensor2D;
  /**
   * @param others the target transforms of every OTHER add-on of the chain, in order: an add-on
   * with its own pseudo-labels (ABC's balanced head) passes them through DASO's blend this way.
   */
  lossTerms?(view: UnlabeledView, others: TargetTransform): Readonly<Record<string, tf.Scalar>>;
  /** [B_u] int32 per named source; a source may be missing on a step (DASO during warm-up). */
  pseudoLabelSources?(view: UnlabeledView): Readonly<Record<string, tf.Tensor1D>>;
  afterStep?(pseudoLabels: StepPseudoLabels, ctx: StepContext): void;
  /**
   * The add-on's current estimate of the unlabeled class distribution [C] (sums to 1), or null
   * before it has one. The run logs it at each evaluation with its KL to the truth.
   */
  priorEstimate?(): readonly number[] | null;
  /** Completed-step counts (0 < s < iterations) after which `atBoundary` runs; fixed for a run (src/algorithms/boundary.ts). */
  readonly boundaries?: readonly number[];
  /** Work over whole splits between two steps (DARP's estimate, CReST's pseudo-labelling). */
  atBoundary?(ctx: BoundaryContext): BoundaryOutcome | undefined;
  /** The generation in force (CReST), restored by `restore`; at most one add-on of a run has generations. */
  generation?(): Generation;
  state?(): AlgorithmState;
  restore?(state: AlgorithmState): void;
  dispose?(): void;
}

/** Add-ons applied in order, as one object with the same points; what a base learner holds. */
export interface AddOnChain extends RunHooks {
  readonly names: readonly string[];
  prepare(batch: TrainBatch, ctx: StepContext): void;
  adjustLabeledLogits(logits: tf.Tensor2D, ctx: LogitContext): tf.Tensor2D;
  adjustUnlabeledLogits(logits: tf.Tensor2D, ctx: LogitContext): tf.Tensor2D;
  /** The claiming add-on's labeled weights [B_l] (its class weights of each label), or null when none claims them. */
  labeledWeights(labels: tf.Tensor1D, ctx: LogitContext): tf.Tensor1D | null;
  /** The claiming add-on's labeled class weights [C], or null when none gives class weights. */
  labeledClassWeights(ctx: LogitContext): tf.Tensor1D | null;
  /** The product of the add-ons' unlabeled class weights [C], or null when none gives any. */
  unlabeledClassWeights(view: UnlabeledView): tf.Tensor1D | null;
  /**
   * Whether an add-on weights samples other than by class (`labeledWeights`/`unlabeledWeights`):
   * a learner on mixed rows has no sample to apply such a weight to.
   */
  readonly weightsSamples: boolean;
  /** Whether an add-on weights the losses per class (`labeledClassWeights`/`unlabeledClassWeights`). */
  readonly weightsClasses: boolean;
  transformTarget(target: tf.Tensor2D, view: UnlabeledView): tf.Tensor2D;
  /** The claiming add-on's per-sample thresholds [B_u], or `fallback` (the learner's own) when none claims them. */
  thresholds(target: tf.Tensor2D, view: UnlabeledView, fallback: number): tf.Tensor1D | number;
  /** Whether an add-on aligns the target (it has `alignmentTemperature`). */
  readonly aligns: boolean;
  /** The aligning add-on's temperature, or null (none aligns, or it takes the learner's own). */
  alignmentTemperature(): number | null;
  /** The claiming add-on's logits for the unlabeled loss, or the strong logits unchanged. */
  adjustStrongLogits(logitsStrong: tf.Tensor2D, view: UnlabeledView): tf.Tensor2D;
  /** The product of the add-ons' unlabeled weights [B_u] (class weights taken at each row's argmax), or null when none gives any. */
  unlabeledWeights(target: tf.Tensor2D, view: UnlabeledView): tf.Tensor1D | null;
  lossTerms(view: UnlabeledView): Record<string, tf.Scalar>;
  pseudoLabelSources(view: UnlabeledView): Record<string, tf.Tensor1D>;
  afterStep(pseudoLabels: StepPseudoLabels, ctx: StepContext): void;
  /** Each add-on's current estimate of the unlabeled class distribution, by add-on name. */
  priorEstimates(): Record<string, readonly number[]>;
  /** Each add-on's state under `<name>/`: state keys of different add-ons cannot collide. */
  state(): AlgorithmState;
  restore(state: AlgorithmState): void;
  dispose(): void;
}

/** Source names a base learner produces itself; an add-on may not reuse them. */
const BASE_SOURCES = new Set(['final', 'linear']);

/**
 * Composes add-ons in the given order. Loss-term and source names must be unique across the
 * chain (a clash is a programming error, thrown at the step that shows it).
 */
export function composeAddOns(addOns: readonly AddOn[]): AddOnChain {
  const names = addOns.map((a) => a.name);
  if (new Set(names).size !== names.length) throw new Error(`composeAddOns: an add-on appears twice in [${names.join(', ')}]`);
  const generational = addOns.filter((a) => a.generation);
  if (generational.length > 1) throw new Error(`composeAddOns: ${generational.map((a) => a.name).join(' and ')} both cut the run into generations`);
  const aligning = addOns.filter((a) => a.alignmentTemperature);
  if (aligning.length > 1) throw new Error(`composeAddOns: ${aligning.map((a) => a.name).join(' and ')} both align the target`);
  const merge = <T>(what: string, parts: Array<[string, Readonly<Record<string, T>>]>, reserved: ReadonlySet<string>): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [owner, part] of parts) {
      for (const [key, value] of Object.entries(part)) {
        if (key in out || reserved.has(key)) throw new Error(`composeAddOns: ${owner} adds ${what} '${key}', which is already taken`);
        out[key] = value;
      }
    }
    return out;
  };
  return {
    names,
    prepare(batch, ctx) {
      for (const a of addOns) a.prepare?.(batch, ctx);
    },
    adjustLabeledLogits(logits, ctx) {
      return addOns.reduce((z, a) => (a.adjustLabeledLogits ? a.adjustLabeledLogits(z, ctx) : z), logits);
    },
    adjustUnlabeledLogits(logits, ctx) {
      return addOns.reduce((z, a) => (a.adjustUnlabeledLogits ? a.adjustUnlabeledLogits(z, ctx) : z), logits);
    },
    labeledWeights(labels, ctx) {
      const owner = addOns.find((a) => a.labeledWeights || a.labeledClassWeights);
      if (!owner) return null;
      return owner.labeledWeights ? owner.labeledWeights(labels, ctx) : (tf.gather(owner.labeledClassWeights!(ctx), labels) as tf.Tensor1D);
    },
    labeledClassWeights(ctx) {
      const owner = addOns.find((a) => a.labeledClassWeights);
      return owner ? owner.labeledClassWeights!(ctx) : null;
    },
    unlabeledClassWeights(view) {
      const parts = addOns.filter((a) => a.unlabeledClassWeights).map((a) => a.unlabeledClassWeights!(view));
      return parts.length === 0 ? null : parts.reduce((w, p) => tf.mul(w, p) as tf.Tensor1D);
    },
    weightsSamples: addOns.some((a) => a.labeledWeights || a.unlabeledWeights),
    weightsClasses: addOns.some((a) => a.labeledClassWeights || a.unlabeledClassWeights),
    transformTarget(target, view) {
      return addOns.reduce((t, a) => (a.transformTarget ? a.transformTarget(t, view) : t), target);
    },
    thresholds(target, view, fallback) {
      const owner = addOns.find((a) => a.thresholds);
      return owner ? owner.thresholds!(target, view) : fallback;
    },
    aligns: aligning.length > 0,
    alignmentTemperature() {
      return aligning[0]?.alignmentTemperature?.() ?? null;
    },
    adjustStrongLogits(logitsStrong, view) {
      const owner = addOns.find((a) => a.adjustStrongLogits);
      return owner ? owner.adjustStrongLogits!(logitsStrong, view) : logitsStrong;
    },
    unlabeledWeights(target, view) {
      const parts = addOns
        .filter((a) => a.unlabeledWeights || a.unlabeledClassWeights)
        .map((a) => (a.unlabeledWeights ? a.unlabeledWeights(target, view) : weightOfArgmax(target, a.unlabeledClassWeights!(view))));
      return parts.length === 0 ? null : parts.reduce((w, p) => tf.mul(w, p) as tf.Tensor1D);
    },
    lossTerms(view) {
      const othersOf =
        (self: AddOn): TargetTransform =>
        (target) =>
          addOns.reduce((t, a) => (a !== self && a.transformTarget ? a.transformTarget(t, view) : t), target);
      const parts = addOns.filter((a) => a.lossTerms).map((a): [string, Readonly<Record<string, tf.Scalar>>] => [a.name, a.lossTerms!(view, othersOf(a))]);
      return merge('loss term', parts, new Set(['lossLabeled', 'lossUnlabeled', 'maskRate']));
    },
    pseudoLabelSources(view) {
      const parts = addOns
        .filter((a) => a.pseudoLabelSources)
        .map((a): [string, Readonly<Record<string, tf.Tensor1D>>] => [a.name, a.pseudoLabelSources!(view)]);
      return merge('pseudo-label source', parts, BASE_SOURCES);
    },
    afterStep(pseudoLabels, ctx) {
      for (const a of addOns) a.afterStep?.(pseudoLabels, ctx);
    },
    priorEstimates() {
      const out: Record<string, readonly number[]> = {};
      for (const a of addOns) {
        const estimate = a.priorEstimate?.();
        if (estimate) out[a.name] = estimate;
      }
      return out;
    },
    boundaries: [...new Set(addOns.flatMap((a) => a.boundaries ?? []))].sort((x, y) => x - y),
    atBoundary(ctx) {
      let newGeneration = false;
      const records: Record<string, Readonly<Record<string, unknown>>> = {};
      for (const a of addOns) {
        if (!a.atBoundary || !(a.boundaries ?? []).includes(ctx.step)) continue;
        const outcome = a.atBoundary(ctx);
        if (outcome?.newGeneration) newGeneration = true;
        if (outcome?.record) records[a.name] = outcome.record;
      }
      return { newGeneration, records };
    },
    generation() {
      return generational[0]?.generation?.() ?? null;
    },
    state() {
      const json: Record<string, unknown> = {};
      const arrays: Record<string, Float32Array | Int32Array> = {};
      for (const a of addOns) {
        const s = a.state?.();
        if (!s) continue;
        json[a.name] = s.json;
        for (const [k, v] of Object.entries(s.arrays)) arrays[`${a.name}/${k}`] = v;
      }
      return { json, arrays };
    },
    restore(state) {
      for (const a of addOns) {
        if (!a.restore) continue;
        const prefix = `${a.name}/`;
        const arrays: Record<string, Float32Array | Int32Array> = {};
        for (const [k, v] of Object.entries(state.arrays)) if (k.startsWith(prefix)) arrays[k.slice(prefix.length)] = v;
        a.restore({ json: (state.json[a.name] ?? {}) as Record<string, unknown>, arrays });
      }
    },
    dispose() {
      for (const a of addOns) a.dispose?.();
    },
  };
}

/**
 * w_{argmax_c target_ic} per row [B], as Σ_c onehot_ic · w_c: a gather on indices that descend from
 * the student's output has no gradient in tfjs (the tape asks one of its int32 indices).
 */
function weightOfArgmax(target: tf.Tensor2D, classWeights: tf.Tensor1D): tf.Tensor1D {
  return tf.sum(tf.mul(tf.oneHot(tf.argMax(target, 1) as tf.Tensor1D, target.shape[1]), classWeights), 1) as tf.Tensor1D;
}
