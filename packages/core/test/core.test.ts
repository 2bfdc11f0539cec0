import { describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError, SparseFeatures, type BatchSource } from '@tms/data';
import { outputSides } from '@tms/analysis';
import {
  AdamOptimizer,
  MODEL_KINDS,
  createModel,
  learningRateAt,
  lossPerInstance,
  tf,
  train,
  validateModelConfig,
  validateOptimizerConfig,
} from '../src/index.js';
import { referenceLoss } from './reference.js';

describe('models', () => {
  it('forward passes have the right shapes and init is seeded', async () => {
    for (const kind of MODEL_KINDS) {
      const a = createModel({ kind, instances: 3, features: 6, hidden: 2, seed: 4 });
      const b = createModel({ kind, instances: 3, features: 6, hidden: 2, seed: 4 });
      const c = createModel({ kind, instances: 3, features: 6, hidden: 2, seed: 5 });
      const x = tf.randomUniform([3, 7, 6]) as tf.Tensor3D;
      expect(a.forward(x).shape).toEqual([3, 7, 6]);
      expect(a.hiddenActivations(x).shape).toEqual([3, 7, 2]);
      const pa = await a.getParams();
      const pb = await b.getParams();
      const pc = await c.getParams();
      const first = Object.keys(pa)[0];
      expect(Array.from(pb[first].data)).toEqual(Array.from(pa[first].data));
      expect(Array.from(pc[first].data)).not.toEqual(Array.from(pa[first].data));
      for (const m of [a, b, c]) m.dispose();
      x.dispose();
    }
  });

  it('each instance is initialised from its own stream keyed by (seed, global instance index)', async () => {
    for (const kind of MODEL_KINDS) {
      const wholeModel = createModel({ kind, instances: 5, features: 6, hidden: 3, seed: 7 });
      const whole = await wholeModel.getParams();
      wholeModel.dispose();
      // instances 2..4 trained as a chunk of their own start from the same weights
      const part = createModel({ kind, instances: 3, features: 6, hidden: 3, seed: 7, firstInstance: 2 });
      for (const [name, p] of Object.entries(await part.getParams())) {
        const size = p.data.length / 3;
        expect(Array.from(p.data), `${kind}.${name}`).toEqual(Array.from(whole[name].data.subarray(2 * size)));
      }
      part.dispose();
    }
    expect(() => validateModelConfig({ kind: 'linear', instances: 1, features: 2, hidden: 1, firstInstance: -1 })).toThrow(/"model\.firstInstance"/);
  });

  it('initScale multiplies every initial weight, of every kind, and is validated', async () => {
    for (const kind of MODEL_KINDS) {
      const base = createModel({ kind, instances: 2, features: 6, hidden: 3, seed: 4 });
      const small = createModel({ kind, instances: 2, features: 6, hidden: 3, seed: 4, initScale: 0.1 });
      const [pb, ps] = [await base.getParams(), await small.getParams()];
      for (const name of Object.keys(pb)) {
        const a = Array.from(pb[name].data);
        const b = Array.from(ps[name].data);
        b.forEach((v, i) => expect(v, `${kind}.${name}[${i}]`).toBeCloseTo(a[i] * 0.1, 6));
      }
      base.dispose();
      small.dispose();
    }
    for (const bad of [0, -1, Number.NaN, 1e4]) {
      expect(() => validateModelConfig({ kind: 'linear', instances: 1, features: 2, hidden: 1, initScale: bad })).toThrow(/"model\.initScale"/);
    }
  });

  it('xavier-normal init has std sqrt(2/(n+m)) and zero bias', async () => {
    const model = createModel({ kind: 'relu-output', instances: 50, features: 40, hidden: 10, seed: 1 });
    const { W, b } = await model.getParams();
    let s2 = 0;
    for (const v of W.data) s2 += v * v;
    const std = Math.sqrt(s2 / W.data.length);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 50) * 0.97);
    expect(std).toBeLessThan(Math.sqrt(2 / 50) * 1.03);
    expect(b.data.every((v) => v === 0)).toBe(true);
    model.dispose();
  });

  it("xavierInstances takes torch's fans for one [instances, rows, cols] tensor (the notebook's init), from the same draws", async () => {
    // torch.nn.init.xavier_normal_ on a 3-D tensor: fan_in = size(1)·size(2), fan_out = size(0)·size(2)
    const torchStd = (instances: number, rows: number, cols: number) => Math.sqrt(2 / (rows * cols + instances * cols));
    for (const kind of MODEL_KINDS) {
      const base = createModel({ kind, instances: 2, features: 100, hidden: 40, seed: 4 });
      const notebook = createModel({ kind, instances: 2, features: 100, hidden: 40, seed: 4, xavierInstances: 7 });
      const [pb, pn] = [await base.getParams(), await notebook.getParams()];
      for (const name of Object.keys(pb)) {
        if (name === 'b') {
          expect(pn.b.data.every((v) => v === 0)).toBe(true);
          continue;
        }
        const [, rows, cols] = pb[name].shape;
        const ratio = torchStd(7, rows, cols) / Math.sqrt(2 / (rows + cols));
        // n = 100, m = 40, 7 instances: W₁ at 0.18× the per-matrix std, W₂ at 0.17×
        expect(ratio, `${kind}.${name}`).toBeLessThan(0.19);
        const a = pb[name].data;
        pn[name].data.forEach((v, i) => {
          if (Math.abs(v - a[i] * ratio) > 1e-6) expect(v, `${kind}.${name}[${i}]`).toBeCloseTo(a[i] * ratio, 6);
        });
      }
      base.dispose();
      notebook.dispose();
    }
    for (const bad of [0, -1, 1.5]) {
      expect(() => validateModelConfig({ kind: 'abs', instances: 1, features: 2, hidden: 1, xavierInstances: bad })).toThrow(/"model\.xavierInstances"/);
    }
  });

  it("w2Signs 'positive' draws the abs model's W₂ half-normal from the same draws, so no output starts silent", async () => {
    const config = { kind: 'abs', instances: 3, features: 100, hidden: 40, seed: 2, xavierInstances: 7 } as const;
    const [normal, positive] = [createModel(config), createModel({ ...config, w2Signs: 'positive' })];
    const [pn, pp] = [await normal.getParams(), await positive.getParams()];
    expect([validateModelConfig(config).w2Signs, validateModelConfig({ ...config, w2Signs: 'positive' }).w2Signs]).toEqual(['normal', 'positive']);
    expect(Array.from(pp.W1.data)).toEqual(Array.from(pn.W1.data));
    expect(Array.from(pp.W2.data)).toEqual(Array.from(pn.W2.data, Math.abs));
    // per output, the signs of its feature alone that can turn it on (`outputSides`, zero biases): 2, 1 or 0 (silent)
    const [n, m] = [config.features, config.hidden];
    const sides = (p: typeof pn) =>
      Array.from({ length: config.instances }, (_, k) => {
        const W1 = Array.from({ length: n }, (_, i) => Array.from(p.W1.data.subarray(k * n * m + i * m, k * n * m + (i + 1) * m)));
        const W2 = Array.from({ length: m }, (_, j) => Array.from(p.W2.data.subarray(k * m * n + j * n, k * m * n + (j + 1) * n)));
        return outputSides(W1, W2, new Array(n).fill(0));
      }).flat();
    // from normal W₂, 72 of the 300 outputs start silent for both signs and 151 for one; none from half-normal W₂
    const normalSides = sides(pn);
    expect(normalSides.filter((v) => v === 0).length).toBeGreaterThan(50);
    expect(normalSides.filter((v) => v === 1).length).toBeGreaterThan(120);
    expect(sides(pp).every((v) => v === 2)).toBe(true);
    normal.dispose();
    positive.dispose();
    expect(() => validateModelConfig({ kind: 'relu-hidden', instances: 1, features: 2, hidden: 1, w2Signs: 'positive' })).toThrow(/"model\.w2Signs".*only "abs" has a W₂/);
    expect(() => validateModelConfig({ kind: 'abs', instances: 1, features: 2, hidden: 1, w2Signs: 'abs' as never })).toThrow(/"model\.w2Signs".*"normal", "positive"/);
  });

  it('validates model configs naming the field and the allowed values', () => {
    expect(() => validateModelConfig({ kind: 'mlp' as never, instances: 1, features: 2, hidden: 1 })).toThrow(
      /"model\.kind".*allowed: one of "linear", "relu-output", "relu-hidden", "abs"/,
    );
    expect(() => validateModelConfig({ kind: 'linear', instances: 1, features: 2, hidden: 0 })).toThrow(/"model\.hidden"/);
    expect(() => validateModelConfig({ kind: 'linear', instances: 1.5, features: 2, hidden: 1 })).toThrow(/"model\.instances"/);
  });

  it('set/get params round-trips and rejects bad shapes', async () => {
    const model = createModel({ kind: 'linear', instances: 2, features: 3, hidden: 2 });
    const W = new Float32Array(12).map((_, i) => i / 10);
    model.setParams({ W });
    expect(Array.from((await model.getParams()).W.data)).toEqual(Array.from(W));
    expect(() => model.setParams({ W: new Float32Array(5) })).toThrow(/invalid shape of "W": expected 12 values, got 5 values/);
    expect(() => model.setParams({ W: new Float32Array(5) })).toThrow(ShapeError);
    expect(() => model.setParams({ W: { data: new Float32Array(12), shape: [2, 2, 3] } })).toThrow(/"W": expected shape \[2, 3, 2\]/);
    expect(() => model.setParams({ nope: new Float32Array(5) })).toThrow(/"params\.nope".*a parameter of this model: W, b/);
    expect(() => model.setParams({ nope: new Float32Array(5) })).toThrow(ConfigError);
    model.dispose();
  });
});

