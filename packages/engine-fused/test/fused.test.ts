import { describe, expect, it } from 'vitest';
import { SparseFeatures } from '@tms/data';
import { autodiffEngine, createModel, lossPerInstance, tf, train, validateOptimizerConfig, type ParamArray, type ToyModel, ReluHiddenModel, ReluOutputModel } from '@tms/core';
import { FusedHiddenTrainer, FusedTiedTrainer, createFusedEngine, fusedEngine } from '../src/index.js';
import { engineConformance } from '../../core/test/conformance.js';

engineConformance({ label: 'fused (wasm kernel)', engines: [createFusedEngine({ kernel: 'wasm' })], name: 'fused', kinds: ['linear', 'relu-output', 'relu-hidden', 'abs'] });
engineConformance({ label: 'fused (JS kernel)', engines: [createFusedEngine({ kernel: 'js' })], name: 'fused', kinds: ['linear', 'relu-output', 'relu-hidden', 'abs'] });

const I = 4;
const n = 12;
const m = 4;
const B = 256;
// instance sparsities: dense, medium, sparse (Gram route, nnz < m), very sparse (many all-zero samples)
const sparsity = [0, 0.6, 0.9, 0.995].map((s) => Array(n).fill(s));
const importance = Array.from({ length: n }, (_, i) => 0.9 ** i);

for (const kind of ['linear', 'relu-output'] as const) {
  describe(`fused engine (${kind}) agrees with autodiff`, () => {
    it.each(['js', 'wasm'] as const)('%s kernel: gradients match to 1e-5 of their scale on dense, sparse and all-zero samples', async (kernel) => {
      const model = createModel({ kind, instances: I, features: n, hidden: m, seed: 7 });
      // non-zero biases of both signs so ReLUs are active and inactive
      model.setParams({ b: new Float32Array(I * n).map((_, i) => ((i * 37) % 11) / 20 - 0.25) });
      const { data } = new SparseFeatures({ instances: I, features: n, sparsity, seed: 3 }).sample(B);
      const imp = Float32Array.from({ length: I * n }, (_, i) => importance[i % n]);
      const x = tf.tensor3d(data, [I, B, n]);
      const impT = tf.tensor2d(imp, [I, n]);
      const vars = [model.params.W, model.params.b];
      const { grads, value } = tf.variableGrads(() => tf.sum(lossPerInstance(model, x, impT)) as tf.Scalar, vars);
      const per = await lossPerInstance(model, x, impT).data();
      const gW = await grads[model.params.W.name].data();
      const gb = await grads[model.params.b.name].data();
      const params = await model.getParams();
      const fused = new FusedTiedTrainer({
        activation: kind === 'linear' ? 'identity' : 'relu',
        instances: I,
        features: n,
        hidden: m,
        W: params.W.data.slice(),
        b: params.b.data.slice(),
        importance: imp,
        optimizer: validateOptimizerConfig({ name: 'adam' }),
        kernel,
      });
      expect(fused.kernel).toBe(kernel);
      let zeroSamples = 0;
      for (let s = 0; s < B; s++) if (data.subarray((3 * B + s) * n, (3 * B + s + 1) * n).every((v) => v === 0)) zeroSamples++;
      expect(zeroSamples).toBeGreaterThan(B / 2); // the all-zero shortcut is exercised
      for (let k = 0; k < I; k++) {
        const g = fused.gradients(k, data, B);
        expect(Math.abs(g.loss - per[k])).toBeLessThan(1e-6 * Math.max(1, per[k]) + 1e-9);
        const refW = gW.subarray(k * n * m, (k + 1) * n * m);
        const refb = gb.subarray(k * n, (k + 1) * n);
        const scale = Math.max(...Array.from(refW, Math.abs), ...Array.from(refb, Math.abs));
        expect(scale).toBeGreaterThan(0);
        let err = 0;
        refW.forEach((v, i) => (err = Math.max(err, Math.abs(v - g.gW[i]))));
        refb.forEach((v, i) => (err = Math.max(err, Math.abs(v - g.gb[i]))));
        expect(err / scale).toBeLessThan(1e-5);
      }
      tf.dispose([x, impT, value, ...Object.values(grads)]);
      model.dispose();
    });

    it('training with either engine gives the same trajectory', async () => {
      const run = async (engine: typeof fusedEngine) => {
        const model = createModel({ kind, instances: I, features: n, hidden: m, seed: 1 });
        const data = new SparseFeatures({ instances: I, features: n, sparsity, seed: 2 });
        const r = await train({
          model,
          data,
          importance,
          steps: 60,
          batchSize: 128,
          logEvery: 20,
          engines: [engine],
          optimizer: { name: 'adamw', lr: 1e-2, weightDecay: 1e-3 },
          schedule: { name: 'cosine', warmupSteps: 5 },
        });
        const W = (await model.getParams()).W.data;
        model.dispose();
        return { r, W };
      };
      const a = await run(fusedEngine);
      const b = await run(autodiffEngine);
      expect(a.r.engine).toBe('fused');
      expect(b.r.engine).toBe('autodiff');
      let err = 0;
      a.W.forEach((v, i) => (err = Math.max(err, Math.abs(v - b.W[i]))));
      expect(err).toBeLessThan(1e-3);
      a.r.finalLoss.forEach((v, i) => expect(v).toBeCloseTo(b.r.finalLoss[i], 5));
    });
  });
}

