import { Command } from 'commander';
import {
  allOptionSpecs,
  declaredComposition,
  describeComposition,
  loadPreset,
  savedComposition,
  resolveRunConfig,
  shippedPresetLayers,
  type ConfigLayer,
} from '../config/run-config.js';
import { registry, type Composition } from '../algorithms/index.js';
import { labeledLosses } from '../losses/index.js';
import { LABELED_SAMPLERS } from '../data/samplers.js';
import { UserError } from '../errors.js';
import { runExperiment } from '../run/run-experiment.js';
import { readRunConfig } from '../run/run-config-file.js';
import { stageOneLayer } from '../run/stage-one.js';
import { splitFileLayer } from '../config/split-file-layer.js';
import { addConfigFlags, configOverrides } from './config-flags.js';
import { presetDefaultNote } from './preset-help.js';
import { processOutput, type CliOutput } from './output.js';
import { pct } from '../report/run-report.js';

const EXAMPLES = `
Examples:
  $ ssl run --list                                          # every method: name, kind, summary, paper
  $ ssl run daso --gamma-l 100 --gamma-u 1                 # FixMatch + DASO, embedded Fashion-MNIST-LT, minutes on a CPU
  $ ssl run fixmatch --with daso                            # the same run, spelled as base learner + add-on
  $ ssl run fixmatch --gamma-l 100 --gamma-u 1 --seed 1     # the baseline on the same split and schedule
  $ ssl run supervised --sampler class-balanced             # labeled split only
  $ ssl run supervised --loss ldam --drw                     # LDAM-DRW (the cosine head comes with --loss ldam)
  $ ssl run supervised --loss balanced-softmax               # or la-loss, lade, cb-focal, equalization, seesaw, ...
  $ ssl run supervised --head tde                            # De-confound-TDE's causal-norm head
  $ ssl run supervised --remix                               # Remix
  $ ssl run bbn                                              # BBN: two branches, uniform + reversed samplers
  $ ssl run decoupled --stage1 runs/<id> --classifier crt    # or tau-norm, lws, ncm: stage 2 on a finished run
  $ ssl run fixmatch --with daso --labeled-loss balanced-softmax   # any loss as an SSL learner's labeled loss
  $ ssl run daso --dataset cifar10 --data-dir ~/data/cifar-10-batches-bin --n1 500 --m1 4000 --gamma-u 0.01
                                                            # paper setting: pipelines/cifar10/*.yaml, WRN-28-2, 250k it
  $ ssl run --resume runs/<id>                              # continue where it stopped
  $ ssl run daso --split-file split.json                    # replay a split drawn by \`ssl data split --save\`
  $ ssl run daso --daso-blend fixed --daso-align off        # ablations
  $ ssl run daso --help                                     # the defaults ssl run daso uses

Values come from: built-in defaults < presets < flags. The presets of \`ssl run <method> --with a\`
are the base learner's pipelines/[<dataset>/]<method>.yaml, then each add-on's (which sets only
that add-on's options, so every "+method" run keeps its baseline's schedule); --preset file.yaml
replaces them (it may name the method: algorithm: fixmatch, with: [daso]). The resolved config is
saved as runs/<id>/config.json.`;

/** The composition `ssl run <method> --with ... --help` names, when it names a known one. */
function namedComposition(cmd: Command): Composition | undefined {
  const name = cmd.args[0];
  if (!name || !registry.get(name)) return undefined;
  const withs = (cmd.opts() as { with?: string[] }).with ?? [];
  return registry.compositionOf(name, withs.filter((w) => registry.get(w)?.kind === 'add-on'));
}

