import * as tf from '@tensorflow/tfjs-core';

/** Identity forward, zero gradient. */
const detach = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const input = args[0] as tf.Tensor;
  return { value: input.clone(), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor) };
});

/**
 * Identity whose gradient is zero: tfjs-core has no stop_gradient / detach. Use it where the
 * official code wraps a computation in `torch.no_grad()` or calls `.detach()`.
 * Caller owns the result.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return detach(x) as T;
}
