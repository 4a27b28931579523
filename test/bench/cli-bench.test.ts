import { describe, expect, it } from 'vitest';
import { createBenchCommand } from '../../src/cli/bench.js';
import type { BenchDeps } from '../../src/bench/run-bench.js';
import type { OurRunner, OurRunnerOptions } from '../../src/bench/our-runner.js';
import type { TorchReferenceOptions } from '../../src/bench/torch-reference.js';
import { UserError } from '../../src/errors.js';

interface Captured {
  out: string;
  err: string;
}

/** Fake backends and PyTorch: record every call, report fixed speeds. No tfjs, no Python. */
function fakeDeps(opts: { python?: boolean } = {}) {
  const calls: string[] = [];
  const ourOptions: OurRunnerOptions[] = [];
  const refOptions: TorchReferenceOptions[] = [];
  const memory = { rss: 100 * 1024 * 1024, tfjsTensors: 50, nativeTensors: 60 };
  const deps: BenchDeps = {
    registerGradients: async () => {},
    selectBackend: async (name, threads) => {
      calls.push(`select ${name} ${threads}`);
      return { name: name === 'auto' ? 'torch' : name, note: `${name === 'auto' ? 'torch' : name} (fake)` };
    },
    listAvailableBackends: async () => ['torch', 'cpu'],
    createOurRunner: async (o): Promise<OurRunner> => {
      ourOptions.push(o);
      return {
        label: o.backend,
        kind: 'ours',
        backend: o.backend,
        rounds: o.rounds,
        imagesPerStep: 320,
        memoryStart: memory,
        memoryEnd: () => memory,
        async round(i) {
          calls.push(`${o.backend}#${i}`);
          return { steps: o.steps, seconds: 1, imagesPerSecond: o.backend === 'torch' ? 140 : 0.3 };
        },
        dispose: () => calls.push(`dispose ${o.backend}`),
      };
    },
    findTorchPython: (candidates) => (opts.python === false ? { python: null, reason: `${candidates[0]}: No module named 'torch'` } : { python: candidates[0], torchVersion: '1.13.1' }),
    startTorchReference: async (o) => {
      refOptions.push(o);
      const runner = (format: string, ips: number) => ({
        label: `pytorch ${format}`,
        kind: 'pytorch' as const,
        rounds: o.rounds,
        async round(i: number) {
          calls.push(`${format}#${i}`);
          return { steps: o.steps, seconds: 1, imagesPerSecond: ips };
        },
      });
      return { torchVersion: '1.13.1', threads: o.threads, ompWaitPolicy: 'PASSIVE', malloc: o.malloc ?? 'stock', runners: [runner('channels_last', 130), runner('nchw', 100)], close: async () => void calls.push('close pytorch') };
    },
  };
  return { deps, calls, ourOptions, refOptions };
}

async function run(argv: string[], deps?: BenchDeps): Promise<Captured> {
  const c: Captured = { out: '', err: '' };
  const output = { out: (s: string) => void (c.out += s), err: (s: string) => void (c.err += s) };
  const cmd = createBenchCommand(output, deps);
  cmd.exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err });
  await cmd.parseAsync(argv, { from: 'user' });
  return c;
}

