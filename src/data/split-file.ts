import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { Dataset } from './image-set.js';
import { drawLongTailSplit, type LongTailSplit, type LongTailSplitOptions } from './longtail.js';

/**
 * A split saved as JSON, so a run can replay exactly the split `ssl data split --save` (or another
 * codebase) drew. Indices point into the source's training set, in its file order.
 *
 * ```json
 * { "format": "ssl-split", "version": 1, "dataset": "cifar10", "numTrain": 50000,
 *   "seed": 0, "options": { "n1": 1500, ... }, "labeledInUnlabeled": false,
 *   "labeled": [...], "unlabeled": [...], "validation": [...] }
 * ```
 * Required when loading: `dataset`, `numTrain`, `labeled`, `unlabeled`, `validation` (may be []).
 */
export interface SplitFileContents {
  readonly format?: 'ssl-split';
  readonly version?: number;
  /** Dataset name as `--dataset` spells it. */
  readonly dataset: string;
  /** Size of the training set the indices point into (checked against the dataset). */
  readonly numTrain: number;
  readonly numClasses?: number;
  readonly seed?: number;
  /** The options the split was drawn with, for the record. */
  readonly options?: Partial<LongTailSplitOptions>;
  /** True when the labeled images are also in the unlabeled set (then that overlap is allowed). */
  readonly labeledInUnlabeled?: boolean;
  readonly labeled: readonly number[];
  readonly unlabeled: readonly number[];
  readonly validation: readonly number[];
}

/** What {@link saveSplitFile} records besides the indices. */
export type SplitFileMeta = Pick<SplitFileContents, 'dataset' | 'numTrain' | 'numClasses' | 'seed' | 'options' | 'labeledInUnlabeled'>;

/** The split settings a split file records and a run replaying it inherits (not the seed: it also seeds training). */
export const SPLIT_FILE_SETTINGS = ['n1', 'm1', 'gammaL', 'gammaU', 'validationPerClass', 'labeledInUnlabeled', 'balancedLabeled'] as const;

export const SPLIT_FILE_FORMAT = 'ssl-split';
export const SPLIT_FILE_VERSION = 1;

/**
 * Writes a split atomically: to a temporary file in the same folder, then renamed over `path`, so
 * an interrupted write never leaves a half-written split. Creates the parent folder.
 */
export async function saveSplitFile(path: string, split: LongTailSplit, meta: SplitFileMeta): Promise<void> {
  const contents: SplitFileContents = {
    format: SPLIT_FILE_FORMAT,
    version: SPLIT_FILE_VERSION,
    dataset: meta.dataset,
    numTrain: meta.numTrain,
    ...(meta.numClasses !== undefined ? { numClasses: meta.numClasses } : {}),
    ...(meta.seed !== undefined ? { seed: meta.seed } : {}),
    ...(meta.options !== undefined ? { options: meta.options } : {}),
    labeledInUnlabeled: meta.labeledInUnlabeled ?? meta.options?.labeledInUnlabeled ?? false,
    labeled: Array.from(split.labeled),
    unlabeled: Array.from(split.unlabeled),
    validation: Array.from(split.validation),
  };
  // One key per line, each array on one line: readable head, compact indices.
  const body = Object.entries(contents)
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(',\n');
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, `{\n${body}\n}\n`, 'utf8');
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Result of {@link loadSplitFile}. */
export interface LoadedSplit {
  readonly split: LongTailSplit;
  readonly contents: SplitFileContents;
}

/**
 * Reads a split file and validates it against `dataset`: same name and training-set size, every
 * index an integer in [0, numTrain), no duplicate within a set, no overlap between sets (labeled and
 * unlabeled may overlap only when the file says `"labeledInUnlabeled": true`).
 * @throws UserError naming the file, the set, the position and the index
 */
