import { describe, expect, it } from 'vitest';
import { SparseFeatures } from '@tms/data';
import {
  ReluOutputModel,
  autodiffEngine,
  createModel,
  tf,
  tiedLayout,
  train,
  type Engine,
  type ParamArray,
  type ToyModel,
} from '../src/index.js';
import { engineConformance } from './conformance.js';

engineConformance({ label: 'autodiff', engines: [autodiffEngine], name: 'autodiff', kinds: ['linear', 'relu-output', 'relu-hidden', 'abs'] });

/**
 * A user-written model that claims no built-in kind: x′ = tanh(WᵀW x + b),
 * with the same parameter names as the built-in tied models.
 */
class TanhOutputModel implements ToyModel {
  readonly config = { kind: 'tanh-output', instances: 1, features: 3, hidden: 2 } as const;
  readonly params: Record<string, tf.Variable>;
  constructor(W: number[], b: number[]) {
    this.params = { W: tf.variable(tf.tensor3d(W, [1, 3, 2])), b: tf.variable(tf.tensor2d(b, [1, 3])) };
  }
  hiddenActivations(x: tf.Tensor3D): tf.Tensor3D {
    return tf.matMul(x, this.params.W as tf.Tensor3D);
  }
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const pre = tf.add(tf.matMul(this.hiddenActivations(x), this.params.W as tf.Tensor3D, false, true), tf.reshape(this.params.b, [1, 1, 3]));
      return tf.tanh(pre) as tf.Tensor3D;
    });
  }
  target(x: tf.Tensor3D): tf.Tensor3D {
    return x;
  }
  async getParams(): Promise<Record<string, ParamArray>> {
    const out: Record<string, ParamArray> = {};
    for (const [k, v] of Object.entries(this.params)) out[k] = { data: (await v.data()) as Float32Array, shape: v.shape.slice() };
    return out;
  }
  setParams(values: Record<string, ParamArray | Float32Array>): void {
    for (const [k, v] of Object.entries(values)) this.params[k].assign(tf.tensor(v instanceof Float32Array ? v : v.data, this.params[k].shape));
  }
  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
  }
}

/** One fixed batch, so a step can be checked by hand. */
const fixedBatch = (x: number[]) => ({
  instances: 1,
  features: 3,
  sample: (B: number) => ({ data: Float32Array.from(x), shape: [1, B, 3] as [number, number, number] }),
});

