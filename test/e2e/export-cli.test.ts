/**
 * `ssl export` + `ssl predict` through main() on a tiny wrn-28-2 run (32x32 RGB image folder, a few
 * steps): the exported folder predicts what the run predicts. And a head export cannot write is
 * refused with exit 2, naming the head, before anything is written.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { writeImageFolder } from '../helpers/image-folder.js';
import { cli, testBackend } from '../helpers/cli.js';
import { loadImageFolder } from '../../src/data/sources/index.js';

let backend = 'cpu';
let dataDir = '';
const work = mkdtempSync(path.join(tmpdir(), 'ssl-export-cli-'));
beforeAll(async () => {
  dataDir = await writeImageFolder(path.join(work, 'data'), syntheticDataset({ trainPerClass: 16, testPerClass: 2 }));
  backend = await testBackend();
  // A test image at the model's size (the image folder resizes to 32x32 RGB).
  const ds = await loadImageFolder(dataDir);
  const size = ds.test.height * ds.test.width * ds.test.channels;
  await sharp(Buffer.from(ds.test.images.subarray(0, size)), { raw: { width: ds.test.width, height: ds.test.height, channels: 3 } }).png().toFile(path.join(work, 'test.png'));
});

const train = (runId: string, ...extra: string[]) =>
  cli('run', 'supervised', '--dataset', 'image-folder', '--data-dir', dataDir, '--n1', '8', '--m1', '4', '--gamma-l', '2', '--validation-per-class', '2',
    '--iterations', '3', '--eval-every', '3', '--labeled-batch', '4', '--workers', '0', '--progress', 'none', '--backend', backend,
    '--out-dir', work, '--run-id', runId, ...extra);

describe('ssl export on wrn-28-2', () => {
  it('writes the run\'s WRN, and ssl predict gives the run\'s probabilities from the exported folder', async () => {
    const run = await train('wrn', '--net', 'wrn-28-2');
    expect(run.code, run.err).toBe(0);
    const exported = await cli('export', path.join(work, 'wrn'), '--out-dir', path.join(work, 'wrn-model'));
    expect(exported.code, exported.err).toBe(0);
    expect(exported.out).toMatch(/exported wrn \(step 3\) to .*: model\.json, weights\.bin, metadata\.json; probabilities match the run's to /);
    const meta = JSON.parse(readFileSync(path.join(work, 'wrn-model', 'metadata.json'), 'utf8'));
    expect(meta).toMatchObject({ net: 'wrn-28-2', height: 32, width: 32, channels: 3, step: 3 });
    const fromRun = await cli('predict', path.join(work, 'wrn'), path.join(work, 'test.png'), '--json');
    const fromExport = await cli('predict', path.join(work, 'wrn-model'), path.join(work, 'test.png'), '--json');
    expect(fromExport.code, fromExport.err).toBe(0);
    const a = JSON.parse(fromRun.out) as { classIndex: number; probabilities: number[] };
    const b = JSON.parse(fromExport.out) as { classIndex: number; probabilities: number[] };
    expect(b.classIndex).toBe(a.classIndex);
    expect(b.probabilities).toHaveLength(4);
    a.probabilities.forEach((p, c) => expect(Math.abs(p - b.probabilities[c])).toBeLessThan(1e-5));
  });

  it('refuses a cosine head with exit 2, naming it, and writes nothing', async () => {
    const run = await train('cosine', '--head', 'cosine');
    expect(run.code, run.err).toBe(0);
    const r = await cli('export', path.join(work, 'cosine'), '--out-dir', path.join(work, 'cosine-model'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--head cosine, which L2-normalises its features.*ssl export writes linear and LWS heads.*ssl predict <runDir>/);
    expect(existsSync(path.join(work, 'cosine-model'))).toBe(false);
  });
});
