import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { expect } from 'vitest';
import { registerTorchBackend } from '../../../src/backend/torch/index.js';

// One thread: vitest runs test files in parallel on CI's two cores, and OpenMP threads spinning on
// busy cores slow small kernels down a hundredfold.
const registration = registerTorchBackend(1);

/** Why torch tests are skipped, or null when the addon is built. */
export const torchSkipReason: string | null = registration.ok
  ? null
  : `torch backend tests skipped: ${registration.reason}. Build it with: npm run build:native`;
if (torchSkipReason !== null) console.warn(torchSkipReason);

/** Plain values of a tensor result, for comparing across backends. */
export interface Values {
  readonly shape: number[];
  readonly dtype: string;
  readonly values: number[];
}

type Built = tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;

function collect(out: Built): Values[] {
  const list = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : Object.values(out);
  return list.map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, values: Array.from(t.dataSync()) }));
}

/** Runs `build` on `backend` inside tidy and returns the values of what it builds. */
export async function runOn(backend: 'cpu' | 'torch', build: () => Built): Promise<Values[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(build);
  const values = collect(out);
  tf.dispose(out as tf.TensorContainer);
  expect(tf.memory().numTensors, `tensors leaked on ${backend}`).toBe(before);
  return values;
}

/**
 * Asserts `build` gives the same shapes, dtypes and values (within tol, relative to magnitude
 * above 1) on the torch and cpu backends. Inputs must be created inside `build`.
 */
export async function expectParity(build: () => Built, tol = 1e-5): Promise<void> {
  const want = await runOn('cpu', build);
  const got = await runOn('torch', build);
  expect(got.length).toBe(want.length);
  for (let k = 0; k < want.length; k++) {
    expect(got[k].shape, `output ${k} shape`).toEqual(want[k].shape);
    expect(got[k].dtype, `output ${k} dtype`).toBe(want[k].dtype);
    for (let i = 0; i < want[k].values.length; i++) {
      const w = want[k].values[i];
      const g = got[k].values[i];
      if (Number.isNaN(w)) {
        expect(Number.isNaN(g), `output ${k}[${i}] NaN`).toBe(true);
        continue;
      }
      if (!Number.isFinite(w)) {
        expect(g, `output ${k}[${i}]`).toBe(w);
        continue;
      }
      expect(Math.abs(g - w), `output ${k}[${i}]: torch ${g} cpu ${w}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
    }
  }
}

/** Deterministic values in [-1, 1) (no RNG state shared with other tests). */
export function wave(n: number, salt = 0): number[] {
  return Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + 0.3 + salt) * Math.cos(0.37 * i + salt));
}

/** A deterministic float tensor of the given shape. */
export function waveTensor(shape: number[], salt = 0): tf.Tensor {
  return tf.tensor(wave(shape.reduce((a, b) => a * b, 1), salt), shape);
}