describe('custom models train their own forward()', () => {
  const W = [0.5, -0.2, 0.1, 0.4, -0.3, 0.25];
  const b = [0.1, -0.05, 0.2];
  const x = [1, 0, 0.5];

  /** dL/dW and dL/db of L = mean_i (x_i − tanh(pre_i))², pre = WᵀW x + b, computed by hand in float64. */
  function handGradient() {
    const Wm = [W.slice(0, 2), W.slice(2, 4), W.slice(4, 6)];
    const h = [0, 1].map((j) => x.reduce((s, xi, i) => s + xi * Wm[i][j], 0));
    const pre = [0, 1, 2].map((i) => Wm[i][0] * h[0] + Wm[i][1] * h[1] + b[i]);
    const y = pre.map(Math.tanh);
    // dL/dpre_i = (2/3)(y_i − x_i)(1 − y_i²)
    const dpre = y.map((yi, i) => (2 / 3) * (yi - x[i]) * (1 - yi * yi));
    const dh = [0, 1].map((j) => dpre.reduce((s, d, i) => s + d * Wm[i][j], 0));
    const gW = Wm.map((row, i) => row.map((_, j) => dpre[i] * h[j] + x[i] * dh[j]));
    return { gW: gW.flat(), gb: dpre, loss: y.reduce((s, yi, i) => s + (x[i] - yi) ** 2, 0) / 3 };
  }

  it('one step of a tanh-output model equals the hand-computed gradient step', async () => {
    const model = new TanhOutputModel(W, b);
    // any engine list: nothing but autodiff recognises this model
    const refuses: Engine = { name: 'refuses', unsupported: () => 'no', start: () => Promise.reject(new Error('must not start')) };
    const lr = 0.1;
    const r = await train({ model, data: fixedBatch(x), steps: 1, batchSize: 1, logEvery: 1, engines: [refuses], optimizer: { name: 'adam', lr, epsilon: 1 } });
    expect(r.engine).toBe('autodiff');
    expect(r.skipped).toEqual([{ engine: 'refuses', reason: 'no' }]);
    const g = handGradient();
    expect(r.finalLoss[0]).toBeCloseTo(g.loss, 6);
    // Adam's first step with ε = 1: Δ = −lr·g/(|g|+1)
    const step = (p: number, gi: number) => p - (lr * gi) / (Math.abs(gi) + 1);
    const after = await model.getParams();
    Array.from(after.W.data).forEach((v, i) => expect(v).toBeCloseTo(step(W[i], g.gW[i]), 6));
    Array.from(after.b.data).forEach((v, i) => expect(v).toBeCloseTo(step(b[i], g.gb[i]), 6));
    model.dispose();
  });

  it('the same weights under relu-output give a different step', async () => {
    const tanh = new TanhOutputModel(W, b);
    const relu = createModel({ kind: 'relu-output', instances: 1, features: 3, hidden: 2 });
    relu.setParams({ W: Float32Array.from(W), b: Float32Array.from(b) });
    const opts = { data: fixedBatch(x), steps: 1, batchSize: 1, logEvery: 1, optimizer: { name: 'adam' as const, lr: 0.1, epsilon: 1 } };
    const a = await train({ ...opts, model: tanh });
    const c = await train({ ...opts, model: relu });
    expect(a.finalLoss[0]).not.toBeCloseTo(c.finalLoss[0], 3);
    const Wa = (await tanh.getParams()).W.data;
    const Wc = (await relu.getParams()).W.data;
    expect(Array.from(Wa).some((v, i) => Math.abs(v - Wc[i]) > 1e-4)).toBe(true);
    tanh.dispose();
    relu.dispose();
  });
});

describe('tied layout: a capability only the exact built-in classes declare', () => {
  it('is declared by LinearModel and ReluOutputModel, never by subclasses, other kinds or look-alikes', () => {
    const relu = createModel({ kind: 'relu-output', instances: 1, features: 3, hidden: 2 });
    const linear = createModel({ kind: 'linear', instances: 1, features: 3, hidden: 2 });
    const hidden = createModel({ kind: 'relu-hidden', instances: 1, features: 3, hidden: 2 });
    class Sub extends ReluOutputModel {
      forward(x: tf.Tensor3D): tf.Tensor3D {
        return tf.tidy(() => tf.sigmoid(super.forward(x)) as tf.Tensor3D);
      }
    }
    const sub = new Sub({ kind: 'relu-output', instances: 1, features: 3, hidden: 2 });
    const lookalike = { ...relu, config: relu.config, params: relu.params, forward: relu.forward.bind(relu) } as ToyModel;
    expect(tiedLayout(relu)?.activation).toBe('relu');
    expect(tiedLayout(linear)?.activation).toBe('identity');
    expect(tiedLayout(hidden)).toBeUndefined();
    expect(tiedLayout(sub)).toBeUndefined();
    expect(tiedLayout(lookalike)).toBeUndefined();
    for (const mdl of [relu, linear, hidden, sub]) mdl.dispose();
  });
});

describe('train() input validation', () => {
  it('names the bad argument', async () => {
    const model = createModel({ kind: 'linear', instances: 1, features: 3, hidden: 2 });
    const data = new SparseFeatures({ instances: 1, features: 3 });
    await expect(train({ model: null as never, data, steps: 1 })).rejects.toThrow(/"model"/);
    await expect(train({ model, data: {} as never, steps: 1 })).rejects.toThrow(/"data"/);
    await expect(train({ model, data, steps: 1, engines: ['fused'] as never })).rejects.toThrow(/"engines"/);
    expect(await train({ model, data, steps: 0 })).toMatchObject({ steps: 0, finalLoss: [], history: [], diverged: [] });
    model.dispose();
    // a disposed model does not "train"
    await expect(train({ model, data, steps: 1 })).rejects.toThrow(/"model".*not disposed/);
  });
});
