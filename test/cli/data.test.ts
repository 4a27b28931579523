import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { createDataCommand, formatSplitTable } from '../../src/cli/data.js';

// Tests of src/cli/data.ts (kept under test/data/ with the rest of the data layer).

const dir = mkdtempSync(join(tmpdir(), 'ssl-cli-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  let text = '';
  await createDataCommand({ out: (s) => (text += s) }).parseAsync(args, { from: 'user' });
  return text;
}

async function failure(args: string[]): Promise<unknown> {
  try {
    await createDataCommand({ out: () => undefined, err: () => undefined }).parseAsync(args, { from: 'user' });
  } catch (e) {
    return e;
  }
  throw new Error('expected the command to throw');
}

const LABELED_1500 = [1500, 899, 539, 323, 193, 116, 69, 41, 25, 15];

describe('ssl data split', () => {
  it('prints per-class JSON counts for the embedded Fashion-MNIST (defaults of a plain run: N_1=1500, M_1=3000, 100 val)', async () => {
    const text = await run(['split', '--dataset', 'fashion-mnist', '--gamma-l', '100', '--gamma-u', '1', '--json']);
    const counts = JSON.parse(text);
    expect(Object.keys(counts)).toEqual(['labeled', 'unlabeled', 'validation', 'test']);
    expect(counts.labeled).toEqual(LABELED_1500);
    expect(counts.unlabeled).toEqual(new Array(10).fill(3000));
    // The shipped preset's 100 per class: the split a plain `ssl run fixmatch` draws.
    expect(counts.validation).toEqual(new Array(10).fill(100));
    expect(counts.test).toEqual(new Array(10).fill(1000));
  });

  it('prints a table with class names and totals, and saves the indices', async () => {
    const file = join(dir, 'split.json');
    const text = await run(['split', '--gamma-u', '0.01', '--n1', '500', '--m1', '4000', '--validation-per-class', '100', '--seed', '2', '--save', file]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^fashion-mnist: γ_l=100 γ_u=0\.01 N_1=500 M_1=4000, 100 validation\/class, seed 2$/);
    expect(lines[1].split(/\s+/)).toEqual(['class', 'labeled', 'unlabeled', 'validation', 'test']);
    expect(lines[2].split(/\s{2,}/)).toEqual(['T-shirt/top', '500', '40', '100', '1000']);
    expect(lines[11].split(/\s{2,}/)).toEqual(['Ankle boot', '5', '4000', '100', '1000']);
    expect(lines[12].split(/\s+/)).toEqual(['total', '1236', '9922', '1000', '10000']);
    expect(lines[13]).toBe(`saved split indices to ${file}`);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({ dataset: 'fashion-mnist', numTrain: 60000, numClasses: 10, seed: 2 });
    expect(saved.labeled.length).toBe(1236);
    expect(saved.unlabeled.length).toBe(9922);
    expect(saved.validation.length).toBe(1000);
  });

  it('rejects bad values naming the flag and the value', async () => {
    const zero = await failure(['split', '--gamma-l', '0']);
    expect(zero).toBeInstanceOf(UserError);
    expect((zero as UserError).field).toMatch(/--gamma-l/);
    expect((zero as UserError).message).toMatch(/value 0 is invalid/);
    const nan = (await failure(['split', '--n1', 'many'])) as UserError;
    expect(nan.message).toMatch(/n1 \(--n1\): value "many" is invalid/);
    const big = (await failure(['split', '--n1', '6000'])) as UserError;
    expect(big.field).toBe('--n1');
    expect(big.message).toMatch(/got 6000, but class 0 has 6000 training images.*n1 <= 5900/);
    const unknown = (await failure(['split', '--dataset', 'imagenet'])) as UserError;
    expect(unknown.field).toMatch(/--dataset/);
    expect(unknown.message).toMatch(/imagenet/);
    expect(unknown.message).toMatch(/cifar10/);
  });

  it('throws a CommanderError (no process.exit) on an unknown flag', async () => {
    const err = await failure(['split', '--gama-l', '3']);
    expect(err).toBeInstanceOf(CommanderError);
    expect((err as CommanderError).code).toBe('commander.unknownOption');
  });

  it('shows defaults and examples in --help', async () => {
    let text = '';
    const err = await (async () => {
      try {
        await createDataCommand({ out: (s) => (text += s) }).parseAsync(['split', '--help'], { from: 'user' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect((err as CommanderError).code).toBe('commander.helpDisplayed');
    expect(text).toMatch(/--gamma-u <n>.*\(default: 1\)/s);
    expect(text).toMatch(/--n1 <n>.*\(default: 1500\)/s);
    // The same default a plain run uses, and where it comes from.
    expect(text.replace(/\s+/g, ' ')).toMatch(/--validation-per-class <n> [^]*?\(default: 100 from pipelines\/fixmatch\.yaml; built-in 500\)/);
    expect(text).not.toMatch(/--val-per-class/);
    expect(text).toMatch(/Examples:\n.*ssl data split --dataset fashion-mnist/s);
  });
});

describe('formatSplitTable', () => {
  it('right-aligns counts under their headers and adds totals', () => {
    const table = formatSplitTable(['a', 'long name'], { labeled: [10, 1], unlabeled: [5, 5], validation: [2, 2], test: [100, 100] });
    expect(table).toBe(
      [
        'class      labeled  unlabeled  validation  test',
        'a               10          5           2   100',
        'long name        1          5           2   100',
        'total           11         10           4   200',
        '',
      ].join('\n'),
    );
  });
});
