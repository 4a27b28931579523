// Prints the README's long-tailed method table from the runs of examples/long-tailed-table.sh:
// the last EMA model of each run on the whole (balanced) test set; "CE + post-hoc LA" is the CE
// run's last model with its logits shifted by −log π (τ = 1).
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'runs/long-tailed-table';
const rows = [
  ['CE', 'ce', 'raw'],
  ['CB-focal', 'cb-focal', 'raw'],
  ['LDAM-DRW', 'ldam-drw', 'raw'],
  ['Balanced Softmax', 'balanced-softmax', 'raw'],
  ['LA (loss)', 'la-loss', 'raw'],
  ['CE + post-hoc LA', 'ce', 'postHocLa'],
  ['LADE', 'lade', 'raw'],
  ['cRT (on CE)', 'crt', 'raw'],
  ['τ-norm (on CE)', 'tau-norm', 'raw'],
  ['LWS (on CE)', 'lws', 'raw'],
  ['NCM (on CE)', 'ncm', 'raw'],
  ['BBN', 'bbn', 'raw'],
  ['Remix', 'remix', 'raw'],
];
const pct = (v) => (v === null || v === undefined ? '–' : (100 * v).toFixed(1));
console.log('| method | top-1 | balanced | many | medium | few | iterations | wall time (min) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [label, id, which] of rows) {
  const file = path.join(dir, id, 'summary.json');
  if (!existsSync(file)) {
    console.log(`| ${label} | (no run: ${file}) |||||||`);
    continue;
  }
  const s = JSON.parse(readFileSync(file, 'utf8'));
  const m = s.lastModel?.[which];
  const g = m?.groups ?? {};
  const extra = s.lastModel?.finish?.tau !== undefined ? ` (τ = ${s.lastModel.finish.tau})` : '';
  console.log(`| ${label}${extra} | ${pct(m?.top1)} | ${pct(m?.balancedAccuracy)} | ${pct(g.many?.accuracy)} | ${pct(g.medium?.accuracy)} | ${pct(g.few?.accuracy)} | ${s.iterations} | ${(s.timing.seconds / 60).toFixed(1)} |`);
}
