import type * as tf from '@tensorflow/tfjs-core';
import type { OptionSection, SectionValues } from '../options/option-spec.js';
import type { AuxHeadSpec, Classifier } from '../models/model.js';
import type { HeadSpec } from '../models/heads.js';
import { UserError } from '../errors.js';
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
  /** Run seed: a method's random draws are functions of it and the step (resume-safe). */
  readonly seed: number;
}

/**
 * A labeled loss bound to the run's class counts: `(logits [B, C], labels [B], step) => scalar`.
 * The step matters to DRW (weights from the first LR decay) and equalization (draws per step).
 */
export type LabeledLoss = (logits: tf.Tensor2D, labels: tf.Tensor1D, step: number) => tf.Scalar;

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
  /** Lines drawn on the learning curves; `run.iterations` is the run's length. */
  readonly chartMarkers?: (values: SectionsValues<S>, run: { readonly iterations: number }) => readonly ChartMarker[];
  /** Refuses, with a UserError, values that cannot work with the rest of the config (before any work). */
  readonly validate?: (values: SectionsValues<S>, config: Readonly<Record<string, unknown>>) => void;
}

/**
 * The model a method needs besides `--net` with `--head`: a learner's own head (BBN's two
 * branches, a stage-2 head), and auxiliary heads of learners and add-ons (ABC's balanced head,
 * ReMixMatch's rotation head), one of which may be the reported one.
 */
export interface ModelNeeds {
  readonly head?: HeadSpec;
  readonly bbn?: boolean;
  /** Auxiliary heads; `outputs: 'classes'` is a head of the run's classes (scored at evaluation), a number a head of another task. */
  readonly auxHeads?: readonly (Omit<AuxHeadSpec, 'outputs' | 'predictsClasses'> & { readonly outputs: number | 'classes' })[];
  /** The auxiliary head evaluation reports (ABC: its balanced head); at most one per run. */
  readonly reportedHead?: string;
}

/**
 * What a base learner offers the add-ons, each said as the reason an add-on needs it: an add-on
 * that requires one is refused on a learner without it, and the message names why.
 */
export const LEARNER_CAPABILITIES = {
  'pseudo-label-target': 'forms a pseudo-label distribution from weak views, which add-ons may transform',
  'confidence-threshold': 'masks its pseudo-labels by a confidence threshold, which add-ons may set per sample',
  'unlabeled-sample-weights': 'sums a per-sample unlabeled loss, which add-ons may weight',
  'labeled-sample-weights': 'takes its labeled loss from the slot, which add-ons may weight per sample',
  'class-loss-weights': 'weights its labeled and unlabeled losses per class, which add-ons may set (a sample by its label or pseudo-label, a mixed row inside its soft target)',
  'weak-strong-views': 'runs the student on a weak and a strong view of each unlabeled image and shows add-ons both',
  'unlabeled-logits-loss': 'takes its unlabeled loss as a cross-entropy on the student\'s logits, which add-ons may shift',
} as const;
export type LearnerCapability = keyof typeof LEARNER_CAPABILITIES;

/** Views per unlabeled image a learner's step trains on (see `LearnerEntry.unlabeledViews`). */
export interface UnlabeledViews {
  /** Weak views, at least 1. */
  readonly weak: number;
  /** Strong views, 0 or more. */
  readonly strong: number;
}

/** One weak and one strong view of each unlabeled image: FixMatch's, and the default. */
export const ONE_VIEW_EACH: UnlabeledViews = { weak: 1, strong: 1 };

/** A learner that continues a finished run (decoupled training's stage 2). */
export interface StartsFrom<V = Record<string, unknown>> {
  /** The option holding the stage-1 run directory. */
  readonly option: string;
  /** Settings that must equal the stage-1 run's (data, split, net); inherited when not given. */
  readonly sameAs: readonly string[];
  /** Keep the stage-1 head's variables (LWS, τ-norm) instead of a fresh head (cRT, NCM). */
  readonly keepHead: (values: V) => boolean;
}

/** What a learner's `finish` may read: fixed image sets through a model, without augmentation. */
export interface FinishContext {
  /** The student and the EMA model; `finish` must leave both with the same head. */
  readonly models: readonly Classifier[];
  /** Features [n, featureDim] row-major and labels of the labeled split under `model` (eval mode). */
  labeledFeatures(model: Classifier): { readonly features: Float32Array; readonly labels: Int32Array };
  /** Balanced accuracy of `model` on the validation split, or null when the run has none. */
  validationAccuracy(model: Classifier): number | null;
  log(line: string): void;
}

