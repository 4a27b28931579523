import { UserError } from '../errors.js';
import { sectionDefaults, type OptionSection, type OptionSpec } from '../options/option-spec.js';
import type { Algorithm } from './algorithm.js';
import { composeAddOns, type ExclusivePoint } from './add-on.js';
import { LEARNER_CAPABILITIES, ONE_VIEW_EACH, type AddOnEntry, type ChartMarker, type DataFacts, type FinishContext, type LearnerEntry, type MethodEntry, type ModelNeeds, type RunContext, type UnlabeledViews } from './method.js';
import { nearestName } from '../util/nearest-name.js';

/** A run's method: one base learner and its add-ons in order. */
export interface Composition {
  readonly algorithm: string;
  readonly with: readonly string[];
}

/** What claims an exclusive extension point besides add-ons (the labeled loss). */
export interface SlotClaim {
  readonly owner: string;
  readonly point: ExclusivePoint;
}

type Values = Record<string, unknown>;

/**
 * The list of methods and what derives from it: which names `ssl run` accepts, which option
 * sections a composition reads, composition rules, data-dependent values, chart markers, and the
 * algorithm itself. Built from the list in src/algorithms/index.ts; `register` adds a method at
 * run time (a plugin, a test) through the same checks.
 */
export class MethodRegistry {
  private readonly entries = new Map<string, MethodEntry>();
  /** Which spec object owns each option key: two methods may share a section, never a key. */
  private readonly keyOwners = new Map<string, { spec: OptionSpec<unknown>; method: string }>();

  constructor(entries: readonly MethodEntry[] = []) {
    for (const e of entries) this.register(e);
  }

  /** Adds a method; throws on a duplicate name or an option key another method declares differently. */
  register(entry: MethodEntry): void {
    if (this.entries.has(entry.name)) throw new Error(`MethodRegistry: '${entry.name}' is already registered`);
    if (!/^[a-z][a-z0-9-]*$/.test(entry.name)) throw new Error(`MethodRegistry: name '${entry.name}' must be lower-case kebab-case`);
    for (const section of entry.sections) {
      for (const [key, spec] of Object.entries(section)) {
        const owner = this.keyOwners.get(key);
        if (owner && owner.spec !== spec) {
          throw new Error(`MethodRegistry: option '${key}' of '${entry.name}' is already declared by '${owner.method}'; share the section object or rename the key`);
        }
      }
    }
    for (const section of entry.sections) for (const [key, spec] of Object.entries(section)) if (!this.keyOwners.has(key)) this.keyOwners.set(key, { spec, method: entry.name });
    this.entries.set(entry.name, entry);
  }

