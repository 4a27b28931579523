import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drawLongTailSplit } from '../../src/data/longtail.js';
import { loadSplitFile, resolveSplit, saveSplitFile } from '../../src/data/split-file.js';
import { userErrorAsync } from '../helpers/user-error.js';

const dir = mkdtempSync(join(tmpdir(), 'ssl-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for a Dataset: only the name and the training-set size matter here. */
const numTrain = 200;
const labels = Int32Array.from({ length: numTrain }, (_, i) => i % 4);
const dataset = { name: 'toy', numClasses: 4, train: { images: new Uint8Array(0), labels, count: numTrain, height: 1, width: 1, channels: 1 } };


function writeJson(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

const opts = { n1: 20, m1: 20, gammaL: 10, gammaU: 1, validationPerClass: 5, labeledInUnlabeled: false, seed: 3 };

describe('split files', () => {
  it('round-trips a drawn split, atomically (no temp file left), into a new folder', async () => {
    const split = drawLongTailSplit(labels, 4, opts);
    const file = join(dir, 'nested', 'split.json');
    await saveSplitFile(file, split, { dataset: 'toy', numTrain, numClasses: 4, seed: 3, options: opts });
    expect(readdirSync(join(dir, 'nested'))).toEqual(['split.json']);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json).toMatchObject({ format: 'ssl-split', version: 1, dataset: 'toy', numTrain, seed: 3, labeledInUnlabeled: false });
    const loaded = await loadSplitFile(file, dataset);
    expect(Array.from(loaded.split.labeled)).toEqual(Array.from(split.labeled));
    expect(Array.from(loaded.split.unlabeled)).toEqual(Array.from(split.unlabeled));
    expect(Array.from(loaded.split.validation)).toEqual(Array.from(split.validation));
    expect(loaded.contents.options).toEqual(opts);
  });

  it('accepts a minimal file written by another codebase', async () => {
    const file = writeJson('minimal.json', { dataset: 'toy', numTrain, labeled: [0, 1], unlabeled: [2, 3, 4], validation: [] });
    const { split } = await loadSplitFile(file, dataset);
    expect(Array.from(split.unlabeled)).toEqual([2, 3, 4]);
  });

  it('rejects out-of-range, duplicate and overlapping indices, naming set, position and index', async () => {
    const base = { dataset: 'toy', numTrain, labeled: [0, 1], unlabeled: [2, 3], validation: [4] };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ labeled: [0, 200] }, /labeled\[1\] = 200 is outside the training set \[0, 200\)/],
      [{ validation: [-1] }, /validation\[0\] = -1 is outside/],
      [{ unlabeled: [2, 3, 2] }, /unlabeled\[2\] = 2 appears twice in the unlabeled set/],
      [{ unlabeled: [2, 1] }, /unlabeled\[1\] = 1 is also in the labeled set.*labeledInUnlabeled/],
      [{ validation: [3] }, /validation\[0\] = 3 is also in the unlabeled set/],
      [{ labeled: [0, 1.5] }, /labeled\[1\] = 1.5 is not an integer index/],
      [{ labeled: [] }, /the labeled set is empty/],
      [{ unlabeled: undefined }, /field "unlabeled" must be an array/],
      [{ numTrain: 100 }, /numTrain is 100 but the toy training set here has 200 images/],
      [{ dataset: 'cifar10' }, /drawn for dataset "cifar10" but the run uses "toy"/],
    ];
    for (const [change, message] of cases) {
      const file = writeJson('bad.json', { ...base, ...change });
      const err = await userErrorAsync(loadSplitFile(file, dataset));
      expect(err.field).toBe(file);
      expect(err.message).toMatch(message);
    }
  });

  it('allows labeled images in the unlabeled set when the file says so', async () => {
    const file = writeJson('lu.json', { dataset: 'toy', numTrain, labeledInUnlabeled: true, labeled: [0, 1], unlabeled: [0, 1, 2], validation: [3] });
    const { split } = await loadSplitFile(file, dataset);
    expect(split.unlabeled.length).toBe(3);
  });

  it('names a missing or non-JSON file', async () => {
    const missing = join(dir, 'missing.json');
    expect((await userErrorAsync(loadSplitFile(missing, dataset))).message).toMatch(/cannot read the split file \(ENOENT\)/);
    expect(existsSync(missing)).toBe(false);
    const file = writeJson('broken.json', '{"dataset": "toy", ');
    expect((await userErrorAsync(loadSplitFile(file, dataset))).message).toMatch(/is not valid JSON/);
  });
});

describe('resolveSplit', () => {
  it('draws from the options without a file, replays the file with one', async () => {
    const drawn = await resolveSplit(dataset, { ...opts, splitFile: null });
    expect(drawn.source).toBe('drawn');
    // int(20 · (1/10)^(c/3)) for c = 0..3, as Python computes it.
    expect(drawn.split.labeled.length).toBe(20 + 9 + 4 + 2);
    const file = join(dir, 'resolve.json');
    await saveSplitFile(file, drawn.split, { dataset: 'toy', numTrain });
    const replayed = await resolveSplit(dataset, { ...opts, seed: 99, n1: 1, splitFile: file });
    expect(replayed.source).toBe('file');
    expect(Array.from(replayed.split.labeled)).toEqual(Array.from(drawn.split.labeled));
  });
});
