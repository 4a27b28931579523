import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { expectParity, torchSkipReason, wave, waveTensor } from './helpers.js';

/** Values in the domain of every unary op below (positive, away from 0 and 1 for log/acosh). */
const positive = (): tf.Tensor => tf.add(tf.abs(waveTensor([2, 3, 4])), 1.1);
const unit = (): tf.Tensor => tf.mul(waveTensor([2, 3, 4]), 0.9);

type Unary = (x: tf.Tensor) => tf.Tensor;
const unaries: Array<[string, Unary, () => tf.Tensor]> = [
  ['abs', tf.abs, unit],
  ['acos', tf.acos, unit],
  ['acosh', tf.acosh, positive],
  ['asin', tf.asin, unit],
  ['asinh', tf.asinh, unit],
  ['atan', tf.atan, unit],
  ['atanh', tf.atanh, unit],
  ['ceil', tf.ceil, () => tf.mul(unit(), 5)],
  ['cos', tf.cos, unit],
  ['cosh', tf.cosh, unit],
  ['elu', tf.elu, unit],
  ['erf', tf.erf, unit],
  ['exp', tf.exp, unit],
  ['expm1', tf.expm1, unit],
  ['floor', tf.floor, () => tf.mul(unit(), 5)],
  ['log', tf.log, positive],
  ['log1p', tf.log1p, unit],
  ['neg', tf.neg, unit],
  ['reciprocal', tf.reciprocal, positive],
  ['relu', tf.relu, unit],
  ['relu6', tf.relu6, () => tf.mul(unit(), 10)],
  ['round', tf.round, () => tf.tensor1d([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4, -0.6])],
  ['rsqrt', tf.rsqrt, positive],
  ['selu', tf.selu, unit],
  ['sigmoid', tf.sigmoid, unit],
  ['sign', tf.sign, () => tf.tensor1d([-2, 0, 3])],
  ['sin', tf.sin, unit],
  ['sinh', tf.sinh, unit],
  ['softplus', tf.softplus, unit],
  ['sqrt', tf.sqrt, positive],
  ['square', tf.square, unit],
  ['tan', tf.tan, unit],
  ['tanh', tf.tanh, unit],
  ['leakyRelu', (x) => tf.leakyRelu(x, 0.1), unit],
  ['clipByValue', (x) => tf.clipByValue(x, -0.3, 0.4), unit],
  ['step', (x) => tf.step(x, 0.25), unit],
  ['prelu', (x) => tf.prelu(x, tf.fill(x.shape, 0.2)), unit],
];

/** Kernels without useful gradients (piecewise constant or boolean). */
const noGrad = new Set(['ceil', 'floor', 'round', 'sign', 'step']);