/** A base learner (kind `base` or `supervised`). */
export interface LearnerEntry<N extends string = string, S extends readonly OptionSection[] = readonly OptionSection[]> extends EntryCommon<N, S> {
  readonly kind: 'base' | 'supervised';
  /** Builds the learner; `addOns` is empty for a supervised learner. */
  readonly create: (values: SectionsValues<S>, ctx: RunContext, addOns: AddOnChain) => Algorithm;
  /** A model other than the plain one. */
  readonly model?: (values: SectionsValues<S>) => ModelNeeds;
  /** What the learner offers add-ons (kind `base`); an add-on requiring what it lacks is refused. */
  readonly capabilities?: readonly LearnerCapability[];
  /**
   * Exclusive extension points the learner fills itself (SimPro adjusts its labeled and unlabeled
   * logits by its estimated priors): an add-on or a labeled loss claiming one is refused.
   */
  readonly claims?: readonly ExclusivePoint[];
  /** Starts from a finished run's evaluated (EMA) model. */
  readonly startsFrom?: StartsFrom<SectionsValues<S>>;
  /** The run length the learner implies when no preset or flag sets `iterations` (τ-norm, NCM: 0), and how `--help` says it. */
  readonly iterations?: { readonly of: (values: SectionsValues<S>) => number; readonly describe: string };
  /**
   * How many weak and strong views of each unlabeled image the step needs (default one of each):
   * MixMatch K weak and no strong, ReMixMatch one weak and K strong. The trainer feeds them as
   * `weakImages` + `extraWeakImages` and `strongImages` + `extraStrongImages`.
   */
  readonly unlabeledViews?: (values: SectionsValues<S>) => UnlabeledViews;
  /** Labeled samplers of the step, each drawing one batch; the batch is their concatenation (BBN: the slot's and reversed). */
  readonly labeledSamplers?: (values: SectionsValues<S>, slotSampler: string) => readonly string[];
  /** Work after the last step, before the final evaluation (τ-norm's search, NCM's class means); returns what to record. */
  readonly finish?: (values: SectionsValues<S>, ctx: FinishContext) => Readonly<Record<string, number | string>>;
}

/** An add-on to base learners that make pseudo-labels. */
export interface AddOnEntry<N extends string = string, S extends readonly OptionSection[] = readonly OptionSection[]> extends EntryCommon<N, S> {
  readonly kind: 'add-on';
  /** The base learner `ssl run <add-on>` composes with (DASO: fixmatch). */
  readonly defaultBase: string;
  /** Extension points it must own alone. */
  readonly claims?: readonly ExclusivePoint[];
  /** What the base learner must offer (see `LEARNER_CAPABILITIES`). */
  readonly requires?: readonly LearnerCapability[];
  /** The base learners the paper and official code pair it with, said when a learner is refused ("Adsh runs on FixMatch only ..."). */
  readonly pairedWith?: string;
  /** Auxiliary heads the add-on adds to the model (ABC's balanced head). */
  readonly model?: (values: SectionsValues<S>) => ModelNeeds;
  readonly create: (values: SectionsValues<S>, ctx: RunContext) => AddOn;
}

export type MethodEntry = LearnerEntry | AddOnEntry;

/** Refuses `--head` other than linear for a learner that builds its own head (BBN, decoupled). */
export function assertLinearHead(learner: string, why: string, config: Readonly<Record<string, unknown>>): void {
  if (config.head !== 'linear') {
    const cause = config.head === 'cosine' && config.labeledLoss === 'ldam' ? ' (--loss ldam asks for it)' : '';
    throw new UserError('--head', `${learner} takes no --head ${String(config.head)}${cause}: ${why}`, 'Drop --head (and use another --loss than ldam).');
  }
}

/** Declares a base learner; keeps its name and sections as literal types for RunConfig. */
export function defineLearner<const N extends string, const S extends readonly OptionSection[]>(entry: LearnerEntry<N, S>): LearnerEntry<N, S> {
  return entry;
}

/** Declares an add-on; keeps its name and sections as literal types for RunConfig. */
export function defineAddOn<const N extends string, const S extends readonly OptionSection[]>(entry: AddOnEntry<N, S>): AddOnEntry<N, S> {
  return entry;
}
