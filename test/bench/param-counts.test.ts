import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython, torchScriptPath } from '../../src/bench/torch-reference.js';
import { NET_NAMES, createModel } from '../../src/models/index.js';
import { useCpuBackend } from '../helpers/tf-cpu.js';

/**
 * The PyTorch reference must time the same nets: its parameter and BatchNorm-buffer counts must
 * equal ours for every net (a missing block, a biased conv or a wrong width changes them).
 */
const probe = findTorchPython();

describe('scripts/bench_torch.py nets', () => {
  if (probe.python === null) {
    it.skip(`same parameter counts as ours (skipped: no Python imports torch: ${probe.reason})`, () => {});
    return;
  }
  const python = probe.python;
  let theirs: Map<string, { params: number; buffers: number }>;
  beforeAll(async () => {
    await useCpuBackend();
    const r = spawnSync(python, [torchScriptPath(), '--count-params'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`bench_torch.py --count-params failed: ${r.stderr}`);
    theirs = new Map(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { net: string; params: number; buffers: number })
        .map((x) => [x.net, { params: x.params, buffers: x.buffers }]),
    );
  });

  for (const net of NET_NAMES) {
    it(`${net}: same parameter and buffer counts as src/models`, () => {
      const model = createModel(net, { numClasses: 10, inputChannels: 3, seed: 0 });
      try {
        const count = (vars: ReadonlyArray<{ variable: tf.Variable }>): number => vars.reduce((s, v) => s + v.variable.size, 0);
        expect(theirs.get(net)).toEqual({ params: count(model.params), buffers: count(model.buffers) });
      } finally {
        model.dispose();
      }
    });
  }

  it('known totals (WRN-28-2 1,467,610 and ResNet-32 464,154 parameters for 10 classes)', () => {
    expect(theirs.get('wrn-28-2')?.params).toBe(1_467_610);
    expect(theirs.get('resnet-32')?.params).toBe(464_154);
  });
});
