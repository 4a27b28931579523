/**
 * What a newcomer hits, through `main()` as the binary runs it: file-system errors, split files
 * that disagree with flags, impossible imbalance ratios, empty class folders, a closed pipe.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { writeImageFolder } from '../helpers/image-folder.js';
import { cli, testBackend } from '../helpers/cli.js';
import { fileSystemUserError } from '../../src/cli/fs-error.js';

let backend = 'cpu';
let dataDir = '';
beforeAll(async () => {
  dataDir = await writeImageFolder(mkdtempSync(path.join(tmpdir(), 'ssl-rough-data-')), syntheticDataset({ trainPerClass: 60, testPerClass: 20 }));
  backend = await testBackend();
});

const data = (): string[] => ['--dataset', 'image-folder', '--data-dir', dataDir];
const splitFlags = ['--n1', '20', '--m1', '20', '--gamma-l', '4', '--validation-per-class', '5'];
/** A two-step run; `withSplit: false` leaves the split settings to a --split-file. */
const tinyRun = (outDir: string, runId: string, withSplit = true): string[] => [
  ...data(), ...(withSplit ? splitFlags : []), '--iterations', '2', '--eval-every', '2', '--labeled-batch', '8',
  '--workers', '0', '--progress', 'none', '--backend', backend, '--out-dir', outDir, '--run-id', runId,
];
const noTrace = (err: string): void => expect(err).not.toMatch(/internal error|\n\s+at /);

describe('rough edges a newcomer hits', () => {
  it('a --split-file run records the file\'s split settings, and a contradicting flag is refused naming both values', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ssl-rough-split-'));
    const file = path.join(dir, 'split.json');
    const saved = await cli('data', 'split', ...data(), '--n1', '20', '--m1', '20', '--gamma-l', '4', '--validation-per-class', '5', '--save', file);
    expect(saved.code, saved.err).toBe(0);
    const ok = await cli('run', 'supervised', ...tinyRun(dir, 'replay', false), '--split-file', file);
    expect(ok.code, ok.err).toBe(0);
    const config = JSON.parse(readFileSync(path.join(dir, 'replay', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ gammaL: 4, n1: 20, m1: 20, validationPerClass: 5 });
    const bad = await cli('run', 'supervised', ...tinyRun(dir, 'bad'), '--split-file', file, '--gamma-l', '10');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--gamma-l: 10 contradicts .*split\.json, which was drawn with gammaL = 4/);
    expect(existsSync(path.join(dir, 'bad'))).toBe(false);
  });

  it('an --out-dir that is a file, and --save at a folder or an existing file, are clear errors (exit 2)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ssl-rough-fs-'));
    const file = path.join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const run = await cli('run', 'supervised', ...tinyRun(file, 'r'));
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/not-a-folder\/r: a part of this path is a file, not a folder \(mkdir\)/);
    noTrace(run.err);
    const toFolder = await cli('data', 'split', ...data(), ...splitFlags, '--save', dir);
    expect(toFolder.code).toBe(2);
    expect(toFolder.err).toMatch(/--save: .* is a folder\. Give a file path/);
    const again = await cli('data', 'split', ...data(), ...splitFlags, '--save', file);
    expect(again.err).toMatch(/--save: .*not-a-folder already exists\. Pick another file, or pass --force/);
    expect(readFileSync(file, 'utf8')).toBe('x');
    const forced = await cli('data', 'split', ...data(), ...splitFlags, '--save', file, '--force');
    expect(forced.code, forced.err).toBe(0);
  });

  it('maps read-only, permission and disk-full errors to the path and a fix', () => {
    const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code, syscall: 'open', path: '/runs/x/config.json' });
    expect(fileSystemUserError(err('EROFS'))?.message).toMatch(/^\/runs\/x\/config\.json: the file system is read-only \(open\)\. Choose a folder on a writable disk/);
    expect(fileSystemUserError(err('EACCES'))?.message).toMatch(/permission denied/);
    expect(fileSystemUserError(err('ENOSPC'))?.message).toMatch(/the disk is full/);
    expect(fileSystemUserError(new Error('plain'))).toBeUndefined();
  });

  it('a γ_l that leaves classes without labeled images is refused, naming them and the largest usable γ_l', async () => {
    const r = await cli('run', 'supervised', ...tinyRun(mkdtempSync(path.join(tmpdir(), 'ssl-rough-g-')), 'g'), '--gamma-l', '100000');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/gammaL: 100000 leaves classes 1, 2, 3 with no labeled image.*Use --gamma-l ≤ 20/);
  });

  it('an empty class folder is named, with the fix', async () => {
    const root = await writeImageFolder(mkdtempSync(path.join(tmpdir(), 'ssl-rough-empty-')), syntheticDataset({ trainPerClass: 30, testPerClass: 5 }));
    mkdirSync(path.join(root, 'train', 'zebra'));
    const r = await cli('data', 'split', '--dataset', 'image-folder', '--data-dir', root, '--n1', '10', '--m1', '10', '--validation-per-class', '2');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/train\/zebra: is an empty class folder.*Remove the folder, or put the class's images in it/);
  });

  it('`ssl run --help | head -1` ends quietly when the reader closes the pipe (no EPIPE trace)', async () => {
    const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'ssl.js');
    expect(existsSync(path.join(path.dirname(bin), '..', 'dist', 'cli', 'main.js')), 'dist/ is built by npm ci (npm run build)').toBe(true);
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'run', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(result.code).toBe(0);
  });

  it('Ctrl-C / SIGTERM stops a command other than `ssl run` at once (only training finishes its step first)', async () => {
    const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'ssl.js');
    const child = spawn(process.execPath, [bin, 'bench', '--net', 'cnn-small', '--backend', 'cpu', '--no-torch-reference', '--steps', '1000', '--rounds', '10'], { stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await new Promise((r) => setTimeout(r, 1500));
    const sent = Date.now();
    child.kill('SIGTERM');
    const { signal } = await exited;
    expect(signal).toBe('SIGTERM');
    expect(Date.now() - sent).toBeLessThan(5000);
  });
});
