import { ShapeError, checkLength, checkOneOf } from '@tms/data';
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
 * per instance and feature (null: none to check), inputs `[instances, batch, features]`.
 *
 * @internal
 * @returns the sizes
 * @throws ShapeError naming the argument
 */
export function checkBatchArguments(
  W: BatchedWeights,
  b: ArrayLike<number>,
  importance: ArrayLike<number> | null,
  x: ArrayLike<number>,
  inputName: string,
  weightName = 'W',
): { I: number; n: number; B: number } {
  const [I, n] = dims(W, weightName);
  checkLength(b, I * n, 'b');
  if (importance && importance.length !== n && importance.length !== I * n) {
    throw new ShapeError('importance', `${n} values (per feature) or ${I * n} (per instance and feature)`, importance.length);
  }
  if (x.length % (I * n) !== 0) throw new ShapeError(inputName, `[${I}, batch, ${n}] values (a multiple of ${I * n})`, x.length);
  return { I, n, B: x.length / (I * n) };
}

/** Options of {@link reconstructionErrors}. */
export interface ReconstructionOptions {
  /** The output nonlinearity: `relu` (ReLU-output models, the default) or `identity` (linear models). */
  activation?: 'relu' | 'identity';
  /** Inputs of each instance to use: the first `samples[k]` of its batch (default: all). */
  samples?: readonly number[];
}

/**
 * Mean squared error of each output of tied-weight models,
 * mean over inputs of (xⱼ − act((WᵀW x)ⱼ + bⱼ))², in O(batch · features ·
 * hidden) through the hidden vectors, in float64, on plain arrays (no tfjs
 * backend: cheap on a CPU whatever backend trained the models).
 *
 * @param W - weights `[instances, features, hidden]`
 * @param b - biases `[instances × features]`, row-major
 * @param x - inputs `[instances, batch, features]`, row-major
 * @returns `[instances][features]`
 * @throws ShapeError naming the argument
 *
 * @example
 * ```ts
 * const err = reconstructionErrors(W, b, x, { activation: 'identity' }); // err[k][j]: output j of instance k
 * ```
 */
export function reconstructionErrors(W: BatchedWeights, b: ArrayLike<number>, x: ArrayLike<number>, options: ReconstructionOptions = {}): number[][] {
  const relu = checkOneOf(options.activation ?? 'relu', 'activation', ['relu', 'identity'] as const) === 'relu';
  return outputErrors(W, null, b, x, { hiddenRelu: false, outputRelu: relu, abs: false, samples: options.samples });
}

/** Options of {@link hiddenLayerErrors}. */
export interface HiddenLayerOptions {
  /** What the output is compared with: the input itself (`identity`, the default; privileged basis) or its absolute value (`abs`; computation in superposition). */
  target?: 'identity' | 'abs';
  /** Inputs of each instance to use: the first `samples[k]` of its batch (default: all). */
  samples?: readonly number[];
}

/**
 * Mean squared error of each output of models with a ReLU hidden layer,
 * h = ReLU(x W₁), x′ = ReLU(h W₂ + b), against x (or |x|), mean over inputs,
 * in float64 on plain arrays (no tfjs backend: cheap on a CPU whatever backend
 * trained the models). W₂ null ties the layers, W₂ = W₁ᵀ (the paper's
 * privileged-basis model, core's `ReluHiddenModel`); core's `AbsModel` has its own W₂.
 *
 * @param W1 - input weights `[instances, features, hidden]`
 * @param W2 - output weights `[instances, hidden, features]`, or null for W₁ᵀ
 * @param b - output biases `[instances × features]`, row-major
 * @param x - inputs `[instances, batch, features]`, row-major
 * @returns `[instances][features]`
 * @throws ShapeError naming the argument
 *
 * @example
 * ```ts
 * const err = hiddenLayerErrors(W1, W2, b, x, { target: 'abs' }); // err[k][j]: output j of instance k against |xⱼ|
 * ```
 */
export function hiddenLayerErrors(W1: BatchedWeights, W2: BatchedWeights | null, b: ArrayLike<number>, x: ArrayLike<number>, options: HiddenLayerOptions = {}): number[][] {
  const abs = checkOneOf(options.target ?? 'identity', 'target', ['identity', 'abs'] as const) === 'abs';
  if (W2) {
    const [I, n, m] = dims(W1, 'W1');
    const [I2, m2, n2] = dims(W2, 'W2');
    if (I2 !== I || m2 !== m || n2 !== n) throw new ShapeError('W2', `[${I}, ${m}, ${n}] (instances, hidden, features of W1)`, `[${I2}, ${m2}, ${n2}]`);
  }
  return outputErrors(W1, W2, b, x, { hiddenRelu: true, outputRelu: true, abs, samples: options.samples, weightName: 'W1' });
}

