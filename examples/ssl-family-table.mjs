// Prints the README's imbalanced-SSL table from the runs of examples/ssl-family-table.sh: per γ_u
// and method, the reported test numbers (the selection rule each run recorded), and the tail
// classes' pseudo-label recall and precision (final pseudo-labels, all of them, averaged over the
// last windows), then whether DASO raised tail recall over its base while keeping precision.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'runs/ssl-family-table';
const rows = [
  ['FixMatch', 'fixmatch'],
  ['+ DASO', 'fixmatch-daso'],
  ['+ DASO + LA', 'fixmatch-daso-la'],
  ['+ ABC', 'fixmatch-abc'],
  ['+ DARP', 'fixmatch-darp'],
  ['+ CReST+', 'fixmatch-crest'],
  ['ReMixMatch', 'remixmatch'],
  ['ReMixMatch + DASO', 'remixmatch-daso'],
  ['FlexMatch', 'flexmatch'],
];
const settings = [['100', 'γ_u = 100 (consistent)'], ['1', 'γ_u = 1 (uniform)'], ['0.01', 'γ_u = 1/100 (reversed)']];
const pct = (v) => (v === null || v === undefined || Number.isNaN(v) ? '–' : (100 * v).toFixed(1));
const load = (id) => {
  const file = path.join(dir, id, 'summary.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
};
// Tail = the few-shot group of the labeled counts (the report's rule), the same classes in every run.
const tailOf = (s) => s.final.groups.few.classes;
const meanOver = (values, classes) => {
  const v = classes.map((c) => values?.[c]).filter((x) => x !== null && x !== undefined);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
const tailPl = (s) => {
  const final = s.pseudoLabels?.sources?.final?.all?.averaged;
  const tail = tailOf(s);
  return { recall: meanOver(final?.recall, tail), precision: meanOver(final?.precision, tail) };
};
let first = true;
const fingerprints = new Set();
for (const [gu, title] of settings) {
  console.log(`\n**${title}**\n`);
  console.log('| method | balanced | many | medium | few | tail PL recall | tail PL precision | minutes |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  const cell = {};
  for (const [label, id] of rows) {
    const s = load(`${id}-gu${gu}`);
    if (!s) {
      console.log(`| ${label} | (no run) |||||||`);
      continue;
    }
    if (first) console.error(`selection rule: ${s.selection.rule}, iterations ${s.iterations}, tail classes ${tailOf(s).join(', ')}`);
    first = false;
    if (s.schedule) fingerprints.add(s.schedule.fingerprint);
    const g = s.final.groups;
    const pl = tailPl(s);
    cell[id] = pl;
    console.log(`| ${label} | ${pct(s.final.balancedAccuracy)} | ${pct(g.many.accuracy)} | ${pct(g.medium.accuracy)} | ${pct(g.few.accuracy)} | ${pct(pl.recall)} | ${pct(pl.precision)} | ${(s.timing.seconds / 60).toFixed(1)} |`);
  }
  for (const [base, withDaso] of [['fixmatch', 'fixmatch-daso'], ['remixmatch', 'remixmatch-daso']]) {
    const a = cell[base];
    const b = cell[withDaso];
    if (!a || !b || a.recall === null || b.recall === null) continue;
    const verdict = b.recall > a.recall ? (b.precision !== null && a.precision !== null && b.precision >= a.precision - 0.05 ? 'holds' : 'recall up, precision down more than 5 points') : 'does NOT hold: tail recall not raised';
    console.log(`\n${withDaso} vs ${base}: tail PL recall ${pct(a.recall)} → ${pct(b.recall)}, precision ${pct(a.precision)} → ${pct(b.precision)}: DASO's signature ${verdict}.`);
  }
}
console.error(`schedules: ${fingerprints.size === 1 ? 'one fingerprint for every run' : `${fingerprints.size} different fingerprints (rows are not comparable)`}`);