export async function loadSplitFile(path: string, dataset: Pick<Dataset, 'name' | 'train'>): Promise<LoadedSplit> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserError(path, `cannot read the split file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'Check the --split-file path; `ssl data split --save <file>` writes one.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(path, `is not valid JSON (${(e as Error).message})`, 'Write the split again with `ssl data split --save`, or fix the file.');
  }
  const contents = parseSplitContents(json, path);
  if (contents.dataset !== dataset.name) {
    throw new UserError(path, `the split was drawn for dataset "${contents.dataset}" but the run uses "${dataset.name}"`, 'Use the same --dataset as the split, or draw a new split.');
  }
  if (contents.numTrain !== dataset.train.count) {
    throw new UserError(
      path,
      `numTrain is ${contents.numTrain} but the ${dataset.name} training set here has ${dataset.train.count} images`,
      'The split indexes a different copy of the dataset: use the same files, or draw a new split.',
    );
  }
  const split: LongTailSplit = {
    labeled: Int32Array.from(contents.labeled),
    unlabeled: Int32Array.from(contents.unlabeled),
    validation: Int32Array.from(contents.validation),
  };
  validateSplit(split, contents.numTrain, { allowLabeledInUnlabeled: contents.labeledInUnlabeled === true, source: path });
  return { split, contents };
}

/**
 * Checks a split's indices: integers in [0, numTrain), unique within each set, sets disjoint
 * (except labeled/unlabeled when `allowLabeledInUnlabeled`). The labeled set must not be empty.
 * @param source named in errors (the file path)
 */
export function validateSplit(
  split: LongTailSplit,
  numTrain: number,
  opts: { allowLabeledInUnlabeled: boolean; source: string },
): void {
  const owner = new Int8Array(numTrain).fill(-1);
  const names = ['labeled', 'unlabeled', 'validation'] as const;
  if (split.labeled.length === 0) {
    throw new UserError(opts.source, 'the labeled set is empty', 'A split needs at least one labeled index.');
  }
  names.forEach((name, s) => {
    const set = split[name];
    const seen = new Uint8Array(numTrain);
    for (let p = 0; p < set.length; p++) {
      const i = set[p];
      if (!(i >= 0 && i < numTrain)) {
        throw new UserError(opts.source, `${name}[${p}] = ${i} is outside the training set [0, ${numTrain})`, 'Indices must point into the training set in its file order.');
      }
      if (seen[i]) {
        throw new UserError(opts.source, `${name}[${p}] = ${i} appears twice in the ${name} set`, 'Remove the duplicate index.');
      }
      seen[i] = 1;
      const prev = owner[i];
      if (prev !== -1) {
        const allowed = opts.allowLabeledInUnlabeled && names[prev] === 'labeled' && name === 'unlabeled';
        if (!allowed) {
          throw new UserError(
            opts.source,
            `${name}[${p}] = ${i} is also in the ${names[prev]} set`,
            names[prev] === 'labeled' && name === 'unlabeled'
              ? 'Sets must be disjoint; if labeled images are meant to be in the unlabeled set too, add "labeledInUnlabeled": true to the file.'
              : 'Sets must be disjoint: remove the index from one of them.',
          );
        }
      } else {
        owner[i] = s;
      }
    }
  });
}

/**
 * The split a run uses: replayed from `splitFile` when given (validated against the dataset; the
 * drawing options are then ignored), else drawn with {@link drawLongTailSplit} from the options.
 */
export async function resolveSplit(
  dataset: Pick<Dataset, 'name' | 'train' | 'numClasses'>,
  opts: LongTailSplitOptions & { readonly splitFile: string | null },
): Promise<{ split: LongTailSplit; source: 'file' | 'drawn' }> {
  if (opts.splitFile !== null) {
    const loaded = await loadSplitFile(opts.splitFile, dataset);
    assertSettingsMatch(opts.splitFile, loaded.contents, opts);
    return { split: loaded.split, source: 'file' };
  }
  return { split: drawLongTailSplit(dataset.train.labels, dataset.numClasses, opts), source: 'drawn' };
}

/**
 * Refuses a run whose split settings contradict those the file recorded: the run would train on
 * the file's split while its config.json and report described another.
 */
function assertSettingsMatch(path: string, contents: SplitFileContents, opts: LongTailSplitOptions): void {
  const recorded = (contents.options ?? {}) as Record<string, unknown>;
  const own = opts as unknown as Record<string, unknown>;
  for (const key of SPLIT_FILE_SETTINGS) {
    if (recorded[key] === undefined || own[key] === undefined || recorded[key] === own[key]) continue;
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UserError(flag, `${String(own[key])} contradicts ${path}, which was drawn with ${key} = ${String(recorded[key])}`, `Drop ${flag}: the split file sets it (or draw a new split with ssl data split --save).`);
  }
}

function parseSplitContents(json: unknown, path: string): SplitFileContents {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError(path, 'is not a JSON object', 'A split file is {"dataset", "numTrain", "labeled", "unlabeled", "validation"}.');
  }
  const o = json as Record<string, unknown>;
  if (o.version !== undefined && o.version !== SPLIT_FILE_VERSION) {
    throw new UserError(path, `has split-file version ${String(o.version)}, this ssl reads version ${SPLIT_FILE_VERSION}`, 'Draw the split again with this version of ssl.');
  }
  if (typeof o.dataset !== 'string') {
    throw new UserError(path, `field "dataset" must be a string, got ${JSON.stringify(o.dataset)}`, 'Add "dataset": "<name as in --dataset>".');
  }
  if (typeof o.numTrain !== 'number' || !Number.isInteger(o.numTrain) || o.numTrain < 0) {
    throw new UserError(path, `field "numTrain" must be the training-set size, got ${JSON.stringify(o.numTrain)}`, 'Add "numTrain": <number of training images>.');
  }
  for (const key of ['labeled', 'unlabeled', 'validation'] as const) {
    const arr = o[key];
    if (!Array.isArray(arr)) {
      throw new UserError(path, `field "${key}" must be an array of indices, got ${arr === undefined ? 'nothing' : typeof arr}`, `Add "${key}": [...] (use [] for an empty set).`);
    }
    for (let p = 0; p < arr.length; p++) {
      if (typeof arr[p] !== 'number' || !Number.isInteger(arr[p])) {
        throw new UserError(path, `${key}[${p}] = ${JSON.stringify(arr[p])} is not an integer index`, 'Indices must be integers into the training set.');
      }
    }
  }
  if (o.labeledInUnlabeled !== undefined && typeof o.labeledInUnlabeled !== 'boolean') {
    throw new UserError(path, `field "labeledInUnlabeled" must be true or false, got ${JSON.stringify(o.labeledInUnlabeled)}`, 'Use true or false.');
  }
  return o as unknown as SplitFileContents;
}
