import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { dataOptions, modelOptions, runtimeOptions } from './run-options.js';
import { trainerOptions } from '../train/options.js';
import { fixmatchOptions } from '../algorithms/fixmatch-options.js';
import { dasoOptions } from '../algorithms/daso/options.js';
import { kebabCase, type OptionSection, type OptionSpec, type SectionValues } from './option-spec.js';

/** Algorithms `ssl run` knows, with the option sections each one reads. */
export const algorithmSections = {
  fixmatch: [fixmatchOptions],
  daso: [fixmatchOptions, dasoOptions],
} as const;

export type AlgorithmName = keyof typeof algorithmSections;
export const algorithmNames = Object.keys(algorithmSections) as AlgorithmName[];

/** Sections every algorithm reads. */
export const commonSections = [dataOptions, modelOptions, trainerOptions, runtimeOptions] as const;

type CommonValues = SectionValues<typeof dataOptions> &
  SectionValues<typeof modelOptions> &
  SectionValues<typeof trainerOptions> &
  SectionValues<typeof runtimeOptions>;

/** A fully resolved, validated run configuration; saved as config.json. */
export type RunConfig = CommonValues &
  SectionValues<typeof fixmatchOptions> &
  Partial<SectionValues<typeof dasoOptions>> & { algorithm: AlgorithmName };

/** Every option of every section, by key. */
export function allOptionSpecs(): Map<string, OptionSpec<unknown>> {
  const out = new Map<string, OptionSpec<unknown>>();
  const sections: OptionSection[] = [...commonSections, fixmatchOptions, dasoOptions];
  for (const section of sections) for (const [k, spec] of Object.entries(section)) out.set(k, spec);
  return out;
}

/** The option keys an algorithm accepts. */
export function optionSpecsFor(algorithm: AlgorithmName): Map<string, OptionSpec<unknown>> {
  const out = new Map<string, OptionSpec<unknown>>();
  const sections: readonly OptionSection[] = [...commonSections, ...algorithmSections[algorithm]];
  for (const section of sections) for (const [k, spec] of Object.entries(section)) out.set(k, spec);
  return out;
}

export function assertAlgorithm(name: string): AlgorithmName {
  if ((algorithmNames as string[]).includes(name)) return name as AlgorithmName;
  throw new UserError('algorithm', `unknown algorithm '${name}'`, `Use one of: ${algorithmNames.join(', ')}.`);
}

/** The folder of presets shipped with the package (works from src/ and dist/). */
export function presetDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'pipelines');
}

/**
 * Reads a YAML preset: `pipelines/<algorithm>.yaml` by default, or a user file. Returns its keys
 * (the `algorithm` key excluded); validation happens in resolveRunConfig.
 */
export async function loadPreset(file: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) throw new UserError('--preset', `no preset file at ${file}`, 'Give the path of a YAML preset (see pipelines/).');
  let parsed: unknown;
  try {
    parsed = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UserError('--preset', `${file} is not valid YAML (${(err as Error).message.split('\n')[0]})`, 'Fix the YAML syntax.');
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError('--preset', `${file} must hold a mapping of option: value`, 'See pipelines/daso.yaml for the form.');
  }
  return parsed as Record<string, unknown>;
}

/**
 * The preset shipped for an algorithm: `pipelines/<dataset>/<algorithm>.yaml` when the package has
 * one for that dataset (CIFAR: the paper's setting), else `pipelines/<algorithm>.yaml`, which is
 * tuned to the embedded Fashion-MNIST default.
 */
export function defaultPresetPath(algorithm: AlgorithmName, dataset?: string): string {
  if (dataset) {
    const specific = path.join(presetDir(), dataset, `${algorithm}.yaml`);
    if (existsSync(specific)) return specific;
  }
  return path.join(presetDir(), `${algorithm}.yaml`);
}

/**
 * Builds the RunConfig: defaults < preset < overrides (CLI flags), each layer validated key by
 * key. Unknown keys and keys of another algorithm are rejected with the nearest valid name.
 */
export function resolveRunConfig(
  algorithm: AlgorithmName,
  layers: ReadonlyArray<{ source: string; values: Record<string, unknown> }>,
): RunConfig {
  const specs = optionSpecsFor(algorithm);
  const all = allOptionSpecs();
  const out: Record<string, unknown> = { algorithm };
  for (const [k, spec] of specs) out[k] = spec.default;
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      if (key === 'algorithm') {
        if (value !== algorithm) {
          throw new UserError(`${layer.source}: algorithm`, `is '${String(value)}' but the run is '${algorithm}'`, `Use the ${algorithm} preset or run ${String(value)}.`);
        }
        continue;
      }
      const spec = specs.get(key);
      if (!spec) {
        const flag = `--${kebabCase(key)}`;
        if (all.has(key)) {
          throw new UserError(`${layer.source}: ${key} (${flag})`, `does not apply to ${algorithm}`, `Remove it, or run an algorithm that reads it.`);
        }
        const near = nearest(key, [...specs.keys()]);
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
  return out as RunConfig;
}

function nearest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length][b.length];
}
