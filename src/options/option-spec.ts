import type { z } from 'zod';

/**
 * One configurable value: its validation, default and meaning. Sections of these are the single
 * source of CLI flags (`--gamma-l` from key `gammaL`), preset validation, `--help` defaults and the
 * saved config.json. A method's section lives in the method's own file.
 */
export interface OptionSpec<T> {
  readonly schema: z.ZodType<T>;
  readonly default: T;
  /** Meaning, unit and source (paper table or official config), shown in `--help`. */
  readonly describe: string;
  /** Placeholder in `--help`, e.g. `<n>`; booleans have none. */
  readonly valueName?: string;
  /** A second, shorter flag for the same key (`--loss` for `--labeled-loss`). */
  readonly alias?: string;
}

export type OptionSection = Readonly<Record<string, OptionSpec<unknown>>>;

/** The plain values of a section, e.g. `{ gammaL: number; ... }`. */
export type SectionValues<S extends OptionSection> = {
  -readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never;
};

/** Declares an option; `valueName` defaults from the type of the default. */
export function option<T>(schema: z.ZodType<T>, dflt: T, describe: string, valueName?: string, alias?: string): OptionSpec<T> {
  const name = valueName ?? (typeof dflt === 'boolean' ? undefined : typeof dflt === 'number' ? '<n>' : '<value>');
  return { schema, default: dflt, describe, valueName: name, ...(alias ? { alias } : {}) };
}

/** Default values of a section. */
export function sectionDefaults<S extends OptionSection>(section: S): SectionValues<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(section)) out[key] = spec.default;
  return out as SectionValues<S>;
}

/** `gammaL` -> `gamma-l`. */
export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