describe('FusedHiddenTrainer agrees with autodiff', () => {
  // n and m not multiples of 4 (the SIMD tails); dense, medium, sparse and very sparse instances
  const nh = 13;
  const mh = 6;
  const sparsityH = [0, 0.6, 0.9, 0.995].map((s) => Array(nh).fill(s));
  it.each([
    ['relu-hidden', 'js'],
    ['relu-hidden', 'wasm'],
    ['abs', 'js'],
    ['abs', 'wasm'],
  ] as const)('%s, %s kernel: gradients match to 1e-5 of their scale', async (kind, kernel) => {
    const model = createModel({ kind, instances: I, features: nh, hidden: mh, seed: 5 });
    model.setParams({ b: new Float32Array(I * nh).map((_, i) => ((i * 37) % 11) / 20 - 0.25) });
    const { data } = new SparseFeatures({ instances: I, features: nh, sparsity: sparsityH, signed: kind === 'abs', seed: 8 }).sample(B);
    const imp = Float32Array.from({ length: I * nh }, (_, i) => 0.9 ** (i % nh));
    const x = tf.tensor3d(data, [I, B, nh]);
    const impT = tf.tensor2d(imp, [I, nh]);
    const names = kind === 'abs' ? ['W1', 'W2', 'b'] : ['W', 'b'];
    const vars = names.map((k) => model.params[k]);
    const { grads } = tf.variableGrads(() => tf.sum(lossPerInstance(model, x, impT)) as tf.Scalar, vars);
    const per = await lossPerInstance(model, x, impT).data();
    const p = await model.getParams();
    const trainer = new FusedHiddenTrainer({
      instances: I, features: nh, hidden: mh, kernel, importance: imp, target: kind === 'abs' ? 'abs' : 'identity', optimizer: validateOptimizerConfig({ name: 'adam', lr: 0.01 }),
      W1: (kind === 'abs' ? p.W1 : p.W).data.slice(), W2: kind === 'abs' ? p.W2.data.slice() : null, b: p.b.data.slice(),
    });
    expect(trainer.kernel).toBe(kernel);
    const want = Object.fromEntries(await Promise.all(names.map(async (k) => [k, await grads[vars[names.indexOf(k)].name].data()] as const)));
    for (let k = 0; k < I; k++) {
      const g = trainer.gradients(k, data, B);
      expect(g.loss).toBeCloseTo(per[k], 6);
      const pairs: [Float64Array, Float32Array, number][] = [[g.gW1, want[names[0]] as Float32Array, nh * mh], [g.gb, want.b as Float32Array, nh]];
      if (kind === 'abs') pairs.push([g.gW2!, want.W2 as Float32Array, mh * nh]);
      for (const [got, ref, size] of pairs) {
        const r = ref.subarray(k * size, (k + 1) * size);
        const scale = Math.max(...Array.from(r, Math.abs));
        expect(scale).toBeGreaterThan(0);
        got.forEach((v, i) => expect(Math.abs(v - r[i])).toBeLessThan(1e-5 * scale + 1e-9));
      }
    }
    tf.dispose([x, impT, ...Object.values(grads)]);
    model.dispose();
  });
});

describe('FusedHiddenTrainer kernels', () => {
  it('train alike when a large batch grows the wasm memory (its views are rebuilt)', () => {
    const [I2, n2, m2, B2] = [2, 50, 12, 1024];
    const W1 = Float32Array.from({ length: I2 * n2 * m2 }, (_, i) => Math.sin(i * 12.9898) * 0.2);
    const W2 = Float32Array.from({ length: I2 * n2 * m2 }, (_, i) => Math.cos(i * 7.233) * 0.2);
    const make = (kernel: 'js' | 'wasm') =>
      new FusedHiddenTrainer({
        instances: I2, features: n2, hidden: m2, kernel, W1: W1.slice(), W2: W2.slice(), b: new Float32Array(I2 * n2).fill(0.01), target: 'abs',
        importance: Float32Array.from({ length: I2 * n2 }, (_, i) => 0.8 ** (i % n2)), optimizer: validateOptimizerConfig({ name: 'adam', lr: 1e-3 }),
      });
    const js = make('js');
    const wasm = make('wasm');
    const source = new SparseFeatures({ instances: I2, features: n2, sparsity: [0, 0.9].map((s) => Array(n2).fill(s)), signed: true, seed: 1 });
    const buffer = wasm.batchBuffer(B2); // 400 KB: beyond the kernel's first pages
    for (let t = 0; t < 30; t++) {
      const x = source.sample(B2).data;
      buffer.set(x);
      js.train(x, B2, 1e-3);
      wasm.train(buffer, B2, 1e-3);
    }
    const a = js.params();
    const b = wasm.params();
    expect(js.loss[0]).toBeLessThan(0.9 * make('js').gradients(0, source.sample(B2).data, B2).loss);
    for (const name of ['W1', 'W2', 'b']) {
      let err = 0;
      a[name].forEach((v, i) => (err = Math.max(err, Math.abs(v - b[name][i]))));
      expect(err, name).toBeLessThan(1e-4);
    }
    Array.from(js.loss).forEach((v, k) => expect(wasm.loss[k]).toBeCloseTo(v, 6));
  });
});

