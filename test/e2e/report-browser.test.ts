/**
 * The HTML reports in a real browser: headless Chromium (Debian `chromium`, which .ci/run installs)
 * loads a run's report.html and a study's report.html from a local server, and the test asserts
 * that the page rendered its tables and every image (non-zero natural size), that nothing went to
 * the console, and that a screenshot of the page is not blank. Only where Chromium is absent does
 * the test skip, saying so.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import sharp from 'sharp';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { writeImageFolder } from '../helpers/image-folder.js';
import { cli, testBackend } from '../helpers/cli.js';
import { validateDefinition } from '../../src/study/definition.js';
import { planStudy, writeStudyPlan } from '../../src/study/plan.js';
import { executeStudyRun } from '../../src/study/execute-run.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/**
 * Runs before anything else on the page (first thing in <head>): records errors, including images
 * that fail to load (error events do not bubble: captured), and console output; after `load`,
 * writes what it found into <pre id="page-check"> for --dump-dom to return.
 */
const CHECKER = `<script>
(() => {
  const errors = [];
  window.addEventListener('error', (e) => errors.push(e.target && e.target.tagName ? 'failed to load ' + (e.target.src || e.target.tagName) : String(e.message)), true);
  for (const level of ['error', 'warn']) { const orig = console[level]; console[level] = (...a) => { errors.push(level + ': ' + a.join(' ')); orig.apply(console, a); }; }
  window.addEventListener('load', () => {
    const images = [...document.images].map((i) => ({ src: i.getAttribute('src'), width: i.naturalWidth, height: i.naturalHeight }));
    const tables = [...document.querySelectorAll('table')].map((t) => t.querySelectorAll('tbody tr').length);
    const pre = document.createElement('pre');
    pre.id = 'page-check';
    pre.textContent = JSON.stringify({ images, tables, headings: [...document.querySelectorAll('h1, h2')].map((h) => h.textContent), errors });
    document.body.appendChild(pre);
  });
})();
</script>`;

