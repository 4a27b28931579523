import { Command, Help, Option } from 'commander';
import { kebabCase, type OptionSpec } from '../options/option-spec.js';
import { UserError } from '../errors.js';

/** How `--help` states a flag's default, computed when help is shown (it may depend on the method named). */
export type DefaultNote = (key: string, spec: OptionSpec<unknown>) => string;

/**
 * Adds one commander option per config key, from the same specs that validate presets, so a
 * flag, its `--help` default and its config.json key cannot drift apart. Commander gets no
 * defaults: only flags the user typed override the preset. `note` writes the default part of each
 * flag's help line.
 */
export function addConfigFlags(cmd: Command, specs: ReadonlyMap<string, OptionSpec<unknown>>, note: DefaultNote = builtInDefault): Command {
  const byAttribute = new Map<string, { key: string; spec: OptionSpec<unknown> }>();
  for (const [key, spec] of specs) {
    const flag = kebabCase(key);
    if (typeof spec.default === 'boolean') {
      cmd.addOption(new Option(`--${flag}`, spec.describe));
      // Listed when the built-in default is on; always accepted (to undo a preset that turns it on).
      const off = new Option(`--no-${flag}`, `turn off --${flag}`);
      cmd.addOption(spec.default === true ? off : off.hideHelp());
    } else {
      cmd.addOption(new Option(`--${flag} ${spec.valueName ?? '<value>'}`, spec.describe));
      if (spec.alias) cmd.addOption(new Option(`--${spec.alias} ${spec.valueName ?? '<value>'}`, `same as --${flag}`));
    }
    byAttribute.set(`--${flag}`, { key, spec });
  }
  const plain = new Help();
  cmd.configureHelp({
    optionDescription: (option: Option): string => {
      const owner = byAttribute.get(option.long ?? '');
      return owner ? `${owner.spec.describe} ${note(owner.key, owner.spec)}` : plain.optionDescription(option);
    },
  });
  return cmd;
}

/** `(default: <built-in default>)`. */
export function builtInDefault(_key: string, spec: OptionSpec<unknown>): string {
  return `(default: ${formatValue(spec.default)})`;
}

/**
 * The config keys the user set on the command line, with CLI strings turned into numbers where
 * the value is numeric (validation proper happens in resolveRunConfig). A number too large for a
 * float (1e400) is refused here, naming the flag, instead of reaching the schema as Infinity.
 */
export function configOverrides(values: Record<string, unknown>, specs: ReadonlyMap<string, OptionSpec<unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const entries = Object.entries(values);
  for (const [key, spec] of specs) {
    const viaAlias = spec.alias ? values[spec.alias] : undefined;
    if (viaAlias === undefined) continue;
    const direct = values[key];
    if (direct !== undefined && direct !== viaAlias) {
      throw new UserError(`--${spec.alias}`, `says ${String(viaAlias)} but --${kebabCase(key)} says ${String(direct)}`, `Give one of them (--${spec.alias} is the same flag).`);
    }
    entries.push([key, viaAlias]);
  }
  for (const [key, raw] of entries) {
    if (!specs.has(key) || raw === undefined) continue;
    if (typeof raw === 'string' && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw.trim())) {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new UserError(`--${kebabCase(key)}`, `value ${raw} is not a finite number`, `Allowed: ${specs.get(key)?.describe}.`);
      out[key] = n;
    } else {
      out[key] = raw;
    }
  }
  return out;
}

export function formatValue(v: unknown): string {
  if (v === null) return 'none';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