describe('loss gradients match finite differences of a float64 reference', () => {
  const I = 2;
  const B = 5;
  const n = 4;
  const m = 2;
  for (const kind of MODEL_KINDS) {
    it(kind, async () => {
      const rng = new Rng(99);
      const model = createModel({ kind, instances: I, features: n, hidden: m, seed: 3 });
      // non-zero bias so ReLUs sit away from kinks in different places
      const bias = new Float32Array(I * n).map(() => rng.uniform(-0.2, 0.3));
      model.setParams({ b: bias });
      const x64 = new Float64Array(I * B * n).map(() => (rng.float() < 0.7 ? (kind === 'abs' ? rng.uniform(-1, 1) : rng.float()) : 0));
      const imp64 = new Float64Array(I * n).map((_, i) => 0.8 ** (i % n));
      const x = tf.tensor3d(Float32Array.from(x64), [I, B, n]);
      const imp = tf.tensor2d(Float32Array.from(imp64), [I, n]);
      const vars = Object.values(model.params);
      const { value, grads } = tf.variableGrads(() => tf.sum(lossPerInstance(model, x, imp)) as tf.Scalar, vars);
      const params = await model.getParams();
      const p64: Record<string, Float64Array> = {};
      for (const [k, v] of Object.entries(params)) p64[k] = Float64Array.from(v.data);
      const total = (p: Record<string, Float64Array>) => referenceLoss(kind, p, x64, imp64, I, B, n, m).reduce((a, b) => a + b, 0);
      expect((await value.data())[0]).toBeCloseTo(total(p64), 5);
      const h = 1e-6;
      let maxErr = 0;
      let maxGrad = 0;
      for (const v of vars) {
        const name = Object.keys(model.params).find((k) => model.params[k] === v)!;
        const g = await grads[v.name].data();
        const arr = p64[name];
        for (let t = 0; t < arr.length; t++) {
          const orig = arr[t];
          arr[t] = orig + h;
          const up = total(p64);
          arr[t] = orig - h;
          const down = total(p64);
          arr[t] = orig;
          const fd = (up - down) / (2 * h);
          maxErr = Math.max(maxErr, Math.abs(fd - g[t]));
          maxGrad = Math.max(maxGrad, Math.abs(fd));
        }
      }
      expect(maxGrad).toBeGreaterThan(1e-3); // the check is not vacuous
      expect(maxErr).toBeLessThan(1e-5 + 1e-4 * maxGrad);
      tf.dispose([x, imp, value, ...Object.values(grads)]);
      model.dispose();
    });
  }
});