describe.skipIf(torchSkipReason !== null)('torch elementwise kernels match cpu', () => {
  for (const [name, op, input] of unaries) {
    it(`${name}: values${noGrad.has(name) ? '' : ' and gradient'}`, async () => {
      await expectParity(() => op(input()), 2e-5);
      if (!noGrad.has(name)) await expectParity(() => tf.grad(op)(input()), 5e-5);
    });
  }

  it('isNaN, isInf, isFinite, logicalNot', async () => {
    const x = (): tf.Tensor => tf.tensor1d([0, NaN, Infinity, -Infinity, 1.5]);
    await expectParity(() => [tf.isNaN(x()), tf.isInf(x()), tf.isFinite(x())]);
    await expectParity(() => tf.logicalNot(tf.tensor1d([true, false, true], 'bool')));
  });

  type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  const binaries: Array<[string, Binary]> = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
    ['atan2', tf.atan2],
    ['mod', tf.mod],
    ['floorDiv', tf.floorDiv],
  ];
  for (const [name, op] of binaries) {
    it(`${name}: broadcasting values and gradients`, async () => {
      const a = (): tf.Tensor => waveTensor([2, 3, 4]);
      const b = (): tf.Tensor => tf.add(waveTensor([3, 1], 2), 1.5);
      await expectParity(() => op(a(), b()));
      if (name === 'floorDiv' || name === 'mod') return;
      // tfjs's maximum/minimum/squaredDifference gradients do not broadcast: same shapes there.
      const same = ['maximum', 'minimum', 'squaredDifference'].includes(name);
      const b2 = (): tf.Tensor => (same ? tf.add(waveTensor([2, 3, 4], 2), 0.5) : b());
      await expectParity(() => tf.grads(op)([a(), b2()]), 5e-5);
    });
  }

  it('pow: values and gradients', async () => {
    const a = (): tf.Tensor => positive();
    const b = (): tf.Tensor => waveTensor([4], 3);
    await expectParity(() => tf.pow(a(), b()));
    await expectParity(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.pow(x, y))([a(), b()]), 1e-4);
  });

  it('int32 arithmetic keeps int32 (add, sub, mul, floorDiv, mod, pow, abs, neg, maximum)', async () => {
    const a = (): tf.Tensor => tf.tensor1d([7, -7, 3, 0, 12], 'int32');
    const b = (): tf.Tensor => tf.tensor1d([2, 2, -2, 5, 5], 'int32');
    await expectParity(() => [
      tf.add(a(), b()),
      tf.sub(a(), b()),
      tf.mul(a(), b()),
      tf.div(a(), b()),
      tf.mod(a(), b()),
      tf.pow(tf.abs(a()), tf.abs(b())),
      tf.abs(a()),
      tf.neg(a()),
      tf.maximum(a(), b()),
    ]);
  });

  it('comparisons and logical ops give bool', async () => {
    const a = (): tf.Tensor => tf.tensor1d([1, 2, 3, 4]);
    const b = (): tf.Tensor => tf.tensor1d([4, 2, 1, 4]);
    await expectParity(() => [
      tf.equal(a(), b()),
      tf.notEqual(a(), b()),
      tf.greater(a(), b()),
      tf.greaterEqual(a(), b()),
      tf.less(a(), b()),
      tf.lessEqual(a(), b()),
    ]);
    const p = (): tf.Tensor => tf.tensor1d([true, true, false, false], 'bool');
    const q = (): tf.Tensor => tf.tensor1d([true, false, true, false], 'bool');
    await expectParity(() => [tf.logicalAnd(p(), q()), tf.logicalOr(p(), q()), tf.logicalXor(p(), q())]);
  });

  it('where (select): values and gradients', async () => {
    const cond = (): tf.Tensor => tf.greater(waveTensor([2, 3]), 0);
    await expectParity(() => tf.where(cond(), waveTensor([2, 3], 1), waveTensor([2, 3], 2)));
    await expectParity(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(tf.where(cond(), a, b), 3))([waveTensor([2, 3], 1), waveTensor([2, 3], 2)]),
    );
  });

  it('cast between float32, int32 and bool', async () => {
    const x = (): tf.Tensor => tf.tensor1d([-1.7, -0.2, 0, 0.6, 2.9]);
    await expectParity(() => [
      tf.cast(x(), 'int32'),
      tf.cast(x(), 'bool'),
      tf.cast(tf.cast(x(), 'int32'), 'float32'),
      tf.cast(tf.cast(x(), 'bool'), 'int32'),
      tf.cast(x(), 'float32'),
    ]);
  });

  it('addN, zerosLike, onesLike, fill, clone', async () => {
    await expectParity(() => [
      tf.addN([waveTensor([2, 2]), waveTensor([2, 2], 1), waveTensor([2, 2], 2)]),
      tf.zerosLike(waveTensor([2, 3])),
      tf.onesLike(tf.tensor1d([1, 2], 'int32')),
      tf.fill([2, 3], 1.5),
      tf.fill([2], 4, 'int32'),
      tf.clone(waveTensor([3])),
    ]);
  });

  it('elu gradient (EluGrad)', async () => {
    await expectParity(() => tf.grad((x: tf.Tensor) => tf.elu(x))(tf.tensor1d(wave(6))));
  });
});
