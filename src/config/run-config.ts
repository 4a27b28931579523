import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { dataOptions, modelOptions, runtimeOptions } from '../options/run-options.js';
import { trainerOptions } from '../options/trainer-options.js';
import { kebabCase, type OptionSection, type OptionSpec } from '../options/option-spec.js';
import { builtInMethods, registry, type Composition, type SectionsValues, type SlotClaim } from '../algorithms/index.js';
import { labeledLossEntry, labeledLosses } from '../losses/index.js';
import { slotOptions } from './slot-options.js';
import { nearestName } from '../util/nearest-name.js';

/** Sections every run reads, whatever its method. */
export const commonSections = [dataOptions, modelOptions, trainerOptions, runtimeOptions, slotOptions] as const;

type CommonValues = SectionsValues<typeof commonSections>;
type Methods = (typeof builtInMethods)[number];
type EntryValues<E> = E extends { readonly sections: infer S extends readonly OptionSection[] } ? SectionsValues<S> : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** One member per base learner: its name and its own option values. */
type LearnerConfig<E = Extract<Methods, { kind: 'base' | 'supervised' }>> = E extends { readonly name: infer N } ? { algorithm: N } & EntryValues<E> : never;
/** Values of every built-in add-on; present in a config only when the add-on is in `with`. */
export type AddOnValues = UnionToIntersection<EntryValues<Extract<Methods, { kind: 'add-on' }>>>;

/** Names of the built-in base learners. */
export type AlgorithmName = Extract<Methods, { kind: 'base' | 'supervised' }>['name'];

/**
 * A fully resolved, validated run configuration; saved as config.json. A discriminated union on
 * `algorithm` (the base learner), derived from the registry's entries; `with` lists the add-ons in
 * order, and their values are present exactly when they are listed.
 */
export type RunConfig = CommonValues & LearnerConfig & Partial<AddOnValues> & { with: string[] };

/** A layer of values with where it came from, for error messages. */
export interface ConfigLayer {
  readonly source: string;
  readonly values: Record<string, unknown>;
}

/** Keys that name the method rather than set an option. */
const COMPOSITION_KEYS = new Set(['algorithm', 'with']);

/** Every option of the common sections and of every registered method, by key. */
export function allOptionSpecs(): Map<string, OptionSpec<unknown>> {
  return specsOf([...commonSections, ...registry.allSections()]);
}

/** The option keys a composition accepts. */
export function optionSpecsFor(c: Composition): Map<string, OptionSpec<unknown>> {
  return specsOf([...commonSections, ...registry.sectionsOf(c)]);
}

function specsOf(sections: readonly OptionSection[]): Map<string, OptionSpec<unknown>> {
  const out = new Map<string, OptionSpec<unknown>>();
  for (const section of sections) for (const [k, spec] of Object.entries(section)) out.set(k, spec);
  return out;
}

/** A composition as users write it: `fixmatch + daso + la`. */
export function describeComposition(c: Composition): string {
  return [c.algorithm, ...c.with].join(' + ');
}

/** The folder of presets shipped with the package (works from src/ and dist/). */
export function presetDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'pipelines');
}

/**
 * Reads a YAML preset: a mapping of option: value (plus `algorithm` and `with` in a user preset).
 * Validation happens in resolveRunConfig. An empty file is refused: it would silently run the
 * built-in (paper-scale) defaults.
 */
export async function loadPreset(file: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) throw new UserError('--preset', `no preset file at ${file}`, 'Give the path of a YAML preset (see pipelines/).');
  let parsed: unknown;
  try {
    parsed = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UserError('--preset', `${file} is not valid YAML (${(err as Error).message.split('\n')[0]})`, 'Fix the YAML syntax.');
  }
  if (parsed === null || parsed === undefined) {
    throw new UserError('--preset', `${file} is empty`, 'Write the options it should set (see pipelines/fixmatch.yaml), or drop --preset to use the shipped preset.');
  }
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError('--preset', `${file} must hold a mapping of option: value`, 'See pipelines/fixmatch.yaml for the form.');
  }
  return parsed as Record<string, unknown>;
}

