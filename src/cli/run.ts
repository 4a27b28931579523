import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { allOptionSpecs, assertAlgorithm, algorithmNames, algorithmSections, defaultPresetPath, loadPreset, resolveRunConfig } from '../config/run-config.js';
import { runExperiment, readRunConfig } from '../train/run-experiment.js';
import { addConfigFlags, configOverrides } from './config-flags.js';
import { processOutput, type CliOutput } from './output.js';
import { pct } from '../report/run-report.js';

const EXAMPLES = `
Examples:
  $ ssl run daso --gamma-l 100 --gamma-u 1                 # embedded Fashion-MNIST-LT, minutes on a CPU
  $ ssl run fixmatch --gamma-l 100 --gamma-u 1 --seed 1     # the baseline on the same split and schedule
  $ ssl run daso --dataset cifar10 --data-dir ~/data/cifar-10-batches-bin --net wrn-28-2 --n1 500 --m1 4000 --gamma-u 0.01
                                                            # paper setting: pipelines/cifar10/daso.yaml, 250k it
  $ ssl run daso --resume runs/<id>                         # continue where it stopped
  $ ssl run daso --split-file split.json                    # replay a split drawn by \`ssl data split --save\`
  $ ssl run daso --daso-blend fixed --daso-align off        # ablations

Values come from: built-in defaults < preset < flags. The preset is --preset, else
pipelines/<dataset>/<algorithm>.yaml when shipped (cifar10, cifar100: the paper's setting), else
pipelines/<algorithm>.yaml (the embedded Fashion-MNIST schedule).
The resolved config is saved as runs/<id>/config.json.`;

/**
 * The shipped presets' values, so `--help` shows what a plain `ssl run daso` actually uses (the
 * defaults listed per flag are the built-in ones, which the preset overrides).
 */
function presetHelp(): string {
  const lines = ['Preset values (override the built-in defaults above):'];
  for (const algorithm of algorithmNames) {
    const file = defaultPresetPath(algorithm);
    try {
      const values = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
      const pairs = Object.entries(values)
        .filter(([k]) => k !== 'algorithm')
        .map(([k, v]) => `${k}: ${String(v)}`);
      lines.push(`  pipelines/${algorithm}.yaml  ${pairs.join(', ')}`);
    } catch {
      lines.push(`  pipelines/${algorithm}.yaml  (unreadable: ${file})`);
    }
  }
  return lines.join('\n');
}

/** Which algorithm-specific section a key belongs to, for `[daso only]` in --help. */
function scopeOf(key: string): string | null {
  const owners = algorithmNames.filter((a) => algorithmSections[a].some((s) => key in s));
  return owners.length > 0 && owners.length < algorithmNames.length ? owners.join('/') : null;
}

/** `ssl run <algorithm>`: trains and reports one run. */
export function createRunCommand(output: CliOutput = processOutput): Command {
  const cmd = new Command('run')
    .description('train FixMatch or FixMatch+DASO on a long-tailed labeled set and an unlabeled set')
    .argument('<algorithm>', `one of: ${algorithmNames.join(', ')}`)
    .option('--preset <file>', 'YAML preset instead of pipelines/<algorithm>.yaml')
    .option('--resume <runDir>', 'continue a run from runs/<id>/checkpoints/last.ckpt');
  addConfigFlags(cmd, allOptionSpecs(), scopeOf);
  cmd.addHelpText('after', () => `${EXAMPLES}\n${presetHelp()}`);
  cmd.action(async (algorithmArg: string, flags: Record<string, unknown>) => {
    const algorithm = assertAlgorithm(algorithmArg);
    const overrides = configOverrides(flags, allOptionSpecs());
    const resumeDir = typeof flags.resume === 'string' ? flags.resume : undefined;
    const presetFile =
      typeof flags.preset === 'string' ? flags.preset : defaultPresetPath(algorithm, typeof overrides.dataset === 'string' ? overrides.dataset : undefined);
    const layers = resumeDir
      ? [{ source: `${resumeDir}/config.json`, values: await readRunConfig(resumeDir) }]
      : [{ source: presetFile, values: await loadPreset(presetFile) }];
    layers.push({ source: 'command line', values: overrides });
    const config = resolveRunConfig(algorithm, layers);
    const result = await runExperiment(config, { resumeDir, log: (line) => output.err(`${line}\n`) });
    const s = result.summary;
    output.out(
      `${s.algorithm} on ${s.dataset}: test top-1 ${pct(s.final.top1)}, balanced ${pct(s.final.balancedAccuracy)}, ` +
        `G-mean ${pct(s.final.geometricMeanRecall)} (${s.selection.rule}); ${s.iterations} it in ${(s.timing.seconds / 60).toFixed(1)} min\n` +
        `report: ${result.runDir}/report.html, ${result.runDir}/summary.md\n`,
    );
  });
  return cmd;
}