describe('engine selection', () => {
  it('trains the four built-in models and declines everything else, which then trains by autodiff', async () => {
    const opts = { steps: 3, batchSize: 8, logEvery: 1, engines: [fusedEngine] };
    const data = (signed = false) => new SparseFeatures({ instances: 1, features: 3, sparsity: 0.5, signed, seed: 1 });
    const relu = createModel({ kind: 'relu-output', instances: 1, features: 3, hidden: 2 });
    const hidden = createModel({ kind: 'relu-hidden', instances: 1, features: 3, hidden: 2 });
    const abs = createModel({ kind: 'abs', instances: 1, features: 3, hidden: 2 });
    expect((await train({ ...opts, model: relu, data: data() })).engine).toBe('fused');
    expect((await train({ ...opts, model: hidden, data: data() })).engine).toBe('fused');
    expect((await train({ ...opts, model: abs, data: data(true) })).engine).toBe('fused');
    // a subclass of a hidden-layer model declares no layout
    class Shifted extends ReluHiddenModel {}
    const sub = new Shifted({ kind: 'relu-hidden', instances: 1, features: 3, hidden: 2 });
    const r = await train({ ...opts, model: sub, data: data() });
    expect(r.engine).toBe('autodiff');
    expect(r.skipped[0]).toMatchObject({ engine: 'fused', reason: expect.stringMatching(/declares no layout/) });
    // an activation penalty needs autodiff; λ = 0 everywhere keeps the fused engine
    expect((await train({ ...opts, model: relu, data: data(), activationL1: 0.1 })).engine).toBe('autodiff');
    expect((await train({ ...opts, model: hidden, data: data(), activationL1: 0.1 })).engine).toBe('autodiff');
    expect((await train({ ...opts, model: relu, data: data(), activationL1: 0 })).engine).toBe('fused');
    for (const model of [relu, hidden, abs, sub]) model.dispose();
  });

  it('never routes a user subclass or a look-alike object to the fused engine', async () => {
    // a subclass that changes the output nonlinearity: the fused engine would train the wrong model
    const leaky = (W: tf.Variable, b: tf.Variable, x: tf.Tensor3D) =>
      tf.tidy(() => tf.leakyRelu(tf.add(tf.matMul(tf.matMul(x, W as tf.Tensor3D), W as tf.Tensor3D, false, true), tf.reshape(b, [1, 1, 3])), 0.5) as tf.Tensor3D);
    class Leaky extends ReluOutputModel {
      forward(x: tf.Tensor3D): tf.Tensor3D {
        return leaky(this.params.W, this.params.b, x);
      }
    }
    const sub = new Leaky({ kind: 'relu-output', instances: 1, features: 3, hidden: 2, seed: 3 });
    const twin = createModel({ kind: 'relu-output', instances: 1, features: 3, hidden: 2, seed: 3 });
    // a plain object that claims the kind and names its weights W and b
    const lookalike: ToyModel = {
      config: { kind: 'relu-output', instances: 1, features: 3, hidden: 2 },
      params: twin.params,
      forward: (x) => leaky(twin.params.W, twin.params.b, x),
      hiddenActivations: (x) => twin.hiddenActivations(x),
      target: (x) => x,
      getParams: () => twin.getParams(),
      setParams: (v: Record<string, ParamArray | Float32Array>) => twin.setParams(v),
      dispose: () => {},
    };
    const data = () => new SparseFeatures({ instances: 1, features: 3, sparsity: 0, signed: true, seed: 2 });
    const opts = { steps: 5, batchSize: 16, logEvery: 5, engines: [fusedEngine, autodiffEngine] };
    const a = await train({ ...opts, model: sub, data: data() });
    const b = await train({ ...opts, model: lookalike, data: data() });
    expect(a.engine).toBe('autodiff');
    expect(b.engine).toBe('autodiff');
    // both trained the leaky model they compute, from the same start: the same result
    expect(b.finalLoss[0]).toBeCloseTo(a.finalLoss[0], 6);
    sub.dispose();
    twin.dispose();
  });
});

describe('the committed wasm module', () => {
  it('is what asm/fused.ts compiles to', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, [new URL('../scripts/build-wasm.mjs', import.meta.url).pathname, '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/matches asm\/fused\.ts/);
  });
});
