import { tf } from './tf.js';
import type { ToyModel } from './models.js';

/**
 * Importance-weighted squared error of each instance, as in the paper's notebook:
 * `L_k = mean_{batch, features} I_{k,i} (y_i - y'_i)^2` where `y` is the model's target.
 *
 * @param x - inputs `[I, B, n]`
 * @param importance - `[I, n]` (or `[I, 1, n]`) feature importance
 * @returns `[I]` per-instance loss
 */
export function lossPerInstance(model: ToyModel, x: tf.Tensor3D, importance: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const [I, , n] = x.shape;
    const imp = importance.rank === 3 ? importance : tf.reshape(importance, [I, 1, n]);
    const diff = tf.sub(model.target(x), model.forward(x));
    const err = tf.mul(imp, tf.square(diff));
    return tf.mean(tf.reshape(err, [I, -1]), 1) as tf.Tensor1D;
  });
}

/** Total loss: the sum of the per-instance losses (instances train independently). */
export function totalLoss(model: ToyModel, x: tf.Tensor3D, importance: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sum(lossPerInstance(model, x, importance)) as tf.Scalar);
}