/** Serves `root`; with `check`, every HTML page gets the checker script. */
function serve(root: string, check: boolean): Promise<{ server: Server; port: number }> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.png': 'image/png', '.json': 'application/json' };
  const server = createServer((req, res) => {
    const file = path.join(root, decodeURIComponent((req.url ?? '/').split('?')[0]));
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    let body: Buffer | string = readFileSync(file);
    if (check && file.endsWith('.html')) body = body.toString('utf8').replace('<head>', `<head>${CHECKER}`);
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

function chromium(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(CHROMIUM as string, ['--headless=new', '--no-sandbox', '--disable-gpu', '--enable-logging=stderr', '--v=0', '--virtual-time-budget=20000', ...args], { timeout: 120_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) =>
      err ? reject(err) : resolve({ stdout, stderr }),
    ),
  );
}

interface PageCheck {
  readonly images: ReadonlyArray<{ readonly src: string; readonly width: number; readonly height: number }>;
  readonly tables: ReadonlyArray<number>;
  readonly headings: ReadonlyArray<string>;
  readonly errors: ReadonlyArray<string>;
}

/** Loads the page twice: once with the checker (DOM dump), once for a screenshot. */
async function inBrowser(root: string, page: string, shot: string): Promise<{ check: PageCheck; console: string[] }> {
  const checked = await serve(root, true);
  let dom: { stdout: string; stderr: string };
  try {
    dom = await chromium(['--dump-dom', `http://127.0.0.1:${checked.port}/${page}`]);
  } finally {
    checked.server.close();
  }
  const json = /<pre id="page-check">([^<]*)<\/pre>/.exec(dom.stdout)?.[1];
  expect(json, `the page never fired load: ${dom.stdout.slice(0, 300)}`).toBeTruthy();
  const check = JSON.parse((json ?? '').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as PageCheck;
  const plain = await serve(root, false);
  try {
    await chromium([`--screenshot=${shot}`, '--window-size=1280,2000', '--hide-scrollbars', `http://127.0.0.1:${plain.port}/${page}`]);
  } finally {
    plain.server.close();
  }
  // Chromium logs every console message of a page as INFO:CONSOLE; our pages have no script of their own.
  return { check, console: dom.stderr.split('\n').filter((l) => /:CONSOLE\(/.test(l) || /:CONSOLE:/.test(l)) };
}

/** The screenshot exists, has the window's size and is not one flat colour. */
async function expectNonBlankShot(file: string): Promise<void> {
  const meta = await sharp(file).metadata();
  expect([meta.width, meta.height]).toEqual([1280, 2000]);
  const stats = await sharp(file).stats();
  expect(Math.max(...stats.channels.map((c) => c.stdev))).toBeGreaterThan(10);
}

describe.skipIf(CHROMIUM === undefined)('HTML reports in headless Chromium', () => {
  let work = '';
  let studyDir = '';
  let runDir = '';
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ssl-report-browser-'));
    const dataDir = await writeImageFolder(path.join(work, 'data'), syntheticDataset({ trainPerClass: 60, testPerClass: 20 }));
    const set = {
      dataset: 'image-folder', dataDir, n1: 20, m1: 20, gammaL: 4, validationPerClass: 5, iterations: 6, evalEvery: 3, labeledBatch: 8,
      dasoWarmup: 2, dasoHistogramWindow: 2, plWindow: 2, checkpointEvery: 6, workers: 0, backend: await testBackend(),
    };
    const plan = await planStudy(validateDefinition({ kind: 'mismatch', name: 'browser', methods: ['fixmatch', 'daso'], gammaU: [4], seeds: [0], set }, 'test'), 'test');
    studyDir = path.join(work, 'studies', plan.id);
    await writeStudyPlan(studyDir, plan);
    // In this process, one after the other: what a run process does for each run.
    for (const run of plan.runs) await executeStudyRun(studyDir, plan, run.runId, { threads: 0 });
    runDir = path.join(studyDir, 'runs', plan.runs[1].runId);
    const study = await cli('report', studyDir);
    expect(study.code, study.err).toBe(0);
    const run = await cli('report', runDir);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/written: .*report\.md, .*report\.html, \d+ charts/);
  }, 300_000);

  it("a run's report.html renders its tables and every chart, with no console output", async () => {
    const { check, console } = await inBrowser(runDir, 'report.html', path.join(work, 'run.png'));
    expect(check.errors).toEqual([]);
    expect(console).toEqual([]);
    expect(check.headings).toEqual(expect.arrayContaining(['Per class', 'Pseudo-labels', 'Charts']));
    expect(check.tables.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...check.tables)).toBeGreaterThan(0);
    const srcs = check.images.map((i) => i.src);
    expect(srcs).toEqual(expect.arrayContaining(['charts/class-counts.png', 'charts/per-class.png', 'charts/accuracy-curve.png', 'charts/pseudo-label-heatmap-final.png', 'charts/pseudo-label-heatmap-semantic.png']));
    for (const img of check.images) expect([img.src, img.width > 0 && img.height > 0]).toEqual([img.src, true]);
    await expectNonBlankShot(path.join(work, 'run.png'));
  }, 240_000);

  it("a study's report.html renders its mean ± std tables and charts, with no console output", async () => {
    const { check, console } = await inBrowser(studyDir, 'report.html', path.join(work, 'study.png'));
    expect(check.errors).toEqual([]);
    expect(console).toEqual([]);
    expect(check.headings).toEqual(expect.arrayContaining(['Balanced accuracy (test)', 'Tail-class pseudo-label recall / precision', 'Runs']));
    // Balanced accuracy: one row per method.
    expect(check.tables[0]).toBe(2);
    expect(check.images.map((i) => i.src)).toEqual(['charts/study-balanced-accuracy.png', 'charts/study-tail-pl-recall.png', 'charts/study-prior-kl-gu4.png', 'charts/study-pl-recall-gu4.png']);
    for (const img of check.images) expect([img.src, img.width > 0 && img.height > 0]).toEqual([img.src, true]);
    await expectNonBlankShot(path.join(work, 'study.png'));
  }, 240_000);
});
