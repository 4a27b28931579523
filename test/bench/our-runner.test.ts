import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOurRunner, imagesPerStep } from '../../src/bench/our-runner.js';
import { loadTorchAddon } from '../../src/backend/torch/addon.js';
import { selectBackend } from '../../src/backend/select.js';

/**
 * Our runner on the torch backend with the full benchmark batch (too slow on the cpu backend for
 * a unit test). Skipped only when the addon is not built.
 */
const addon = loadTorchAddon();

describe('createOurRunner (torch backend)', () => {
  if (addon.addon === null) {
    it.skip(`runs the trainer step (skipped: ${addon.reason})`, () => {});
    return;
  }
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    await selectBackend('torch', 2);
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  for (const step of ['fixmatch', 'supervised'] as const) {
    it(`${step}: times whole steps and leaves the tensor counts flat`, async () => {
      const runner = await createOurRunner({ backend: 'torch', net: 'cnn-small', step, steps: 1, rounds: 2, warmup: 1 });
      try {
        expect(runner).toMatchObject({ label: 'torch', kind: 'ours', rounds: 2, imagesPerStep: imagesPerStep(step) });
        const r = await runner.round(1);
        await runner.round(2);
        expect(r.steps).toBe(1);
        expect(r.imagesPerSecond).toBeCloseTo(imagesPerStep(step) / r.seconds, 6);
        const end = runner.memoryEnd();
        expect(end.tfjsTensors).toBe(runner.memoryStart.tfjsTensors);
        expect(end.nativeTensors).toBe(runner.memoryStart.nativeTensors);
        expect(runner.memoryStart.rss).toBeGreaterThan(0);
      } finally {
        runner.dispose();
      }
    });
  }

  it('counts 320 images per FixMatch step and 64 per supervised step', () => {
    expect(imagesPerStep('fixmatch')).toBe(320);
    expect(imagesPerStep('supervised')).toBe(64);
  });
});
