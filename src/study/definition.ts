/**
 * What a study is before it runs: the grid a user asked for, from a YAML file under
 * `pipelines/studies/` or from `ssl study mismatch` flags. One schema for both; unknown keys are
 * refused (a misspelt `gamaU` would otherwise silently run the default grid).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { registry, type Composition } from '../algorithms/index.js';
import { allOptionSpecs } from '../config/run-config.js';
import { kebabCase } from '../options/option-spec.js';

/** Study kinds `ssl study` knows. `mismatch`: methods × unlabeled imbalance γ_u × seeds (DASO's Table 1/2 protocol). */
export const STUDY_KINDS = ['mismatch'] as const;
export type StudyKind = (typeof STUDY_KINDS)[number];

/** Settings a study sets per run itself, so `set:` and the command line may not. */
export const GRID_KEYS: ReadonlySet<string> = new Set(['gammaU', 'seed', 'runId', 'outDir', 'splitFile']);

/** A validated study definition: the grid and the run options every run of it gets. */
export interface StudyDefinition {
  readonly kind: StudyKind;
  /** Prefix of the study id (`studies/<name>-<hash>`). */
  readonly name: string;
  /** Methods as written (`fixmatch`, `daso`, `fixmatch+daso+la`), one table row each. */
  readonly methods: readonly string[];
  /** Unlabeled imbalance ratios γ_u, one table column each. */
  readonly gammaU: readonly number[];
  readonly seeds: readonly number[];
  /** Run options for every run, over the shipped presets (validated by the run schema). */
  readonly set: Readonly<Record<string, unknown>>;
}

const NAME = /^[A-Za-z0-9._-]+$/;

const studyFileSchema = z.strictObject({
  study: z.enum(STUDY_KINDS),
  name: z.string().regex(NAME, 'letters, digits, ".", "_" and "-" only').optional(),
  methods: z.array(z.string().min(1)).min(1),
  gammaU: z.array(z.number().positive()).min(1),
  seeds: z.union([z.number().int().positive(), z.array(z.number().int().nonnegative()).min(1)]),
  set: z.record(z.string(), z.unknown()).optional(),
});

const FILE_KEYS = Object.keys(studyFileSchema.shape);

/**
 * Parses a method as a study writes it: `fixmatch`, `daso` (an add-on on its default base) or
 * `fixmatch+daso+la` (a base learner, then add-ons in order).
 * @param field where the method was written, for the error
 */
export function parseMethod(method: string, field: string): Composition {
  const parts = method.split('+').map((p) => p.trim());
  for (const p of parts) {
    if (!registry.get(p)) {
      throw new UserError(field, `unknown method '${p}'${parts.length > 1 ? ` in '${method}'` : ''}`, `Use one of: ${registry.names().join(', ')} (ssl run --list describes each), joined with + for add-ons: fixmatch+daso+la.`);
    }
  }
  const c = registry.compositionOf(parts[0], parts.slice(1));
  registry.assertComposable(c);
  return c;
}

/** The canonical label of a composition: `fixmatch+daso+la` (as summary.json's `algorithm`). */
export function methodLabel(c: Composition): string {
  return [c.algorithm, ...c.with].join('+');
}

/** `3` → [0, 1, 2]; a list is taken as the seeds themselves. */
export function seedList(seeds: number | readonly number[]): number[] {
  return typeof seeds === 'number' ? Array.from({ length: seeds }, (_, i) => i) : [...seeds];
}

/** Where the study source names `key`: the flag on the command line (`--gamma-u`), else `<file>: gammaU`. */
export function fieldOf(source: string, key: string): string {
  if (source !== COMMAND_LINE) return `${source}: ${key}`;
  const flags: Record<string, string> = { methods: '--methods', gammaU: '--gamma-u', seeds: '--seeds', name: '--name' };
  return flags[key] ?? `--${kebabCase(key.replace(/^set\./, ''))}`;
}