describe('optimizers', () => {
  async function oneStep(name: 'adam' | 'adamw', weightDecay: number, steps: number) {
    const p = tf.variable(tf.tensor1d([1.0, -2.0, 0.5]), true, `p_${name}_${weightDecay}_${steps}_${Math.random()}`);
    const opt = new AdamOptimizer({ name, lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay });
    const grads = [
      [0.5, -1.0, 0.0],
      [0.25, 0.5, -2.0],
    ];
    for (let s = 0; s < steps; s++) {
      const g = tf.tensor1d(grads[s]);
      opt.apply({ [p.name]: g }, [p]);
      g.dispose();
    }
    const out = Array.from(await p.data());
    p.dispose();
    opt.dispose();
    return { out, grads };
  }

  /** The same update written out in plain JS, following the PyTorch documentation. */
  function handAdam(name: 'adam' | 'adamw', wd: number, grads: number[][], steps: number) {
    const p = [1.0, -2.0, 0.5];
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    const lr = 0.1;
    for (let t = 1; t <= steps; t++) {
      for (let i = 0; i < 3; i++) {
        let g = grads[t - 1][i];
        if (name === 'adamw') p[i] *= 1 - lr * wd;
        else g += wd * p[i];
        m[i] = 0.9 * m[i] + 0.1 * g;
        v[i] = 0.999 * v[i] + 0.001 * g * g;
        const mh = m[i] / (1 - 0.9 ** t);
        const vh = v[i] / (1 - 0.999 ** t);
        p[i] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    }
    return p;
  }

  it('AdamW first step equals the hand-computed value', async () => {
    // step 1: m̂ = g, v̂ = g², so p ← p(1 − lr·wd) − lr·sign(g) (0 where g = 0)
    const { out } = await oneStep('adamw', 0.5, 1);
    const expected = [1.0 * 0.95 - 0.1, -2.0 * 0.95 + 0.1, 0.5 * 0.95];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('Adam and AdamW match a plain-JS implementation over two steps', async () => {
    for (const [name, wd] of [
      ['adam', 0],
      ['adam', 0.1],
      ['adamw', 0.1],
    ] as const) {
      const { out, grads } = await oneStep(name, wd, 2);
      const expected = handAdam(name, wd, grads, 2);
      out.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    }
  });

  it('AdamW and Adam with weight decay differ (decoupling matters)', async () => {
    const a = (await oneStep('adam', 0.1, 2)).out;
    const w = (await oneStep('adamw', 0.1, 2)).out;
    expect(Math.abs(a[2] - w[2])).toBeGreaterThan(1e-3);
  });

  it('rejects unknown optimizer and schedule fields instead of ignoring them', () => {
    expect(() => validateOptimizerConfig({ name: 'adamw', weight_decay: 0.1 } as never)).toThrow(/"optimizer\.weight_decay".*a known field: name, lr, beta1, beta2, epsilon, weightDecay/);
    expect(() => learningRateAt({ name: 'cosine', warmup: 10 } as never, 1e-3, 0, 10)).toThrow(/"schedule\.warmup"/);
  });

  it('rejects bad optimizer configs', () => {
    expect(() => new AdamOptimizer({ name: 'sgd' as never })).toThrow(/"optimizer\.name".*"adam", "adamw"/);
    expect(() => new AdamOptimizer({ name: 'adam', lr: -1 })).toThrow(/"optimizer\.lr"/);
  });
});

describe('schedules', () => {
  it('constant, linear and cosine with warm-up', () => {
    expect(learningRateAt({ name: 'constant' }, 1, 50, 100)).toBe(1);
    expect(learningRateAt({ name: 'constant', warmupSteps: 10 }, 1, 0, 100)).toBeCloseTo(0.1);
    expect(learningRateAt({ name: 'constant', warmupSteps: 10 }, 1, 9, 100)).toBeCloseTo(1);
    expect(learningRateAt({ name: 'linear' }, 1, 0, 101)).toBeCloseTo(1);
    expect(learningRateAt({ name: 'linear' }, 1, 50, 101)).toBeCloseTo(0.5);
    expect(learningRateAt({ name: 'linear' }, 1, 100, 101)).toBeCloseTo(0);
    expect(learningRateAt({ name: 'linear', finalFraction: 0.1 }, 1, 100, 101)).toBeCloseTo(0.1);
    expect(learningRateAt({ name: 'cosine' }, 1, 0, 101)).toBeCloseTo(1);
    expect(learningRateAt({ name: 'cosine' }, 1, 50, 101)).toBeCloseTo(0.5);
    expect(learningRateAt({ name: 'cosine' }, 1, 25, 101)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)));
    expect(learningRateAt({ name: 'cosine', warmupSteps: 10 }, 1, 10, 110)).toBeCloseTo(1);
    expect(() => learningRateAt({ name: 'step' as never }, 1, 0, 10)).toThrow(/"schedule\.name".*"constant", "linear", "cosine", "quarter-cosine"/);
  });

  it('quarter-cosine is the official notebook\'s cosine_decay_lr: lr·cos(½π·t/(T−1))', () => {
    // the notebook: lr * np.cos(0.5 * np.pi * step / (steps - 1))
    for (const t of [0, 1, 25, 50, 99, 100]) expect(learningRateAt({ name: 'quarter-cosine' }, 1e-3, t, 101)).toBeCloseTo(1e-3 * Math.cos((0.5 * Math.PI * t) / 100), 15);
    // half the steps in, it still trains at 71 % of the rate (the half cosine is at 50 %)
    expect(learningRateAt({ name: 'quarter-cosine' }, 1, 50, 101)).toBeCloseTo(Math.SQRT1_2, 12);
    expect(learningRateAt({ name: 'quarter-cosine', finalFraction: 0.2 }, 1, 100, 101)).toBeCloseTo(0.2, 12);
  });
});

describe('training loop', () => {
  it('lowers the loss, keeps the tensor count flat, and reports progress', async () => {
    const model = createModel({ kind: 'relu-output', instances: 2, features: 10, hidden: 3, seed: 0 });
    const data = new SparseFeatures({ instances: 2, features: 10, sparsity: [Array(10).fill(0), Array(10).fill(0.9)], seed: 1 });
    // warm up once so lazily created kernels/optimizer state don't count
    await train({ model, data, steps: 2, batchSize: 64 });
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const r = await train({
      model,
      data,
      steps: 300,
      batchSize: 256,
      optimizer: { name: 'adamw', lr: 1e-2, weightDecay: 1e-4 },
      schedule: { name: 'cosine', warmupSteps: 20 },
      logEvery: 50,
      onProgress: (p) => {
        progress.push(p.step);
        expect(p.loss).toHaveLength(2);
        expect(p.stepsPerSecond).toBeGreaterThan(0);
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(progress).toEqual([50, 100, 150, 200, 250, 300]);
    expect(r.history).toHaveLength(6);
    expect(r.steps).toBe(300);
    expect(r.aborted).toBe(false);
    for (let i = 0; i < 2; i++) expect(r.finalLoss[i]).toBeLessThan(r.history[0].loss[i]);
    model.dispose();
  });

  it('stops on abort and keeps the weights trained so far', async () => {
    const model = createModel({ kind: 'linear', instances: 1, features: 5, hidden: 2 });
    const data = new SparseFeatures({ instances: 1, features: 5, seed: 1 });
    const controller = new AbortController();
    const r = await train({
      model,
      data,
      steps: 10_000,
      batchSize: 32,
      logEvery: 10,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.step === 30) controller.abort();
      },
    });
    expect(r.aborted).toBe(true);
    expect(r.steps).toBe(30);
    model.dispose();
  });

  it('rejects a data source that does not match the model', async () => {
    const model = createModel({ kind: 'linear', instances: 2, features: 5, hidden: 2 });
    const data: BatchSource = new SparseFeatures({ instances: 3, features: 5 });
    await expect(train({ model, data, steps: 1 })).rejects.toThrow(/"data".*3 instances × 5 features/);
    await expect(train({ model, data: new SparseFeatures({ instances: 2, features: 5 }), steps: -1 })).rejects.toThrow(/"steps"/);
    model.dispose();
  });
});

describe('activation L1 penalty', () => {
  it('adds λ·mean‖h‖₁ to the loss, uses autodiff, and shrinks the model as λ grows', async () => {
    const n = 20;
    const lambdas = [0, 0.03, 0.3];
    const model = createModel({ kind: 'relu-output', instances: 3, features: n, hidden: 5, seed: 0 });
    const data = new SparseFeatures({ instances: 3, features: n, sparsity: 0.9, seed: 1 });
    // the first recorded loss equals reconstruction + λ·mean‖h‖₁ on the batch it was computed from
    const probe = new SparseFeatures({ instances: 3, features: n, sparsity: 0.9, seed: 1 });
    const batch = probe.sample(256);
    const x = tf.tensor3d(batch.data, batch.shape);
    const recon = (await lossPerInstance(model, x, tf.ones([3, n])).data()) as Float32Array;
    const h1 = (await tf.mean(tf.sum(tf.abs(model.hiddenActivations(x)), 2), 1).data()) as Float32Array;
    x.dispose();
    const first = await train({ model, data, steps: 1, batchSize: 256, logEvery: 1, activationL1: lambdas, optimizer: { name: 'adam', lr: 0 } });
    expect(first.engine).toBe('autodiff');
    for (let k = 0; k < 3; k++) expect(first.finalLoss[k]).toBeCloseTo(recon[k] + lambdas[k] * h1[k], 5);
    const r = await train({ model, data, steps: 1500, batchSize: 512, activationL1: lambdas, optimizer: { name: 'adam', lr: 1e-2 } });
    const W = await model.params.W.data();
    const frob = lambdas.map((_, k) => {
      let s = 0;
      for (let i = k * n * 5; i < (k + 1) * n * 5; i++) s += W[i] ** 2;
      return s;
    });
    // a larger penalty keeps fewer, shorter feature directions
    expect(frob[1]).toBeLessThan(frob[0]);
    expect(frob[2]).toBeLessThan(frob[1]);
    expect(r.steps).toBe(1500);
    model.dispose();
  });

  it('validates λ', async () => {
    const model = createModel({ kind: 'relu-output', instances: 2, features: 5, hidden: 2 });
    const data = new SparseFeatures({ instances: 2, features: 5 });
    await expect(train({ model, data, steps: 1, activationL1: -1 })).rejects.toThrow(/"activationL1".*2 numbers/);
    await expect(train({ model, data, steps: 1, activationL1: [0.1] })).rejects.toThrow(/"activationL1"/);
    model.dispose();
  });
});

describe('safetensors', () => {
  it('round-trips tensors and metadata with an 8-byte aligned header', async () => {
    const { encodeSafetensors, decodeSafetensors } = await import('../src/index.js');
    const W = { data: new Float32Array([1, -2.5, 3e-8, 4]), shape: [1, 2, 2] };
    const b = { data: new Float32Array([0.5, 0.25]), shape: [1, 2] };
    const bytes = encodeSafetensors({ 'relu.W': W, 'relu.b': b }, { experiment: 'intro' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
    expect(header['relu.W']).toEqual({ dtype: 'F32', shape: [1, 2, 2], data_offsets: [0, 16] });
    expect(header['relu.b'].data_offsets).toEqual([16, 24]);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ experiment: 'intro' });
    expect(Array.from(back.tensors['relu.W'].data)).toEqual(Array.from(W.data));
    expect(back.tensors['relu.b'].shape).toEqual([1, 2]);
    expect(() => encodeSafetensors({ x: { data: new Float32Array(3), shape: [2, 2] } })).toThrow(/"x": expected 4 values for shape \[2, 2\], got 3 values/);
  });

  it('writes what it is given or refuses: the reserved name, Float64 data, bad shapes; aligns after non-ASCII names', async () => {
    const { encodeSafetensors, decodeSafetensors } = await import('../src/index.js');
    const t = { data: new Float32Array([1, 2]), shape: [2] };
    expect(() => encodeSafetensors({ __metadata__: t })).toThrow(/"tensors\.__metadata__"/);
    expect(() => encodeSafetensors({ x: { data: new Float64Array([1, 2]) as never, shape: [2] } })).toThrow(/"tensors\.x\.data": got "Float64Array"; allowed: a Float32Array/);
    expect(() => encodeSafetensors({ x: { data: new Float32Array(0), shape: [-1, 0] } })).toThrow(ShapeError);
    expect(() => encodeSafetensors({ x: t }, { n: 3 as never })).toThrow(/"metadata\.n"/);
    // multi-byte names: the header is padded in bytes, so the data stay 8-byte aligned and readable
    const bytes = encodeSafetensors({ 'Wᵢ·φ': t, 'β': { data: new Float32Array([3]), shape: [1] } });
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(Array.from(back.tensors['Wᵢ·φ'].data)).toEqual([1, 2]);
    expect(Array.from(back.tensors['β'].data)).toEqual([3]);
  });

  it('refuses malformed files, saying what is wrong', async () => {
    const { SafetensorsError, decodeSafetensors } = await import('../src/index.js');
    const file = (header: unknown, dataBytes = 8) => {
      const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + dataBytes);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expect(decodeSafetensors(file(ok)).tensors.x.shape).toEqual([2]);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(4), /shorter than the 8-byte header length/],
      [file(ok).subarray(0, 12), /header length \d+ exceeds/],
      [file('{"x": '), /not JSON/],
      [file([1, 2]), /not a JSON object/],
      [file({ x: { ...ok.x, dtype: 'F64' } }), /dtype "F64"/],
      [file({ x: { ...ok.x, shape: [-2] } }), /shape \[-2\], not a list of integers/],
      [file({ x: { ...ok.x, shape: [3] } }), /has 8 bytes; its shape \[3\] needs 12/],
      [file({ x: { ...ok.x, data_offsets: [0, 6] } }, 8), /has 6 bytes/],
      [file({ x: { ...ok.x, data_offsets: [0, 16] } }), /outside the 8 data bytes/],
      [file({ x: ok.x, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), /"x" and "y" overlap/],
      [file({ __metadata__: { a: 1 }, ...ok }), /__metadata__ is not an object of strings/],
    ];
    for (const [bytes, pattern] of cases) {
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(pattern);
    }
  });
});