/** The `ssl run --list` table: every method, then the labeled-loss and sampler slots. */
export function formatMethodList(): string {
  const rows = registry.all().map((e) => [e.name, e.kind === 'add-on' ? `add-on (ssl run ${e.name} = ${e.defaultBase} + ${e.name})` : e.kind === 'base' ? 'base learner' : 'supervised learner', e.summary, e.paper]);
  const head = ['name', 'kind', 'summary', 'paper'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [
    line(head),
    ...rows.map(line),
    '',
    `labeled losses (--labeled-loss): ${labeledLosses.map((l) => l.name).join(', ')}`,
    `labeled samplers (--sampler): ${LABELED_SAMPLERS.join(', ')}`,
    'Compose a base learner with add-ons: ssl run fixmatch --with daso. Each method\'s options: ssl run <name> --help.',
    '',
  ].join('\n');
}

/** The composition and config layers of a run being resumed. */
async function resumeLayers(resumeDir: string, method: string | undefined, withs: readonly string[]): Promise<{ c: Composition; layers: ConfigLayer[] }> {
  const saved = await readRunConfig(resumeDir);
  const source = `${resumeDir}/config.json`;
  const c = savedComposition(saved, source);
  if (method !== undefined || withs.length > 0) {
    const asked = method !== undefined ? registry.compositionOf(method, withs) : { algorithm: c.algorithm, with: [...withs] };
    if (describeComposition(asked) !== describeComposition(c)) {
      throw new UserError('--resume', `${resumeDir} is a ${describeComposition(c)} run, not ${describeComposition(asked)}`, `Resume it with: ssl run --resume ${resumeDir}`);
    }
  }
  return { c, layers: [{ source, values: saved }] };
}

/** The composition and config layers of a new run. */
async function newRunLayers(method: string | undefined, withs: readonly string[], presetFile: string | undefined, dataset: string | undefined): Promise<{ c: Composition; layers: ConfigLayer[] }> {
  if (presetFile === undefined) {
    if (method === undefined) throw new UserError('<method>', 'no method given', 'Name one, e.g. `ssl run daso`; `ssl run --list` shows them all.');
    const c = registry.compositionOf(method, withs);
    return { c, layers: await shippedPresetLayers(c, dataset) };
  }
  const values = await loadPreset(presetFile);
  const declared = declaredComposition(values, presetFile);
  const named = method !== undefined ? registry.compositionOf(method) : undefined;
  const algorithm = declared.algorithm ?? named?.algorithm;
  if (algorithm === undefined) {
    throw new UserError('<method>', `no method given and ${presetFile} names none`, 'Name one (`ssl run fixmatch --preset ...`), or add `algorithm: <name>` to the preset.');
  }
  if (named && declared.algorithm !== undefined && declared.algorithm !== named.algorithm) {
    throw new UserError(`${presetFile}: algorithm`, `is ${declared.algorithm} but the command names ${method} (${named.algorithm})`, 'Drop the method from the command, or fix the preset.');
  }
  const all = [...(named?.with ?? []), ...(declared.with ?? []), ...withs];
  const c: Composition = { algorithm, with: all.filter((w, i) => all.indexOf(w) === i) };
  const { algorithm: _a, with: _w, ...rest } = values;
  return { c, layers: [{ source: presetFile, values: rest }] };
}

/** `ssl run [method]`: trains and reports one run. */
export function createRunCommand(output: CliOutput = processOutput, stop?: AbortSignal): Command {
  const cmd = new Command('run')
    .description('train a method (a base learner plus add-ons) on a long-tailed labeled set and an unlabeled set')
    .argument('[method]', `a base learner or an add-on (${registry.names().join(', ')}); ssl run --list describes each`)
    .option('--list', 'list every method: name, kind, one-line summary, paper')
    .option('--with <add-on>', 'add an add-on to the base learner (repeatable, applied in order)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--preset <file>', 'YAML preset instead of the shipped pipelines/ presets')
    .option('--resume <runDir>', 'continue a run from runs/<id>/checkpoints/last.ckpt');
  addConfigFlags(cmd, allOptionSpecs(), presetDefaultNote(() => namedComposition(cmd)));
  cmd.addHelpText('after', EXAMPLES);
  cmd.action(async (method: string | undefined, flags: Record<string, unknown>) => {
    if (flags.list === true) {
      output.out(formatMethodList());
      return;
    }
    const withs = (flags.with as string[] | undefined) ?? [];
    const overrides = configOverrides(flags, allOptionSpecs());
    const resumeDir = typeof flags.resume === 'string' ? flags.resume : undefined;
    const { c, layers } = resumeDir
      ? await resumeLayers(resumeDir, method, withs)
      : await newRunLayers(method, withs, typeof flags.preset === 'string' ? flags.preset : undefined, typeof overrides.dataset === 'string' ? overrides.dataset : undefined);
    const asGiven = [...layers, { source: 'command line', values: overrides }];
    const inherited = resumeDir ? null : await stageOneLayer(c, asGiven);
    if (inherited) layers.push(inherited);
    const fromSplitFile = resumeDir ? null : splitFileLayer(asGiven);
    if (fromSplitFile) layers.push(fromSplitFile);
    layers.push({ source: 'command line', values: overrides });
    const config = resolveRunConfig(c, layers);
    const result = await runExperiment(config, { resumeDir, stop, log: (line) => output.err(`${line}\n`) });
    const s = result.summary;
    output.out(
      `${s.algorithm} on ${s.dataset}: test top-1 ${pct(s.final.top1)}, balanced ${pct(s.final.balancedAccuracy)}, ` +
        `G-mean ${pct(s.final.geometricMeanRecall)} (${s.selection.rule}); ${s.iterations} it in ${(s.timing.seconds / 60).toFixed(1)} min\n` +
        `report: ${result.runDir}/report.html, ${result.runDir}/report.md\n`,
    );
  });
  return cmd;
}
