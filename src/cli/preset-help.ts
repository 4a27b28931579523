import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { commonSections, defaultPresetPath, presetDir } from '../config/run-config.js';
import { registry, type Composition } from '../algorithms/index.js';
import { formatValue, type DefaultNote } from './config-flags.js';
import { kebabCase } from '../options/option-spec.js';

/** Values the shipped presets of a composition set (later files win), with the file that set each. */
function readPresetValues(c: Composition): Map<string, { value: unknown; file: string }> {
  const out = new Map<string, { value: unknown; file: string }>();
  for (const name of [c.algorithm, ...c.with]) {
    const file = defaultPresetPath(name);
    if (!file) continue;
    try {
      const values = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(values)) out.set(k, { value: v, file: path.relative(path.dirname(presetDir()), file) });
    } catch {
      // An unreadable preset shows the built-in default here; `ssl run` itself reports the file.
    }
  }
  return out;
}

/**
 * The default part of a flag's help line: what a plain `ssl run <method>` uses. For a named
 * method, its presets' value and file; otherwise each base learner's preset value (one value when
 * they agree); always the built-in default beside it, and which methods read the key.
 */
export function presetDefaultNote(named: () => Composition | undefined): DefaultNote {
  const common = new Set(commonSections.flatMap((s) => Object.keys(s)));
  // One read of a composition's presets per help page, not one per flag line.
  const cache = new Map<string, Map<string, { value: unknown; file: string }>>();
  const presetValues = (c: Composition): Map<string, { value: unknown; file: string }> => {
    const key = [c.algorithm, ...c.with].join('+');
    let values = cache.get(key);
    if (!values) cache.set(key, (values = readPresetValues(c)));
    return values;
  };
  return (key, spec) => {
    const owners = common.has(key) ? [] : registry.ownersOf(key);
    const scope = owners.length > 0 ? `[${owners.join('/')} only] ` : '';
    const builtIn = formatValue(spec.default);
    const c = named();
    const implied = (m: string): string | undefined => (key === 'iterations' ? registry.learner(m).iterations?.describe : undefined);
    const inherits = (m: string): boolean => registry.learner(m).startsFrom?.sameAs.includes(key) === true || implied(m) !== undefined;
    if (c) {
      const learner = registry.learner(c.algorithm);
      if (implied(c.algorithm)) return `${scope}(default: ${implied(c.algorithm)})`;
      if (inherits(c.algorithm)) return `${scope}(default: the --${kebabCase(learner.startsFrom?.option ?? '')} run's)`;
      const p = presetValues(c).get(key);
      return `${scope}(default: ${p ? `${formatValue(p.value)} from ${p.file}; built-in ${builtIn}` : builtIn})`;
    }
    // A learner that continues a run takes these from it, not from a preset: leave it out here.
    const methods = (owners.length > 0 ? owners : registry.learnerNames()).filter((m) => registry.get(m)?.kind === 'add-on' || !inherits(m));
    const set = methods.map((m) => ({ m, p: presetValues(registry.compositionOf(m)).get(key) }));
    const given = set.filter((s) => s.p !== undefined);
    if (given.length === 0) return `${scope}(default: ${builtIn})`;
    const distinct = new Set(given.map((s) => JSON.stringify(s.p?.value)));
    const fromPresets =
      distinct.size === 1 && given.length === set.length
        ? `${formatValue(given[0].p?.value)} from ${given.length === 1 ? given[0].p?.file : 'the shipped presets'}`
        : set.map((s) => `${s.m} ${s.p ? formatValue(s.p.value) : builtIn}`).join(', ');
    return `${scope}(default: ${fromPresets}; built-in ${builtIn})`;
  };
}