/**
 * The shared loop of {@link reconstructionErrors} and {@link hiddenLayerErrors}: per instance and
 * output, the mean over its first `samples[k]` inputs of (target − act(h W₂ + b))², h the hidden vector
 * (ReLU'd when `hiddenRelu`), W₂ = W₁ᵀ when null, the target x or |x|.
 */
function outputErrors(
  W: BatchedWeights,
  W2: BatchedWeights | null,
  b: ArrayLike<number>,
  x: ArrayLike<number>,
  o: { hiddenRelu: boolean; outputRelu: boolean; abs: boolean; samples?: readonly number[]; weightName?: string },
): number[][] {
  const { I, n, B } = checkBatchArguments(W, b, null, x, 'x', o.weightName);
  const m = W.shape[2];
  if (o.samples && o.samples.length !== I) throw new ShapeError('samples', `${I} counts (one per instance)`, o.samples.length);
  const out: number[][] = [];
  for (let k = 0; k < I; k++) {
    const count = o.samples ? Math.max(0, Math.min(B, o.samples[k])) : B;
    const H = hiddenVectors(W, k, x, B, count);
    if (o.hiddenRelu) for (let c = 0; c < H.length; c++) if (H[c] < 0) H[c] = 0;
    const total = new Float64Array(n);
    for (let s = 0; s < count; s++) {
      // x′_j = act(Σ_c h_c W₂[c][j] + b_j), W₂[c][j] = W_j[c] when tied
      const row = (k * B + s) * n;
      for (let j = 0; j < n; j++) {
        let pre = b[k * n + j];
        if (W2) {
          const o2 = k * m * n + j;
          for (let c = 0; c < m; c++) pre += W2.data[o2 + c * n] * H[s * m + c];
        } else {
          const o1 = (k * n + j) * m;
          for (let c = 0; c < m; c++) pre += W.data[o1 + c] * H[s * m + c];
        }
        const t = o.abs ? Math.abs(x[row + j]) : x[row + j];
        const d = t - (o.outputRelu && pre < 0 ? 0 : pre);
        total[j] += d * d;
      }
    }
    out.push(Array.from(total, (v) => (count ? v / count : 0)));
  }
  return out;
}

/**
 * The importance-weighted reconstruction loss of ReLU-output models (in
 * O(batch · features · hidden), through the hidden vectors),
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
  const { n } = checkBatchArguments(W, b, importance, x, 'x');
  return reconstructionErrors(W, b, x).map((e, k) => e.reduce((a, v, j) => a + importance[importance.length === n ? j : k * n + j] * v, 0) / n);
}

/** Hidden vectors h_s = Σᵢ x_{s,i} Wᵢ (before any ReLU) of instance k's first `count` of its `B` inputs (non-zeros only), `[count × m]`. */
function hiddenVectors(W: BatchedWeights, k: number, x: ArrayLike<number>, B: number, count = B): Float64Array {
  const [, n, m] = W.shape as [number, number, number];
  const H = new Float64Array(count * m);
  for (let s = 0; s < count; s++) {
    const row = (k * B + s) * n;
    for (let i = 0; i < n; i++) {
      const v = x[row + i];
      if (v === 0) continue;
      const o = (k * n + i) * m;
      for (let c = 0; c < m; c++) H[s * m + c] += v * W.data[o + c];
    }
  }
  return H;
}

/**
 * Data dimensionality D_s = ‖h_s‖² / Σ_t (ĥ_s · h_t)² of each input's hidden
 * vector h_s = Σᵢ x_{s,i} Wᵢ (Henighan et al. 2023, "Superposition,
 * Memorization, and Double Descent"): the feature dimensionality formula
 * applied to the training points. T points that form a T-gon in m dimensions
 * each get m/T; a point the model ignores gets 0.
 *
 * @param W - weights `[instances, features, hidden]`
 * @param x - inputs `[instances, batch, features]`, row-major
 * @returns `[instances][batch]`
 */
export function dataDimensionality(W: BatchedWeights, x: ArrayLike<number>): number[][] {
  const [I, n, m] = dims(W);
  if (x.length % (I * n) !== 0) throw new ShapeError('x', `[${I}, batch, ${n}] values (a multiple of ${I * n})`, x.length);
  const B = x.length / (I * n);
  const out: number[][] = [];
  for (let k = 0; k < I; k++) {
    const H = hiddenVectors(W, k, x, B);
    const D: number[] = [];
    for (let s = 0; s < B; s++) {
      let norm2 = 0;
      for (let c = 0; c < m; c++) norm2 += H[s * m + c] * H[s * m + c];
      if (norm2 === 0) {
        D.push(0);
        continue;
      }
      let sum = 0;
      for (let t = 0; t < B; t++) {
        let dot = 0;
        for (let c = 0; c < m; c++) dot += H[s * m + c] * H[t * m + c];
        sum += (dot * dot) / norm2;
      }
      D.push(norm2 / sum);
    }
    out.push(D);
  }
  return out;
}
