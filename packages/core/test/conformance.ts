// The conformance suite every training engine must pass. Each engine's package
// runs it: `engineConformance({ label, engines, name })`.
//
// - gradients: one Adam step with ε = 1 moves each weight by −lr·g/(|g|+1), so
//   g is recovered exactly from the update and compared with central finite
//   differences of the float64 reference model;
// - trajectory: 60 steps of AdamW with a cosine schedule agree with autodiff;
// - abort: training stops at the logged step where the signal fired, with the
//   weights trained so far in the model;
// - tensors: create → train → dispose leaves tf.memory().numTensors unchanged;
// - divergence: an instance whose loss turns non-finite is reported at its first
//   logged step, and the other instances train on.
import { describe, expect, it } from 'vitest';
import { SparseFeatures } from '@tms/data';
import { autodiffEngine, createModel, tf, train, type Engine, type ModelKind, type ToyModel } from '../src/index.js';
import { referenceLoss } from './reference.js';

/** What {@link engineConformance} needs to know about an engine. */
export interface ConformanceOptions {
  /** Describe-block label. */
  label: string;
  /** Engines handed to `train()`, the engine under test first. */
  engines: readonly Engine[];
  /** The name `TrainResult.engine` must report for the kinds below. */
  name: string;
  /** Model kinds the engine trains (default linear and relu-output). */
  kinds?: readonly ModelKind[];
}

const I = 3;
const n = 8;
const m = 3;

function setup(kind: ModelKind, seed: number): { model: ToyModel; data: () => SparseFeatures } {
  const model = createModel({ kind, instances: I, features: n, hidden: m, seed });
  // biases of both signs so that ReLUs are active and inactive
  const b = model.params.b;
  model.setParams({ b: new Float32Array(b.size).map((_, i) => ((i * 37) % 11) / 20 - 0.255) });
  // (never exactly 0: a ReLU kink there would make finite differences meaningless)
  // dense, medium and sparse instances (the last has many all-zero samples)
  const config = { instances: I, features: n, sparsity: [0, 0.7, 0.97].map((s) => new Array<number>(n).fill(s)), signed: kind === 'abs', seed: 5 };
  return { model, data: () => new SparseFeatures(config) };
}

async function params64(model: ToyModel): Promise<Record<string, Float64Array>> {
  const out: Record<string, Float64Array> = {};
  for (const [k, p] of Object.entries(await model.getParams())) out[k] = Float64Array.from(p.data);
  return out;
}