  /** Every method, in registration order. */
  all(): readonly MethodEntry[] {
    return [...this.entries.values()];
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  get(name: string): MethodEntry | undefined {
    return this.entries.get(name);
  }

  learner(name: string): LearnerEntry {
    const e = this.entries.get(name);
    if (!e || e.kind === 'add-on') {
      throw new UserError('algorithm', `'${name}' is not a base learner`, `Use one of: ${this.learnerNames().join(', ')}.`);
    }
    return e;
  }

  addOn(name: string): AddOnEntry {
    const e = this.entries.get(name);
    if (!e || e.kind !== 'add-on') {
      const known = this.all().filter((m) => m.kind === 'add-on').map((m) => m.name);
      throw new UserError('--with', `'${name}' is not an add-on`, `Use one of: ${known.join(', ')} (ssl run --list).`);
    }
    return e;
  }

  learnerNames(): string[] {
    return this.all().filter((e) => e.kind !== 'add-on').map((e) => e.name);
  }

  /**
   * What `ssl run <name> --with a --with b` means: a base learner with the listed add-ons, or an
   * add-on's name, which stands for its default base learner with that add-on first.
   */
  compositionOf(name: string, addOns: readonly string[] = []): Composition {
    const entry = this.entries.get(name);
    if (!entry) {
      const near = nearestName(name, this.names());
      throw new UserError('algorithm', `unknown method '${name}'`, `${near ? `Did you mean '${near}'? ` : ''}Use one of: ${this.names().join(', ')} (ssl run --list describes each).`);
    }
    return entry.kind === 'add-on' ? { algorithm: entry.defaultBase, with: [name, ...addOns] } : { algorithm: name, with: [...addOns] };
  }

  /**
   * Refuses a composition that cannot run, before any work: an unknown name, an add-on twice, an
   * add-on on a learner without pseudo-labels, two owners of one exclusive point.
   */
  assertComposable(c: Composition, slotClaims: readonly SlotClaim[] = []): void {
    const base = this.learner(c.algorithm);
    const owners = new Map<ExclusivePoint, string>(slotClaims.map((s) => [s.point, s.owner]));
    for (const point of base.claims ?? []) {
      const other = owners.get(point);
      if (other) throw new UserError('--labeled-loss', `${other} and ${base.name} both adjust the ${point} (${point} may be adjusted once)`, `Drop ${other}: ${base.name} adjusts them itself.`);
      owners.set(point, base.name);
    }
    const seen = new Set<string>();
    for (const name of c.with) {
      const addOn = this.addOn(name);
      if (seen.has(name)) throw new UserError('--with', `'${name}' is given twice`, 'Give each add-on once.');
      seen.add(name);
      if (base.kind !== 'base') {
        throw new UserError('--with', `${name} cannot be added to ${base.name}: it works on pseudo-labels, and ${base.name} makes none`, `Use a semi-supervised base learner: ${this.learnerNames().filter((n) => this.learner(n).kind === 'base').join(', ')}.`);
      }
      for (const need of addOn.requires ?? []) {
        if (!(base.capabilities ?? []).includes(need)) {
          // Only learners the add-on can join: one that fills a point the add-on claims (SimPro its
          // logits), or reports its own head beside an add-on that does (ACR beside ABC), refuses it too.
          const able = this.learnerNames().filter((n) => {
            const learner = this.learner(n);
            if (!(learner.capabilities ?? []).includes(need) || (learner.claims ?? []).some((p) => (addOn.claims ?? []).includes(p))) return false;
            return !(reportsHead(addOn) && reportsHead(learner));
          });
          throw new UserError(
            '--with',
            `${name} cannot be added to ${base.name}: ${name} needs a learner that ${LEARNER_CAPABILITIES[need]}, and ${base.name} does not${addOn.pairedWith ? ` (${addOn.pairedWith})` : ''}`,
            able.length > 0 ? `Use ${name} with ${able.join(', ')}.` : `No registered learner offers it.`,
          );
        }
      }
      for (const point of addOn.claims ?? []) {
        const other = owners.get(point);
        if (other) {
          throw new UserError('--with', `${other} and ${name} both adjust the ${point} (${point} may be adjusted once)`, `Drop one of them.`);
        }
        owners.set(point, name);
      }
    }
  }

  /** The entries of a composition, base first, add-ons in order. */
  entriesOf(c: Composition): MethodEntry[] {
    return [this.learner(c.algorithm), ...c.with.map((n) => this.addOn(n))];
  }

  /** The option sections a composition reads. */
  sectionsOf(c: Composition): OptionSection[] {
    return unique(this.entriesOf(c).flatMap((e) => [...e.sections]));
  }

  /** Every method's option sections. */
  allSections(): OptionSection[] {
    return unique(this.all().flatMap((e) => [...e.sections]));
  }

  /** Names of the methods that read an option key (for `[daso only]` in --help). */
  ownersOf(key: string): string[] {
    return this.all().filter((e) => e.sections.some((s) => key in s)).map((e) => e.name);
  }

  /** The config with each method's data-dependent values filled in (DASO's T_dist 'auto'). */
  resolveValues<C extends Composition>(config: C, data: DataFacts): C {
    let out: C = config;
    for (const e of this.entriesOf(config)) {
      if (!e.resolve) continue;
      const resolve = e.resolve as (v: Values, d: DataFacts) => Values;
      out = { ...out, ...resolve(valuesOf(e, out), data) };
    }
    return out;
  }

  /** Runs every entry's `validate` on a resolved config. */
  validate(config: Composition): void {
    for (const e of this.entriesOf(config)) (e.validate as ((v: Values, c: object) => void) | undefined)?.(valuesOf(e, config), config);
  }

  /** Markers every method of the composition draws on the learning curves. */
  chartMarkers(config: Composition & { readonly iterations?: unknown }): ChartMarker[] {
    const run = { iterations: Number(config.iterations) };
    const markers = this.entriesOf(config).flatMap((e) => (e.chartMarkers ? (e.chartMarkers as (v: Values, r: typeof run) => readonly ChartMarker[])(valuesOf(e, config), run) : []));
    // A marker from the run's length needs one (a hand-written config may lack it).
    return markers.filter((m) => Number.isFinite(m.step));
  }

  /**
   * The base learner's hooks bound to a config's values: the model it needs, the run it starts
   * from, its implied run length, its labeled samplers, its unlabeled views and its finishing work.
   */
  learnerHooks(config: Composition): LearnerHooks {
    const e = this.learner(config.algorithm);
    const v = (): Values => valuesOf(e, config);
    const call = <T>(f: unknown, ...rest: unknown[]): T => (f as (values: Values, ...r: unknown[]) => T)(v(), ...rest);
    return {
      model: this.modelNeeds(config),
      startsFrom: e.startsFrom ? { option: e.startsFrom.option, sameAs: e.startsFrom.sameAs, keepHead: call<boolean>(e.startsFrom.keepHead) } : null,
      iterations: e.iterations ? call<number>(e.iterations.of) : null,
      labeledSamplers: (slot) => (e.labeledSamplers ? call<readonly string[]>(e.labeledSamplers, slot) : [slot]),
      unlabeledViews: e.unlabeledViews ? checkedViews(e.name, call<UnlabeledViews>(e.unlabeledViews)) : ONE_VIEW_EACH,
      finish: e.finish ? (ctx) => call<Readonly<Record<string, number | string>>>(e.finish, ctx) : null,
    };
  }

  /**
   * What already removes the training prior from the reported logits of a composition, said for
   * a refusal of a second (post-hoc) adjustment, or null: the method that owns the labeled logits
   * (LA, SimPro, CPE), else the add-on or learner whose balanced head is the reported one (ABC,
   * ACR, CCL).
   */
  priorAdjustment(config: Composition): string | null {
    const entries = this.entriesOf(config);
    const owner = entries.find((e) => (e.claims ?? []).includes('labeled-logits'));
    if (owner) return `${owner.kind === 'add-on' ? `--with ${owner.name}` : owner.name}, which adjusts the labeled logits`;
    const reported = this.modelNeeds(config).reportedHead;
    if (reported === undefined) return null;
    const reporter = entries.find((e) => e.model && (e.model as (v: Values) => ModelNeeds)(valuesOf(e, config)).reportedHead === reported);
    return `${reporter?.name ?? config.algorithm}, whose reported head '${reported}' is trained class-balanced`;
  }

  /**
   * The model a composition needs: the learner's head and the auxiliary heads of the learner and
   * its add-ons; at most one of them may be the reported head.
   */
  modelNeeds(config: Composition): ModelNeeds {
    const own = (e: MethodEntry): ModelNeeds => (e.model ? (e.model as (v: Values) => ModelNeeds)(valuesOf(e, config)) : {});
    const entries = this.entriesOf(config);
    const needs = entries.map((e) => ({ name: e.name, needs: own(e) }));
    const reporters = needs.filter((n) => n.needs.reportedHead !== undefined);
    if (reporters.length > 1) {
      throw new UserError('--with', `${reporters.map((r) => r.name).join(' and ')} each report their own head, and a run reports one`, 'Drop one of them.');
    }
    const learner = needs[0]!.needs;
    const auxHeads = needs.flatMap((n) => n.needs.auxHeads ?? []);
    return {
      ...(learner.head ? { head: learner.head } : {}),
      ...(learner.bbn ? { bbn: learner.bbn } : {}),
      ...(auxHeads.length > 0 ? { auxHeads } : {}),
      ...(reporters[0] ? { reportedHead: reporters[0].needs.reportedHead } : {}),
    };
  }

  /**
   * Builds the algorithm of a composition: each add-on from its own values, in order, then the
   * base learner around their chain. Data-dependent values are resolved first.
   */
  createAlgorithm(config: Composition & DataFactsSource, ctx: RunContext): Algorithm {
    const resolved = this.resolveValues(config, { numClasses: ctx.numClasses, gammaL: config.gammaL, gammaU: config.gammaU, iterations: ctx.iterations });
    const base = this.learner(resolved.algorithm);
    const addOns = resolved.with.map((n) => {
      const e = this.addOn(n);
      return (e.create as (v: Values, c: RunContext) => ReturnType<AddOnEntry['create']>)(valuesOf(e, resolved), ctx);
    });
    const create = base.create as (v: Values, c: RunContext, a: ReturnType<typeof composeAddOns>) => Algorithm;
    const chain = composeAddOns(addOns);
    // The run-level hooks come from the add-ons alone, whatever the learner: attached here, not forwarded by each learner.
    return Object.assign(create(valuesOf(base, resolved), ctx, chain), { runHooks: chain });
  }
}

/** A base learner's optional hooks, bound to one config (see `LearnerEntry`). */
export interface LearnerHooks {
  readonly model: ModelNeeds;
  readonly startsFrom: { readonly option: string; readonly sameAs: readonly string[]; readonly keepHead: boolean } | null;
  readonly iterations: number | null;
  readonly labeledSamplers: (slotSampler: string) => readonly string[];
  /** Weak and strong views per unlabeled image the step needs. */
  readonly unlabeledViews: UnlabeledViews;
  readonly finish: ((ctx: FinishContext) => Readonly<Record<string, number | string>>) | null;
}

/** The config values resolve steps read besides the method's own. */
interface DataFactsSource {
  readonly gammaL: number;
  readonly gammaU: number;
}

/** A learner's view counts, checked (a programming error, not a user's). */
function checkedViews(learner: string, v: UnlabeledViews): UnlabeledViews {
  if (!(Number.isInteger(v.weak) && v.weak >= 1 && Number.isInteger(v.strong) && v.strong >= 0)) {
    throw new Error(`MethodRegistry: ${learner}.unlabeledViews gave ${JSON.stringify(v)}; weak must be an integer >= 1, strong >= 0`);
  }
  return v;
}

/** The values of an entry's own sections, picked from a config. */
function valuesOf(entry: MethodEntry, config: object): Values {
  const out: Values = {};
  const source = config as Values;
  for (const section of entry.sections) {
    for (const key of Object.keys(section)) {
      if (!(key in source)) throw new Error(`MethodRegistry: ${entry.name} option '${key}' is missing from the config`);
      out[key] = source[key];
    }
  }
  return out;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** Whether an entry's model, at its default options, reports a head of its own (ABC, ACR, CCL, CPE). */
function reportsHead(entry: MethodEntry): boolean {
  if (!entry.model) return false;
  const defaults: Values = Object.assign({}, ...entry.sections.map((section) => sectionDefaults(section)));
  return (entry.model as (v: Values) => ModelNeeds)(defaults).reportedHead !== undefined;
}
