import { describe, expect, it } from 'vitest';
import { SparseFeatures } from '@tms/data';
import { FusedTiedTrainer, createModel, lossPerInstance, resolveEngine, tf, train, validateOptimizerConfig } from '../src/index.js';

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
        kind,
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
      const run = async (engine: 'fused' | 'autodiff') => {
        const model = createModel({ kind, instances: I, features: n, hidden: m, seed: 1 });
        const data = new SparseFeatures({ instances: I, features: n, sparsity, seed: 2 });
        const r = await train({
          model,
          data,
          importance,
          steps: 60,
          batchSize: 128,
          logEvery: 20,
          engine,
          optimizer: { name: 'adamw', lr: 1e-2, weightDecay: 1e-3 },
          schedule: { name: 'cosine', warmupSteps: 5 },
        });
        const W = (await model.getParams()).W.data;
        model.dispose();
        return { r, W };
      };
      const a = await run('fused');
      const b = await run('autodiff');
      expect(a.r.engine).toBe('fused');
      expect(b.r.engine).toBe('autodiff');
      let err = 0;
      a.W.forEach((v, i) => (err = Math.max(err, Math.abs(v - b.W[i]))));
      expect(err).toBeLessThan(1e-3);
      a.r.finalLoss.forEach((v, i) => expect(v).toBeCloseTo(b.r.finalLoss[i], 5));
    });
  });
}

describe('engine selection', () => {
  it('auto picks fused for tied models on cpu/wasm and autodiff otherwise', () => {
    const relu = createModel({ kind: 'relu-output', instances: 1, features: 3, hidden: 2 });
    const hidden = createModel({ kind: 'relu-hidden', instances: 1, features: 3, hidden: 2 });
    expect(resolveEngine('auto', relu)).toBe('fused');
    expect(resolveEngine('auto', hidden)).toBe('autodiff');
    expect(resolveEngine('autodiff', relu)).toBe('autodiff');
    expect(() => resolveEngine('fused', hidden)).toThrow(/"engine".*fused supports linear, relu-output/);
    expect(() => resolveEngine('gpu' as never, relu)).toThrow(/"engine": got "gpu"/);
    relu.dispose();
    hidden.dispose();
  });
});