describe('ssl bench', () => {
  it('documents its flags and how to read the result in --help', async () => {
    const c: Captured = { out: '', err: '' };
    const output = { out: (t: string) => void (c.out += t), err: (t: string) => void (c.err += t) };
    const cmd = createBenchCommand(output).exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err });
    await expect(cmd.parseAsync(['--help'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    for (const flag of ['--net <name>', '--step <method>', '--backend <name>', '--steps <n>', '--rounds <n>', '--warmup <n>', '--threads <n>', '--json', '--no-torch-reference', '--python <path>', '--pytorch-malloc <mode>']) {
      expect(c.out).toContain(flag);
    }
    expect(c.out).toContain('cnn-small, wrn-28-2, resnet-32');
    expect(c.out).toContain('interleaved rounds: ours 1, PyTorch channels_last 1, PyTorch NCHW 1');
    expect(c.out).toContain('docs/bench.md');
  });

  it('interleaves ours and both PyTorch formats and prints the ratio to the best', async () => {
    const f = fakeDeps();
    const c = await run(['--net', 'cnn-small', '--rounds', '2', '--steps', '4', '--threads', '2'], f.deps);
    expect(f.calls).toEqual([
      'select auto 2',
      'torch#1',
      'channels_last#1',
      'nchw#1',
      'torch#2',
      'channels_last#2',
      'nchw#2',
      'dispose torch',
      'close pytorch',
    ]);
    expect(f.ourOptions).toEqual([{ backend: 'torch', precision: 'fp32', net: 'cnn-small', step: 'fixmatch', steps: 4, rounds: 2, warmup: 3 }]);
    expect(f.refOptions).toEqual([{ python: 'python3', net: 'cnn-small', step: 'fixmatch', threads: 2, steps: 4, rounds: 2, warmup: 3, malloc: 'stock' }]);
    expect(c.out).toContain('ratio ours torch / PyTorch best = 1.08');
    expect(c.out).toContain('best format: channels_last');
    expect(c.err).toContain('round 2  pytorch nchw');
  });

  it('--json prints the report object', async () => {
    const f = fakeDeps();
    const c = await run(['--net', 'cnn-small', '--rounds', '1', '--json'], f.deps);
    const rep = JSON.parse(c.out) as { ours: Array<{ backend: string; ratio: number; imagesPerSecond: number }>; pytorch: { best: { label: string } }; records: unknown[] };
    expect(rep.ours[0]).toMatchObject({ backend: 'torch', imagesPerSecond: 140 });
    expect(rep.ours[0].ratio).toBeCloseTo(140 / 130, 12);
    expect(rep.pytorch.best.label).toBe('pytorch channels_last');
    expect(rep.records).toHaveLength(3);
  });

  it('without PyTorch prints one line saying why and our numbers only', async () => {
    const f = fakeDeps({ python: false });
    const c = await run(['--net', 'cnn-small', '--rounds', '1'], f.deps);
    expect(f.refOptions).toEqual([]);
    expect(c.out).toContain("no PyTorch reference: no Python that imports torch (python3: No module named 'torch'); pass --python <path> to use another");
    expect(c.out).toMatch(/ours torch\s+140\.0/);
  });

  it('--no-torch-reference does not look for Python; --python is the only candidate', async () => {
    const f = fakeDeps();
    const c = await run(['--rounds', '1', '--no-torch-reference'], f.deps);
    expect(f.refOptions).toEqual([]);
    expect(c.out).toContain('no PyTorch reference: skipped (--no-torch-reference)');
    const g = fakeDeps();
    await run(['--rounds', '1', '--python', '/opt/py/bin/python'], g.deps);
    expect(g.refOptions[0].python).toBe('/opt/py/bin/python');
    const h = fakeDeps();
    const out = await run(['--rounds', '1', '--pytorch-malloc', 'tuned'], h.deps);
    expect(h.refOptions[0].malloc).toBe('tuned');
    expect(out.out).toContain('malloc tuned');
  });

  it('--backend all times every installed backend, slow ones with one step in one round', async () => {
    const f = fakeDeps();
    const c = await run(['--net', 'cnn-small', '--backend', 'all', '--rounds', '2', '--no-torch-reference'], f.deps);
    expect(f.ourOptions.map((o) => [o.backend, o.steps, o.rounds, o.warmup])).toEqual([
      ['torch', 10, 2, 3],
      ['cpu', 1, 2, 0],
    ]);
    expect(f.calls.filter((x) => x.includes('#'))).toEqual(['torch#1', 'cpu#1', 'torch#2', 'cpu#2']);
    expect(c.out).toContain('unavailable tensorflow');
  });

  it('slow backends default to 1 step, 1 round, no warm-up, and say so', async () => {
    const f = fakeDeps();
    const c = await run(['--net', 'cnn-small', '--backend', 'cpu', '--no-torch-reference'], f.deps);
    expect(f.ourOptions).toEqual([{ backend: 'cpu', precision: 'fp32', net: 'cnn-small', step: 'fixmatch', steps: 1, rounds: 1, warmup: 0 }]);
    expect(c.out).toContain('note: cpu is a slow backend: timed 1 step(s) in 1 round(s) with 0 warm-up');
  });

  it('rejects an unknown net, step, backend or count with a UserError listing what is valid', async () => {
    const f = fakeDeps();
    await expect(run(['--net', 'resnet-50'], f.deps)).rejects.toThrow(new UserError('--net', "unknown value 'resnet-50'", 'Use one of: cnn-small, wrn-28-2, resnet-32'));
    await expect(run(['--step', 'mixmatch'], f.deps)).rejects.toThrow(/--step: unknown value 'mixmatch'. Use one of: fixmatch, supervised/);
    await expect(run(['--backend', 'gpu'], f.deps)).rejects.toThrow(/--backend: unknown value 'gpu'. Use one of: auto, tensorflow, torch, wasm, cpu, all/);
    await expect(run(['--pytorch-malloc', 'jemalloc'], f.deps)).rejects.toThrow(/--pytorch-malloc: unknown value 'jemalloc'. Use one of: stock, tuned/);
    await expect(run(['--steps', '0'], f.deps)).rejects.toThrow(/--steps: '0' is not an integer ≥ 1/);
    await expect(run(['--rounds', 'x'], f.deps)).rejects.toThrow(/--rounds: 'x' is not an integer ≥ 1/);
    await expect(run(['--precision', 'fp16'], f.deps)).rejects.toThrow(/--precision: unknown value 'fp16'. Use one of: auto, fp32, bf16/);
    await expect(run(['--iterations', '50'], f.deps)).rejects.toThrow(/--iterations: sets the length of the --end-to-end run, which was not asked for. Add --end-to-end/);
    expect(f.calls).toEqual([]);
  });
  it('--end-to-end times the main job after the step rounds and prints both', async () => {
    const { deps, calls } = fakeDeps();
    const asked: Array<Parameters<NonNullable<BenchDeps['runEndToEnd']>>[0]> = [];
    deps.runEndToEnd = async (o) => {
      asked.push(o);
      calls.push('end-to-end');
      return {
        command: `ssl run daso --gamma-l 100 --gamma-u 1 --iterations ${o.iterations}`,
        dataset: 'fashion-mnist',
        net: 'cnn-small',
        iterations: o.iterations,
        fullIterations: 1600,
        evaluations: 2,
        imagesPerIteration: 320,
        seconds: 100,
        itPerSec: 0.8,
        stepItPerSec: 1,
        phases: { steps: 80, evaluation: 18, batches: 1, checkpoints: 1, boundaries: 0, other: 0 },
      };
    };
    const c = await run(['--net', 'cnn-small', '--end-to-end', '--iterations', '80', '--threads', '2'], deps);
    expect(asked).toEqual([expect.objectContaining({ iterations: 80, net: 'cnn-small', threads: 2, backend: 'auto' })]);
    // After every step round and after the step runners are gone.
    expect(calls.indexOf('end-to-end')).toBeGreaterThan(calls.indexOf('dispose torch'));
    expect(c.out).toContain('ratio ours torch / PyTorch best');
    expect(c.out).toContain('end to end: `ssl run daso --gamma-l 100 --gamma-u 1 --iterations 80`');
    expect(c.out).toMatch(/loop {10}0\.800 it\/s {2}\(256\.0 images\/s, 320 images\/iteration; 100\.0 s\)/);
    expect(c.out).toMatch(/steps alone {3}1\.000 it\/s/);
    expect(c.out).toContain('time: steps 80% · evaluation 18% · batches 1% · checkpoints 1%');
    const bad = fakeDeps();
    await expect(run(['--end-to-end', '--iterations', '0'], bad.deps)).rejects.toBeInstanceOf(UserError);
    expect(bad.calls.filter((call) => call.includes('#'))).toEqual([]);
  });
});