/** Run the conformance suite against `engines[0]`. */
export function engineConformance(o: ConformanceOptions): void {
  const kinds = o.kinds ?? (['linear', 'relu-output'] as const);
  describe(`engine conformance: ${o.label}`, () => {
    it.each(kinds)('%s: the gradient of one step matches finite differences of the float64 reference', async (kind) => {
      const { model, data } = setup(kind, 11);
      const before = await params64(model);
      const importance = Float64Array.from({ length: I * n }, (_, i) => 0.9 ** (i % n));
      const B = 64;
      const x = Float64Array.from(data().sample(B).data);
      const lr = 0.1;
      const r = await train({
        model,
        data: data(),
        importance: Array.from(importance.subarray(0, n)),
        steps: 1,
        batchSize: B,
        logEvery: 1,
        engines: o.engines,
        optimizer: { name: 'adam', lr, epsilon: 1 },
      });
      expect(r.engine).toBe(o.name);
      const after = await params64(model);
      // the loss reported is that of the batch before the update
      const loss0 = referenceLoss(kind, before, x, importance, I, B, n, m);
      r.finalLoss.forEach((v, k) => expect(Math.abs(v - loss0[k])).toBeLessThan(1e-5 * Math.max(1, loss0[k])));
      for (const name of Object.keys(before)) {
        const p = before[name];
        const size = p.length / I;
        for (let k = 0; k < I; k++) {
          let scale = 0;
          let err = 0;
          for (let j = k * size; j < (k + 1) * size; j++) {
            const u = -(after[name][j] - p[j]) / lr; // = g/(|g|+1)
            const g = u / (1 - Math.abs(u));
            const h = 1e-6;
            const orig = p[j];
            p[j] = orig + h;
            const up = referenceLoss(kind, before, x, importance, I, B, n, m)[k];
            p[j] = orig - h;
            const down = referenceLoss(kind, before, x, importance, I, B, n, m)[k];
            p[j] = orig;
            const ref = (up - down) / (2 * h);
            scale = Math.max(scale, Math.abs(ref));
            err = Math.max(err, Math.abs(ref - g));
          }
          expect(scale, `${name}[${k}]`).toBeGreaterThan(0);
          expect(err / scale, `${name}[${k}]`).toBeLessThan(2e-3);
        }
      }
      model.dispose();
    });

    it.each(kinds)('%s: 60 steps of AdamW with warm-up and cosine decay follow the autodiff trajectory', async (kind) => {
      const run = async (engines: readonly Engine[]) => {
        const { model, data } = setup(kind, 3);
        const r = await train({
          model,
          data: data(),
          importance: 0.8,
          steps: 60,
          batchSize: 128,
          logEvery: 20,
          engines,
          optimizer: { name: 'adamw', lr: 1e-2, weightDecay: 1e-3 },
          schedule: { name: 'cosine', warmupSteps: 5 },
        });
        const p = await model.getParams();
        model.dispose();
        return { r, p };
      };
      const a = await run(o.engines);
      const b = await run([autodiffEngine]);
      expect(a.r.engine).toBe(o.name);
      expect(a.r.history.map((h) => h.step)).toEqual([20, 40, 60]);
      for (const name of Object.keys(b.p)) {
        let err = 0;
        a.p[name].data.forEach((v, i) => (err = Math.max(err, Math.abs(v - b.p[name].data[i]))));
        expect(err, name).toBeLessThan(1e-3);
      }
      a.r.finalLoss.forEach((v, i) => expect(v).toBeCloseTo(b.r.finalLoss[i], 4));
    });

    it('stops at the logged step where the signal fired and keeps the weights trained so far', async () => {
      const { model, data } = setup(kinds[0], 4);
      const W0 = Float32Array.from((await model.getParams()).W?.data ?? []);
      const controller = new AbortController();
      const r = await train({
        model,
        data: data(),
        steps: 100_000,
        batchSize: 16,
        logEvery: 10,
        engines: o.engines,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 30) controller.abort();
        },
      });
      expect(r.aborted).toBe(true);
      expect(r.steps).toBe(30);
      expect(r.history.map((h) => h.step)).toEqual([10, 20, 30]);
      const W1 = (await model.getParams()).W?.data ?? new Float32Array();
      expect(W1.some((v, i) => v !== W0[i])).toBe(true);
      // an already-aborted signal runs nothing and reports no loss
      const none = await train({ model, data: data(), steps: 10, engines: o.engines, signal: AbortSignal.abort() });
      expect(none).toMatchObject({ steps: 0, aborted: true, finalLoss: [], history: [] });
      model.dispose();
    });

    it.each(kinds)('%s: create → train → dispose leaves the tensor count unchanged', async (kind) => {
      // warm up once so that lazily created kernels do not count
      const warm = setup(kind, 1);
      await train({ model: warm.model, data: warm.data(), steps: 2, batchSize: 8, logEvery: 1, engines: o.engines });
      warm.model.dispose();
      const before = tf.memory().numTensors;
      const { model, data } = setup(kind, 2);
      const r = await train({ model, data: data(), steps: 25, batchSize: 32, logEvery: 10, engines: o.engines, onProgress: () => {} });
      expect(r.engine).toBe(o.name);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it('reports an instance whose loss turns non-finite; the others train on', async () => {
      const { model, data } = setup(kinds[0], 6);
      const W = (await model.getParams()).W ?? (await model.getParams()).W1;
      const name = model.params.W ? 'W' : 'W1';
      const size = W.data.length / I;
      const poisoned = W.data.slice();
      poisoned.fill(Infinity, size, 2 * size); // instance 1
      model.setParams({ [name]: poisoned });
      const r = await train({ model, data: data(), steps: 40, batchSize: 64, logEvery: 10, engines: o.engines, optimizer: { name: 'adam', lr: 1e-2 } });
      expect(r.engine).toBe(o.name);
      expect(r.diverged).toEqual([{ instance: 1, step: 10 }]);
      expect(Number.isFinite(r.finalLoss[0]) && Number.isFinite(r.finalLoss[2])).toBe(true);
      expect(r.finalLoss[0]).toBeLessThan(r.history[0].loss[0]);
      model.dispose();
    });

    it.each(kinds)('%s: reports non-finite parameters even where the loss stays finite', async (kind) => {
      const { model, data } = setup(kind, 6);
      const name = Object.keys(model.params)[0];
      const p = (await model.getParams())[name];
      const poisoned = p.data.slice();
      poisoned[p.data.length / I + 1] = NaN; // one weight of instance 1
      model.setParams({ [name]: poisoned });
      const r = await train({ model, data: data(), steps: 20, batchSize: 32, logEvery: 10, engines: o.engines });
      expect(r.diverged.map((d) => d.instance)).toEqual([1]);
      model.dispose();
    });
  });
}
