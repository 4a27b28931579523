import { existsSync, readFileSync } from 'node:fs';
import { SPLIT_FILE_SETTINGS } from '../data/split-file.js';
import type { ConfigLayer } from './run-config.js';

/**
 * The layer of settings a `--split-file` recorded (`ssl data split --save` writes them), placed
 * under the command line's so that the run's config.json and report describe the split it trains
 * on. A flag that contradicts the file is refused when the split is loaded. Null when no layer
 * names a split file, or the file is unreadable (loading it reports that).
 */
export function splitFileLayer(layers: readonly ConfigLayer[]): ConfigLayer | null {
  const file = layers.map((l) => l.values.splitFile).filter((v) => v !== undefined).at(-1);
  if (typeof file !== 'string' || !existsSync(file)) return null;
  let options: unknown;
  try {
    options = (JSON.parse(readFileSync(file, 'utf8')) as { options?: unknown }).options;
  } catch {
    return null;
  }
  if (typeof options !== 'object' || options === null) return null;
  const values: Record<string, unknown> = {};
  for (const key of SPLIT_FILE_SETTINGS) if (key in options) values[key] = (options as Record<string, unknown>)[key];
  return { source: `split file ${file}`, values };
}
