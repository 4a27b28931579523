/**
 * `ssl export` → the page in examples/browser, in headless Chromium, against `ssl predict`: the
 * browser's probabilities for a test image equal ours to 1e-4. Chromium is Debian's `chromium`
 * (.ci/run installs it); only where it is absent does the test skip, saying so.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { writeImageFolder } from '../helpers/image-folder.js';
import { cli } from '../helpers/cli.js';
import { loadImageFolder } from '../../src/data/sources/index.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Serves `routes` (URL path prefix → folder or file) on 127.0.0.1. */
function serve(routes: Record<string, string>): Promise<{ server: Server; port: number }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.png': 'image/png', '.bin': 'application/octet-stream' };
  const server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const prefix = Object.keys(routes).sort((a, b) => b.length - a.length).find((p) => url === p || url.startsWith(p.endsWith('/') ? p : `${p}/`));
    const file = prefix === undefined ? undefined : url === prefix ? routes[prefix] : path.join(routes[prefix], url.slice(prefix.length));
    if (!file || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

function dumpDom(url: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(CHROMIUM as string, ['--headless=new', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=60000', '--dump-dom', url], { timeout: 120_000, maxBuffer: 1 << 24 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
}

describe.skipIf(CHROMIUM === undefined)('the exported model in a browser', () => {
  let work = '';
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ssl-browser-'));
    const dataDir = await writeImageFolder(path.join(work, 'data'), syntheticDataset({ trainPerClass: 60, testPerClass: 20 }));
    const run = await cli('run', 'supervised', '--dataset', 'image-folder', '--data-dir', dataDir, '--n1', '20', '--m1', '20', '--gamma-l', '4', '--validation-per-class', '5',
      '--iterations', '20', '--eval-every', '10', '--labeled-batch', '8', '--workers', '0', '--progress', 'none', '--out-dir', work, '--run-id', 'run');
    expect(run.code, run.err).toBe(0);
    // A test image at the model's own size (32x32 RGB after the image folder's resize), so the browser draws it pixel for pixel.
    const ds = await loadImageFolder(dataDir);
    const size = ds.test.height * ds.test.width * ds.test.channels;
    await sharp(Buffer.from(ds.test.images.subarray(size, 2 * size)), { raw: { width: ds.test.width, height: ds.test.height, channels: 3 } }).png().toFile(path.join(work, 'test.png'));
  }, 300_000);

  it('ssl export writes model.json + weights.bin + metadata.json, and ssl predict gives the run\'s answer from either', async () => {
    const exported = await cli('export', path.join(work, 'run'), '--out-dir', path.join(work, 'model'));
    expect(exported.code, exported.err).toBe(0);
    for (const f of ['model.json', 'weights.bin', 'metadata.json']) expect(existsSync(path.join(work, 'model', f)), f).toBe(true);
    const fromRun = JSON.parse((await cli('predict', path.join(work, 'run'), path.join(work, 'test.png'), '--json')).out);
    const fromExport = JSON.parse((await cli('predict', path.join(work, 'model'), path.join(work, 'test.png'), '--json')).out);
    expect(fromExport.classIndex).toBe(fromRun.classIndex);
    fromRun.probabilities.forEach((p: number, c: number) => expect(Math.abs(p - fromExport.probabilities[c])).toBeLessThan(1e-5));
    expect((await cli('export', path.join(work, 'nope'))).err).toMatch(/nope has no config\.json/);
  });

  it('the page in headless Chromium gives ssl predict\'s probabilities to 1e-4', async () => {
    const ours = JSON.parse((await cli('predict', path.join(work, 'run'), path.join(work, 'test.png'), '--json')).out) as { classIndex: number; probabilities: number[] };
    const { server, port } = await serve({
      '/': path.join(ROOT, 'examples', 'browser', 'index.html'),
      '/app.js': path.join(ROOT, 'examples', 'browser', 'app.js'),
      '/tf.min.js': path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs', 'dist', 'tf.min.js'),
      '/model': path.join(work, 'model'),
      '/test.png': path.join(work, 'test.png'),
    });
    try {
      const dom = await dumpDom(`http://127.0.0.1:${port}/?image=/test.png&backend=cpu`);
      const json = /<pre id="result">([^<]*)<\/pre>/.exec(dom)?.[1];
      expect(json, `the page wrote no result; its status: ${/<p id="status">([^<]*)</.exec(dom)?.[1]}`).toBeTruthy();
      const browser = JSON.parse((json ?? '').replace(/&quot;/g, '"')) as { classIndex: number; probabilities: number[] };
      expect(browser.classIndex).toBe(ours.classIndex);
      ours.probabilities.forEach((p, c) => expect(Math.abs(p - browser.probabilities[c])).toBeLessThan(1e-4));
    } finally {
      server.close();
    }
  }, 180_000);
});
