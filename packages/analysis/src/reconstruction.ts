import { ShapeError, checkLength } from '@tms/data';
import { interference } from './metrics.js';
import { dims, type BatchedWeights } from './weights.js';

/**
 * Hidden activations h = Σᵢ xᵢ Wᵢ of one instance for a batch of inputs,
 * skipping zero features (sparse inputs are cheap).
 *
 * @param W - the instance's `[features][hidden]` weights
 * @param x - inputs `[batch, features]`, row-major
 * @param out - `[batch, hidden]` output buffer (allocated when omitted)
 * @returns `out`
 */
export function hiddenActivations(W: readonly (readonly number[])[], x: ArrayLike<number>, out?: Float32Array): Float32Array {
  const n = W.length;
  const m = W[0]?.length ?? 0;
  if (x.length % n !== 0) throw new ShapeError('x', `[batch, ${n}] values (a multiple of ${n})`, x.length);
  const B = x.length / n;
  const h = out ?? new Float32Array(B * m);
  checkLength(h, B * m, 'out');
  for (let s = 0; s < B; s++) {
    for (let j = 0; j < m; j++) h[s * m + j] = 0;
    for (let i = 0; i < n; i++) {
      const v = x[s * n + i];
      if (v !== 0) for (let j = 0; j < m; j++) h[s * m + j] += v * W[i][j];
    }
  }
  return h;
}

/**
 * Check the arguments of a function that runs ReLU-output models `W`, `b` on a
 * batch of inputs: biases `[instances × features]`, importance per feature or
 * per instance and feature, inputs `[instances, batch, features]`.
 *
 * @internal
 * @returns the sizes
 * @throws ShapeError naming the argument
 */
export function checkBatchArguments(
  W: BatchedWeights,
  b: ArrayLike<number>,
  importance: ArrayLike<number>,
  x: ArrayLike<number>,
  inputName: string,
): { I: number; n: number; B: number } {
  const [I, n] = dims(W);
  checkLength(b, I * n, 'b');
  if (importance.length !== n && importance.length !== I * n) {
    throw new ShapeError('importance', `${n} values (per feature) or ${I * n} (per instance and feature)`, importance.length);
  }
  if (x.length % (I * n) !== 0) throw new ShapeError(inputName, `[${I}, batch, ${n}] values (a multiple of ${I * n})`, x.length);
  return { I, n, B: x.length / (I * n) };
}

/**
 * The importance-weighted reconstruction loss of ReLU-output models,
 * mean over batch and features of Iⱼ (xⱼ − ReLU((WᵀW x)ⱼ + bⱼ))², per instance:
 * the training objective without any penalty, e.g. on held-out inputs.
 *
 * @param W - weights `[instances, features, hidden]`
 * @param b - biases `[instances × features]`, row-major
 * @param x - inputs `[instances, batch, features]`, row-major
 * @param importance - per feature (`features` values) or per instance and feature
 * @returns one loss per instance
 */
export function reconstructionLoss(W: BatchedWeights, b: ArrayLike<number>, x: ArrayLike<number>, importance: ArrayLike<number>): number[] {
  const { n, B } = checkBatchArguments(W, b, importance, x, 'x');
  const G = interference(W);
  return G.map((Gk, k) => {
    let total = 0;
    for (let s = 0; s < B; s++) {
      const row = (k * B + s) * n;
      for (let j = 0; j < n; j++) {
        let pre = b[k * n + j];
        for (let i = 0; i < n; i++) if (x[row + i] !== 0) pre += Gk[j][i] * x[row + i];
        const d = x[row + j] - Math.max(0, pre);
        total += importance[importance.length === n ? j : k * n + j] * d * d;
      }
    }
    return total / (B * n);
  });
}
