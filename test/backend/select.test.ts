import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { listAvailableBackends, selectBackend } from '../../src/backend/select.js';
import { UserError } from '../../src/errors.js';
import { loadTorchAddon } from '../../src/backend/torch/addon.js';

describe('selectBackend', () => {
  it('lists cpu and wasm always, torch exactly when the addon loads, fastest first', async () => {
    const available = await listAvailableBackends();
    expect(available.slice(-2)).toEqual(['wasm', 'cpu']);
    expect(available.includes('torch')).toBe(loadTorchAddon().addon !== null);
    expect(available).not.toContain('tensorflow');
  });

  it('auto skips the missing tensorflow backend and picks the next one, saying why', async () => {
    const picked = await selectBackend('auto', 1);
    const expected = loadTorchAddon().addon !== null ? 'torch' : 'wasm';
    expect(picked.name).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
    expect(picked.note).toContain('tensorflow: @tensorflow/tfjs-node(-gpu) is not installed');
  });

  it.skipIf(loadTorchAddon().addon === null)('torch with a thread count; listing backends keeps it', async () => {
    const picked = await selectBackend('torch', 1);
    expect(picked).toEqual({ name: 'torch', note: 'torch (libtorch addon, 1 thread), as requested' });
    await listAvailableBackends();
    expect(loadTorchAddon().addon?.getThreads()).toBe(1);
  });

  it('cpu on request', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('an unavailable backend is a UserError naming the fix', async () => {
    const err = await selectBackend('tensorflow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe('--backend');
    expect((err as UserError).message).toContain('npm install @tensorflow/tfjs-node');
  });

  it('an unknown name is a UserError listing the valid ones', async () => {
    const err = await selectBackend('gpu' as 'cpu').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain('auto, tensorflow, torch, wasm, cpu');
  });
});