/** The source of a definition given by flags. */
export const COMMAND_LINE = 'command line';

/**
 * Checks a definition's grid: known, composable methods, each once; γ_u values and seeds each
 * once; no grid key in `set`; every `set` key a run option.
 * @param source the file or 'command line', named in errors
 */
export function validateDefinition(def: StudyDefinition, source: string): StudyDefinition {
  const seen = new Map<string, string>();
  for (const m of def.methods) {
    const label = methodLabel(parseMethod(m, fieldOf(source, 'methods')));
    const before = seen.get(label);
    if (before !== undefined) throw new UserError(fieldOf(source, 'methods'), `'${before}' and '${m}' are the same method (${label})`, 'List each method once.');
    seen.set(label, m);
  }
  const twice = <T>(xs: readonly T[]): T | undefined => xs.find((x, i) => xs.indexOf(x) !== i);
  const g = twice(def.gammaU);
  if (g !== undefined) throw new UserError(fieldOf(source, 'gammaU'), `${g} is listed twice`, 'List each γ_u once.');
  const s = twice(def.seeds);
  if (s !== undefined) throw new UserError(fieldOf(source, 'seeds'), `seed ${s} is listed twice`, 'List each seed once.');
  if (!NAME.test(def.name)) throw new UserError(fieldOf(source, 'name'), `'${def.name}' cannot name a folder`, 'Use letters, digits, ".", "_" and "-".');
  const specs = allOptionSpecs();
  for (const key of Object.keys(def.set)) {
    if (GRID_KEYS.has(key)) {
      const fix =
        key === 'gammaU' || key === 'seed'
          ? `List the values under ${key === 'seed' ? 'seeds' : 'gammaU'} instead.`
          : key === 'splitFile'
            ? 'Remove it: a split file fixes one γ_u and one draw, and a study draws the split of each γ_u and seed.'
            : 'Remove it: every run of a study lives in studies/<id>/runs/<run>.';
      throw new UserError(fieldOf(source, `set.${key}`), 'is set by the study itself', fix);
    }
    if (!specs.has(key)) throw new UserError(fieldOf(source, `set.${key}`), 'is not a run option', 'See `ssl run --help` for the options (camelCase in YAML: gammaL, iterations, ...).');
  }
  return def;
}

/**
 * Reads a study YAML (`pipelines/studies/*.yaml`): `study`, `name`, `methods`, `gammaU`, `seeds`,
 * `set`. Unknown keys are refused, naming the key and the allowed ones.
 */
export async function loadStudyFile(file: string): Promise<StudyDefinition> {
  if (!existsSync(file)) throw new UserError('<study.yaml>', `no study file at ${file}`, 'Give the path of a study YAML (see pipelines/studies/).');
  let parsed: unknown;
  try {
    parsed = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UserError(file, `is not valid YAML (${(err as Error).message.split('\n')[0]})`, 'Fix the YAML syntax.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError(file, 'must hold a mapping (study, methods, gammaU, seeds, set)', 'See pipelines/studies/mismatch-embedded.yaml for the form.');
  }
  const runOptions = allOptionSpecs();
  for (const key of Object.keys(parsed)) {
    if (FILE_KEYS.includes(key)) continue;
    const hint = runOptions.has(key) ? `${key} is a run option: put it under set: (set: { ${key}: ... }).` : `Allowed keys: ${FILE_KEYS.join(', ')}.`;
    throw new UserError(`${file}: ${key}`, 'is not a study key', hint);
  }
  const result = studyFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : '(file)';
    throw new UserError(`${file}: ${where}`, `${issue.message}`, 'Expected: study: mismatch, methods: [names], gammaU: [numbers], seeds: count or [seeds], optional name and set.');
  }
  const d = result.data;
  return validateDefinition(
    { kind: d.study, name: d.name ?? d.study, methods: d.methods, gammaU: d.gammaU, seeds: seedList(d.seeds), set: d.set ?? {} },
    file,
  );
}
