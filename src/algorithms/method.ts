import type * as tf from '@tensorflow/tfjs-core';
import type { OptionSection, SectionValues } from '../options/option-spec.js';
import type { Algorithm } from './algorithm.js';
import type { AddOn, AddOnChain, ExclusivePoint } from './add-on.js';

/**
 * What a method's `create` gets about the run besides its own option values. The unlabeled
 * ground truth is not here: it reaches reporting only, never a method.
 */
export interface RunContext {
  readonly numClasses: number;
  /** Width of the pooled features the model's head reads. */
  readonly featureDim: number;
  /** n_c of the labeled split, [C]. */
  readonly labeledClassCounts: readonly number[];
  /** Size of the unlabeled split (per-sample state is sized by it). */
  readonly numUnlabeled: number;
  /** Total training iterations. */
  readonly iterations: number;
  /** The labeled-loss slot (`--labeled-loss`), bound to the labeled class counts. */
  readonly labeledLoss: LabeledLoss;
}

/** A labeled loss bound to the run's class counts: `(logits [B, C], labels [B]) => scalar`. */
export type LabeledLoss = (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;

/** Facts a method's `resolve` may use to fill data-dependent values (DASO's T_dist 'auto'). */
export interface DataFacts {
  readonly numClasses: number;
  readonly gammaL: number;
  readonly gammaU: number;
  readonly iterations: number;
}

/** A vertical line on the run's learning curves, e.g. where a warm-up ends. */
export interface ChartMarker {
  readonly step: number;
  readonly label: string;
}

/** `base`: an SSL learner that makes pseudo-labels and takes add-ons; `supervised`: labeled data only. */
export type MethodKind = 'base' | 'supervised' | 'add-on';

/** The values of a list of sections, intersected. */
export type SectionsValues<S extends readonly OptionSection[]> = S extends readonly [infer H extends OptionSection, ...infer T extends readonly OptionSection[]]
  ? SectionValues<H> & SectionsValues<T>
  : unknown;

interface EntryCommon<N extends string, S extends readonly OptionSection[]> {
  readonly name: N;
  /** One line for `ssl run --list`. */
  readonly summary: string;
  /** Paper, e.g. "Oh et al., CVPR 2022". */
  readonly paper: string;
  /** The official code this implementation follows, e.g. "ytaek-oh/daso". */
  readonly code: string;
  /** Option sections: the only home of the method's defaults. Shared sections are shared objects. */
  readonly sections: S;
  /** Data-dependent values, filled once the dataset is loaded; must return every key it got. */
  readonly resolve?: (values: SectionsValues<S>, data: DataFacts) => SectionsValues<S>;
  /** Lines drawn on the learning curves. */
  readonly chartMarkers?: (values: SectionsValues<S>) => readonly ChartMarker[];
}

/** A base learner (kind `base` or `supervised`). */
export interface LearnerEntry<N extends string = string, S extends readonly OptionSection[] = readonly OptionSection[]> extends EntryCommon<N, S> {
  readonly kind: 'base' | 'supervised';
  /** Builds the learner; `addOns` is empty for a supervised learner. */
  readonly create: (values: SectionsValues<S>, ctx: RunContext, addOns: AddOnChain) => Algorithm;
}

/** An add-on to base learners that make pseudo-labels. */
export interface AddOnEntry<N extends string = string, S extends readonly OptionSection[] = readonly OptionSection[]> extends EntryCommon<N, S> {
  readonly kind: 'add-on';
  /** The base learner `ssl run <add-on>` composes with (DASO: fixmatch). */
  readonly defaultBase: string;
  /** Extension points it must own alone. */
  readonly claims?: readonly ExclusivePoint[];
  readonly create: (values: SectionsValues<S>, ctx: RunContext) => AddOn;
}

export type MethodEntry = LearnerEntry | AddOnEntry;

/** Declares a base learner; keeps its name and sections as literal types for RunConfig. */
export function defineLearner<const N extends string, const S extends readonly OptionSection[]>(entry: LearnerEntry<N, S>): LearnerEntry<N, S> {
  return entry;
}

/** Declares an add-on; keeps its name and sections as literal types for RunConfig. */
export function defineAddOn<const N extends string, const S extends readonly OptionSection[]>(entry: AddOnEntry<N, S>): AddOnEntry<N, S> {
  return entry;
}