/**
 * The shipped preset of one method: `pipelines/<dataset>/<name>.yaml` when the package has one
 * for that dataset (CIFAR: the paper's setting), else `pipelines/<name>.yaml`, tuned to the
 * embedded Fashion-MNIST default; undefined when the method ships none.
 */
export function defaultPresetPath(name: string, dataset?: string): string | undefined {
  const candidates = [...(dataset ? [path.join(presetDir(), dataset, `${name}.yaml`)] : []), path.join(presetDir(), `${name}.yaml`)];
  return candidates.find((f) => existsSync(f));
}

/**
 * The shipped preset layers of a composition: the base learner's preset, then each add-on's, in
 * order. An add-on's preset may set only the add-on's own options, so a baseline and its
 * "+method" variants share every schedule setting; `ssl run daso` and `ssl run fixmatch --with
 * daso` read the same files.
 */
export async function shippedPresetLayers(c: Composition, dataset?: string): Promise<ConfigLayer[]> {
  const layers: ConfigLayer[] = [];
  for (const name of [c.algorithm, ...c.with]) {
    const file = defaultPresetPath(name, dataset);
    if (!file) continue;
    const values = await loadPreset(file);
    if (name !== c.algorithm) {
      const own = specsOf(registry.addOn(name).sections);
      for (const key of Object.keys(values)) {
        if (!own.has(key)) {
          throw new UserError(`${file}: ${key}`, `an add-on's preset may set only ${name}'s options`, `Move ${key} to the base learner's preset, so every "+${name}" run keeps its baseline's schedule.`);
        }
      }
    }
    layers.push({ source: file, values });
  }
  return layers;
}

/** Exclusive extension points the labeled-loss slot claims (an adjusting loss owns the labeled logits). */
export function slotClaims(labeledLoss: string): SlotClaim[] {
  return labeledLossEntry(labeledLoss).adjustsLogits ? [{ owner: `--labeled-loss ${labeledLoss}`, point: 'labeled-logits' }] : [];
}

/**
 * Builds the RunConfig of a composition: defaults < layers (preset, then CLI flags), each layer
 * validated key by key. Unknown keys, keys of a method not in the composition, and a layer whose
 * `algorithm`/`with` disagree with the composition are refused, naming the field and the fix.
 */
export function resolveRunConfig(composition: Composition | string, layers: readonly ConfigLayer[]): RunConfig {
  const c = typeof composition === 'string' ? registry.compositionOf(composition) : composition;
  registry.assertComposable(c);
  const specs = optionSpecsFor(c);
  const all = allOptionSpecs();
  const out: Record<string, unknown> = { algorithm: c.algorithm, with: [...c.with] };
  for (const [k, spec] of specs) out[k] = spec.default;
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      if (COMPOSITION_KEYS.has(key)) {
        assertSameComposition(layer.source, key, value, c);
        continue;
      }
      const spec = specs.get(key);
      if (!spec) {
        const flag = `--${kebabCase(key)}`;
        if (all.has(key)) {
          const owners = registry.ownersOf(key);
          const addOn = owners.find((o) => registry.get(o)?.kind === 'add-on');
          throw new UserError(
            `${layer.source}: ${key} (${flag})`,
            `does not apply to ${describeComposition(c)}; it is an option of ${owners.join(', ')}`,
            addOn ? `Remove it, or add --with ${addOn}.` : `Remove it, or run ${owners.join(' or ')}.`,
          );
        }
        const near = nearestName(key, [...specs.keys()]);
        throw new UserError(`${layer.source}: ${key}`, 'is not a known option', near ? `Did you mean '${near}' (--${kebabCase(near)})?` : 'See `ssl run --help`.');
      }
      const parsed = spec.schema.safeParse(value);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => i.message).join('; ');
        throw new UserError(`${layer.source}: ${key} (--${kebabCase(key)})`, `value ${JSON.stringify(value)} is invalid: ${why}`, `Allowed: ${spec.describe}.`);
      }
      out[key] = parsed.data;
    }
  }
  registry.assertComposable(c, slotClaims(out.labeledLoss as string));
  const implied = registry.learnerHooks(out as unknown as Composition).iterations;
  if (implied !== null && !layers.some((l) => 'iterations' in l.values)) out.iterations = implied;
  // 0 steps is a run only for a learner whose work is its finishing step (τ-norm, NCM).
  if (out.iterations === 0 && implied !== 0) {
    throw new UserError('iterations (--iterations)', `is 0, and ${describeComposition(c)} learns only by training`, 'Give at least 1 (the shipped presets use 1600).');
  }
  settleHeadAndDrw(out);
  registry.validate(out as unknown as Composition);
  return out as RunConfig;
}

