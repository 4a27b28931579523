import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { registry } from '../src/algorithms/index.js';

const SRC = path.resolve(import.meta.dirname, '..', 'src');

/**
 * The layers of src/, lowest first (docs/ARCHITECTURE.md). A module may import from its own
 * folder and from folders of lower layers, never from a higher one.
 */
const LAYERS: readonly string[][] = [
  ['util', 'errors.ts', 'ops'],
  ['backend'],
  ['data'],
  ['augment'],
  ['pipeline'],
  ['models'],
  ['eval'],
  ['events'],
  ['report'],
  ['options'],
  ['losses'],
  ['algorithms'],
  ['config'],
  ['train'],
  ['run'],
  ['study'],
  ['bench'],
  ['cli'],
  ['index.ts'],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const full = path.join(dir, f);
    return statSync(full).isDirectory() ? files(full) : f.endsWith('.ts') ? [full] : [];
  });
}

function layerOf(file: string): number {
  const top = path.relative(SRC, file).split(path.sep)[0];
  const i = LAYERS.findIndex((l) => l.includes(top));
  if (i < 0) throw new Error(`${top} is in no layer: add it to LAYERS and docs/ARCHITECTURE.md`);
  return i;
}

describe('architecture', () => {
  it('no import runs back up the layers', () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(path.dirname(file), m[1]).replace(/\.js$/, '.ts');
        if (layerOf(target) > layerOf(file)) violations.push(`${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('nothing outside src/algorithms switches on a method name', () => {
    const names = registry.names().join('|');
    const compare = new RegExp(`(===|!==|case)\\s*['"\`](${names})['"\`]|['"\`](${names})['"\`]\\s*(===|!==)`);
    const hits = files(SRC)
      .filter((f) => !path.relative(SRC, f).startsWith('algorithms'))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ f, i, line })))
      .filter(({ line }) => compare.test(line))
      .map(({ f, i, line }) => `${path.relative(SRC, f)}:${i + 1}: ${line.trim()}`);
    expect(hits).toEqual([]);
  });

  it('src/train, src/report, src/cli and src/run never spell a method name as a string', () => {
    const literal = new RegExp(`['"\`](${registry.names().join('|')})['"\`]`);
    const hits = ['train', 'report', 'cli', 'run']
      .flatMap((d) => files(path.join(SRC, d)))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ f, i, line })))
      .filter(({ line }) => literal.test(line))
      .map(({ f, i, line }) => `${path.relative(SRC, f)}:${i + 1}: ${line.trim()}`);
    expect(hits).toEqual([]);
  });

  it('no file of the project points outside the repository', () => {
    const root = path.resolve(SRC, '..');
    const tracked = ['README.md', ...['src', 'test', 'docs', 'pipelines', 'examples', 'scripts', 'datasets'].flatMap((d) => files2(path.join(root, d)))];
    const hits = tracked.filter((f) => /\.\.\/shared|REFERENCES|DESIGN\.md|STYLE\.md/.test(readFileSync(path.resolve(root, f), 'utf8')));
    expect(hits.filter((f) => !f.endsWith('architecture.test.ts'))).toEqual([]);
  });
});

/** Text files under a folder (any extension but binary data). */
function files2(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((f) => {
    const full = path.join(dir, f);
    if (statSync(full).isDirectory()) return files2(full);
    return /\.(ts|md|mjs|js|yaml|py|json|txt)$/.test(f) ? [full] : [];
  });
}
