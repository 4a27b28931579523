import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './src/backend/select.js';
console.log(await selectBackend('wasm'));
tf.add(tf.ones([2]), 1).print();
