import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import type { Classifier } from './model.js';

/** One variable's values, row-major in tfjs layout (conv [kh, kw, in, out], linear [in, out]). */
export interface WeightEntry {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** All parameters and BatchNorm buffers of a model, keyed by their `NamedVariable` names. */
export type WeightMap = Record<string, WeightEntry>;

/**
 * Copies every parameter and buffer of `model` to host memory (one sync read per variable).
 * The result owns fresh arrays; the model is unchanged.
 */
export function exportWeights(model: Classifier): WeightMap {
  const out: WeightMap = {};
  for (const { name, variable } of [...model.params, ...model.buffers]) {
    out[name] = { shape: [...variable.shape], data: Float32Array.from(variable.dataSync() as Float32Array) };
  }
  return out;
}

/**
 * Overwrites every parameter and buffer of `model` with `weights`. All checks run before any
 * variable changes, so a bad map leaves the model untouched.
 *
 * @throws UserError (field `weights`) on a missing or unknown name, a shape mismatch, or a data
 *   length that does not match the shape.
 */
export function importWeights(model: Classifier, weights: WeightMap): void {
  const vars = [...model.params, ...model.buffers];
  const expected = new Set(vars.map((v) => v.name));
  const unknown = Object.keys(weights).filter((k) => !expected.has(k));
  if (unknown.length > 0) {
    throw new UserError('weights', `names not in ${model.net}: ${unknown.slice(0, 5).join(', ')}`, 'Load weights saved from the same --net');
  }
  for (const { name, variable } of vars) {
    const w = weights[name];
    if (w === undefined) {
      throw new UserError('weights', `missing '${name}' for ${model.net}`, 'Load weights saved from the same --net');
    }
    const shapeOk = w.shape.length === variable.shape.length && w.shape.every((d, i) => d === variable.shape[i]);
    if (!shapeOk) {
      throw new UserError(
        'weights',
        `'${name}' has shape [${w.shape}], ${model.net} expects [${variable.shape}]`,
        'Load weights saved with the same --net, number of classes and input channels',
      );
    }
    if (w.data.length !== variable.size) {
      throw new UserError('weights', `'${name}' holds ${w.data.length} values, shape [${w.shape}] needs ${variable.size}`, 'The weights file is truncated or corrupt');
    }
  }
  tf.tidy(() => {
    for (const { name, variable } of vars) variable.assign(tf.tensor(weights[name].data, variable.shape, 'float32'));
  });
}