/**
 * Resolves `--head auto` from the labeled loss and refuses combinations the loss cannot train
 * with: LDAM on a non-cosine head, DRW on a loss it does not re-weight or without an LR decay.
 */
function settleHeadAndDrw(out: Record<string, unknown>): void {
  const loss = labeledLossEntry(out.labeledLoss as string);
  if (out.head === 'auto') out.head = loss.head === 'cosine' ? 'cosine' : 'linear';
  if (loss.head === 'cosine' && out.head !== 'cosine') {
    throw new UserError('--head', `--loss ${loss.name} needs the cosine head (its margins assume cosine logits), got --head ${String(out.head)}`, 'Drop --head, or pass --head cosine.');
  }
  if (out.drw !== true) return;
  const reweighted = labeledLosses.filter((l) => l.drw).map((l) => l.name);
  if (!loss.drw) throw new UserError('--drw', `re-weights ${reweighted.join(' or ')}, not --loss ${loss.name}`, `Use --loss ${reweighted.join(' or --loss ')}, or drop --drw.`);
  const milestones = out.lrMilestones as readonly number[];
  if (out.lrSchedule !== 'step' || milestones.length === 0) {
    throw new UserError('--drw', `switches its weights on at the first LR decay, and this run has --lr-schedule ${String(out.lrSchedule)}${out.lrSchedule === 'step' ? ' with no milestones' : ''}`, 'Pass --lr-schedule step --lr-milestones 0.8,0.9 (LDAM-DRW: decays at epochs 160 and 180 of 200).');
  }
}

/** The composition a preset or saved config declares, if any (`algorithm`, `with`). */
export function declaredComposition(values: Record<string, unknown>, source: string): Partial<Composition> {
  const out: { algorithm?: string; with?: string[] } = {};
  if (values.algorithm !== undefined) {
    if (typeof values.algorithm !== 'string') throw new UserError(`${source}: algorithm`, `must be a method name, got ${JSON.stringify(values.algorithm)}`, 'See `ssl run --list`.');
    out.algorithm = values.algorithm;
  }
  if (values.with !== undefined) {
    if (!Array.isArray(values.with) || values.with.some((w) => typeof w !== 'string')) {
      throw new UserError(`${source}: with`, `must be a list of add-on names, got ${JSON.stringify(values.with)}`, 'Write e.g. `with: [daso]`.');
    }
    out.with = values.with as string[];
  }
  return out;
}

/** The composition a saved run's config.json declares; refuses one that names no algorithm. */
export function savedComposition(values: Record<string, unknown>, source: string): Composition {
  const declared = declaredComposition(values, source);
  if (!declared.algorithm) throw new UserError(source, 'names no algorithm', 'Point at a run directory (runs/<id>) made by `ssl run`.');
  return { algorithm: declared.algorithm, with: declared.with ?? [] };
}

function assertSameComposition(source: string, key: string, value: unknown, c: Composition): void {
  const declared = declaredComposition({ [key]: value }, source);
  const same = key === 'algorithm' ? declared.algorithm === c.algorithm : JSON.stringify(declared.with) === JSON.stringify(c.with);
  if (!same) {
    const theirs = key === 'algorithm' ? String(declared.algorithm) : `[${(declared.with ?? []).join(', ')}]`;
    const ours = key === 'algorithm' ? c.algorithm : `[${c.with.join(', ')}]`;
    throw new UserError(`${source}: ${key}`, `is ${theirs} but the run is ${describeComposition(c)} (${key} ${ours})`, `Run the method the file declares, or remove '${key}' from it.`);
  }
}

export type { Composition };
