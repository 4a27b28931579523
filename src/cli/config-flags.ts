import { Command, Option } from 'commander';
import { kebabCase, type OptionSpec } from '../config/option-spec.js';

/**
 * Adds one commander option per RunConfig key, from the same specs that validate presets, so a
 * flag, its `--help` default and its config.json key cannot drift apart. Commander gets no
 * defaults: only flags the user typed override the preset.
 */
export function addConfigFlags(cmd: Command, specs: ReadonlyMap<string, OptionSpec<unknown>>, scopeOf: (key: string) => string | null): Command {
  for (const [key, spec] of specs) {
    const flag = kebabCase(key);
    const scope = scopeOf(key);
    const suffix = `${scope ? ` [${scope} only]` : ''} (default: ${formatDefault(spec.default)})`;
    if (typeof spec.default === 'boolean') {
      cmd.addOption(new Option(`--${flag}`, `${spec.describe}${suffix}`));
      cmd.addOption(new Option(`--no-${flag}`, `turn off --${flag}`).hideHelp());
    } else {
      cmd.addOption(new Option(`--${flag} ${spec.valueName ?? '<value>'}`, `${spec.describe}${suffix}`));
    }
  }
  return cmd;
}

/**
 * The RunConfig keys the user set on the command line, with CLI strings turned into numbers
 * where the value is numeric (validation proper happens in resolveRunConfig).
 */
export function configOverrides(values: Record<string, unknown>, specs: ReadonlyMap<string, OptionSpec<unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(values)) {
    if (!specs.has(key) || raw === undefined) continue;
    out[key] = typeof raw === 'string' && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw.trim()) ? Number(raw) : raw;
  }
  return out;
}

function formatDefault(v: unknown): string {
  if (v === null) return 'none';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
