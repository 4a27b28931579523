import * as tf from '@tensorflow/tfjs-core';
import { FAST_KERNELS, hasFastKernel, runFastKernel } from './fast-kernels.js';

/** Hyper-parameters of PyTorch's torch.optim.SGD. */
export interface SgdHyper {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/**
 * One SGD step with PyTorch's semantics, in place on the variables:
 * d = g + wd·p; v = m·v + d; d = nesterov ? d + m·v : v; p = p − lr·d.
 * (PyTorch's first step sets v = d; with v initialised to zeros that is the same.)
 *
 * @param params trainable variables (updated). @param grads gradients, same order (borrowed).
 * @param velocity momentum buffers, same order (updated).
 */
export function sgdUpdate(
  params: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  velocity: readonly tf.Variable[],
  hyper: SgdHyper,
): void {
  if (hasFastKernel(FAST_KERNELS.sgdUpdate)) {
    const attrs = { lr: hyper.lr, momentum: hyper.momentum, weightDecay: hyper.weightDecay, nesterov: hyper.nesterov };
    tf.tidy(() => {
      for (let i = 0; i < params.length; i++) {
        const [p, v] = runFastKernel(FAST_KERNELS.sgdUpdate, { param: params[i], grad: grads[i], velocity: velocity[i] }, attrs);
        velocity[i].assign(v);
        params[i].assign(p);
      }
    });
    return;
  }
  tf.tidy(() => {
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      let d = grads[i];
      if (hyper.weightDecay !== 0) d = tf.add(d, tf.mul(p, hyper.weightDecay));
      const v = tf.add(tf.mul(velocity[i], hyper.momentum), d);
      velocity[i].assign(v);
      const step = hyper.nesterov ? tf.add(d, tf.mul(v, hyper.momentum)) : v;
      p.assign(tf.sub(p, tf.mul(step, hyper.lr)));
    }
  });
}
