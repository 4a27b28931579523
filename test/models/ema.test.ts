import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmaModel, createModel, emaDecay, type Classifier } from '../../src/models/index.js';
import { fixedInput, useCpu } from './setup.js';

beforeAll(useCpu);

const build = (seed: number) => (): Classifier => createModel('cnn-small', { numClasses: 3, inputChannels: 1, seed });
const values = (v: tf.Variable): number[] => Array.from(v.dataSync());
const fill = (v: tf.Variable, x: number): void => tf.tidy(() => v.assign(tf.fill(v.shape, x)));

describe('emaDecay', () => {
  it('is min(1 − 1/(t+1), 0.999) with t 0-based', () => {
    expect(emaDecay(0)).toBe(0);
    expect(emaDecay(1)).toBe(0.5);
    expect(emaDecay(3)).toBe(0.75);
    expect(emaDecay(9)).toBeCloseTo(0.9, 12);
    expect(emaDecay(998)).toBeCloseTo(0.998998998998999, 12);
    expect(emaDecay(999)).toBe(0.999);
    expect(emaDecay(250_000)).toBe(0.999);
    expect(emaDecay(10, 0.5)).toBe(0.5);
    expect(() => emaDecay(-1)).toThrow(/step/);
  });
});

describe('EmaModel', () => {
  it('starts as a copy of the student (not of its own init)', () => {
    const student = build(1)();
    const ema = new EmaModel(student, build(2));
    [...student.params, ...student.buffers].forEach((s, i) => {
      const e = [...ema.model.params, ...ema.model.buffers][i];
      expect(e.name).toBe(s.name);
      expect(values(e.variable)).toEqual(values(s.variable));
      expect(e.variable).not.toBe(s.variable);
      // Own storage, so in-place backend updates of one never touch the other.
      expect(e.variable.dataId).not.toBe(s.variable.dataId);
    });
    ema.dispose();
    student.dispose();
  });

  it('blends parameters and BN buffers with the hand-computed decay', () => {
    const student = build(1)();
    const ema = new EmaModel(student, build(1));
    const before = tf.memory().numTensors;
    // EMA at 2 everywhere, student at 6: step 3 (decay 0.75) -> 0.75·2 + 0.25·6 = 3.
    for (const v of [...ema.model.params, ...ema.model.buffers]) fill(v.variable, 2);
    for (const v of [...student.params, ...student.buffers]) fill(v.variable, 6);
    expect(ema.update(student, 3)).toBe(0.75);
    for (const v of [...ema.model.params, ...ema.model.buffers]) {
      expect(values(v.variable).every((x) => Math.abs(x - 3) < 1e-6), v.name).toBe(true);
    }
    // Step 0 (decay 0) copies the student exactly.
    expect(ema.update(student, 0)).toBe(0);
    expect(values(ema.model.buffers[0].variable).every((x) => x === 6)).toBe(true);
    // The student is unchanged and no tensor leaked.
    expect(values(student.params[0].variable).every((x) => x === 6)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    ema.dispose();
    student.dispose();
  });

  it('follows running statistics updated by a training forward of the student', () => {
    const student = build(4)();
    const ema = new EmaModel(student, build(4));
    const x = fixedInput([2, 8, 8, 1]);
    const r = student.forward(x, true);
    const rm = values(student.buffers[0].variable);
    ema.update(student, 1); // decay 0.5; EMA running mean was 0
    values(ema.model.buffers[0].variable).forEach((v, i) => expect(v).toBeCloseTo(0.5 * rm[i], 6));
    tf.dispose([x, r.features, r.logits]);
    ema.dispose();
    student.dispose();
  });

  it('refuses a student of another architecture and frees its own model', () => {
    const student = createModel('cnn-small', { numClasses: 5, inputChannels: 1, seed: 0 });
    const before = tf.memory().numTensors;
    expect(() => new EmaModel(student, build(0))).toThrow(/classifier\.classifier\.weight/);
    expect(tf.memory().numTensors).toBe(before);
    student.dispose();
  });
});
