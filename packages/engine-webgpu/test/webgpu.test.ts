import { beforeAll, describe, expect, it } from 'vitest';
import { SparseFeatures } from '@tms/data';
import { AbsModel, createModel, train, type Engine } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { representedFeatures } from '@tms/analysis';
import { engineConformance } from '../../core/test/conformance.js';
import { createWebGPUEngine, requestGPUDevice, type WebGPUEngine } from '../src/index.js';
import { testGPU } from './gpu.js';

const found = await testGPU();
const skip = typeof found === 'string' ? found : null;
if (skip) console.warn(`WebGPU engine tests skipped: ${skip}`);
const gpu = typeof found === 'string' ? undefined : found.gpu;
// host: batches sampled on the CPU (as the float64 oracle sees them); auto: drawn on the GPU
// (both kernel layouts: 'sample', one invocation per sample, and 'split', one kernel per stage)
let host: WebGPUEngine;
let auto: WebGPUEngine;
let split: WebGPUEngine;
const hostEngines: WebGPUEngine[] = [];
const hostSplitEngines: WebGPUEngine[] = [];
beforeAll(async () => {
  if (!gpu) return;
  host = await createWebGPUEngine({ gpu, data: 'host' });
  auto = await createWebGPUEngine({ gpu });
  split = await createWebGPUEngine({ gpu, path: 'split' });
  hostEngines.push(host);
  hostSplitEngines.push(await createWebGPUEngine({ gpu, data: 'host', path: 'split' }));
});

describe.skipIf(skip !== null)(`WebGPU engine on ${typeof found === 'string' ? 'no adapter' : found.adapter.label}`, () => {
  engineConformance({ label: 'webgpu (batches from the CPU)', engines: hostEngines, name: 'webgpu', kinds: ['linear', 'relu-output', 'relu-hidden', 'abs'] });
  engineConformance({ label: "webgpu (batches from the CPU, path 'split')", engines: hostSplitEngines, name: 'webgpu' });

  it('draws the same batches on the GPU as SparseFeatures with the philox generator on the CPU, per-instance stream keys included', async () => {
    const I = 3;
    const n = 9;
    for (const [unitNorm, keyed] of [[false, false], [true, false], [false, true]]) {
      // keyed: each instance names its own stream (instances of several runs joined in one batch)
      const keys = keyed ? { streams: { seeds: [9, 4, 9], indices: [0, 5, 2] } } : { seed: 9 };
      const config = { instances: I, features: n, sparsity: [0, 0.5, 0.95].map((s) => new Array<number>(n).fill(s)), ...keys, signed: unitNorm, unitNorm, generator: 'philox' as const };
      const run = async (engine: WebGPUEngine) => {
        const model = createModel({ kind: 'relu-output', instances: I, features: n, hidden: 3, seed: 2 });
        const data = new SparseFeatures(config);
        data.sample(4); // a draw already taken: the engine starts at draw 1
        const r = await train({ model, data, steps: 30, batchSize: 96, logEvery: 10, engines: [engine], optimizer: { name: 'adam', lr: 1e-2 } });
        expect(r.engine).toBe('webgpu');
        expect(data.draws).toBe(31);
        const W = (await model.getParams()).W.data;
        model.dispose();
        return { W, loss: r.finalLoss };
      };
      const cpu = await run(host);
      for (const engine of [auto, split]) {
        const device = await run(engine);
        let err = 0;
        device.W.forEach((v, i) => (err = Math.max(err, Math.abs(v - cpu.W[i]))));
        expect(err).toBeLessThan(unitNorm ? 1e-4 : 1e-5);
        device.loss.forEach((v, i) => expect(v).toBeCloseTo(cpu.loss[i], 6));
      }
    }
  });

  it("shows the paper's intro result with batches drawn on the GPU: 5 of 20 features dense, ≥ 10 at S = 0.999", async () => {
    const n = 20;
    const model = createModel({ kind: 'relu-output', instances: 2, features: n, hidden: 5, seed: 1 });
    const data = new SparseFeatures({ instances: 2, features: n, sparsity: [0, 0.999].map((s) => new Array<number>(n).fill(s)), seed: 1, generator: 'philox' });
    const r = await train({ model, data, importance: Array.from({ length: n }, (_, i) => 0.7 ** i), steps: 2000, batchSize: 1024, logEvery: 500, engines: [auto], optimizer: { name: 'adam', lr: 1e-3 } });
    expect(r.engine).toBe('webgpu');
    expect(r.history.map((h) => h.step)).toEqual([500, 1000, 1500, 2000]);
    const W = await model.getParams();
    const [dense, sparse] = representedFeatures(W.W).map((row) => row.filter(Boolean).length);
    expect(dense).toBe(5);
    expect(representedFeatures(W.W)[0].slice(0, 5)).toEqual([true, true, true, true, true]);
    expect(sparse).toBeGreaterThanOrEqual(10);
    model.dispose();
  });

  it('hidden sizes above the unroll limit (loops instead of registers) train as the CPU engine does, on both kernel layouts', async () => {
    const I = 2;
    const n = 6;
    const m = 70;
    const run = async (engines: Engine[]) => {
      const model = createModel({ kind: 'relu-output', instances: I, features: n, hidden: m, seed: 3 });
      const data = new SparseFeatures({ instances: I, features: n, sparsity: [0, 0.8].map((s) => new Array<number>(n).fill(s)), seed: 2, generator: 'philox' });
      const r = await train({ model, data, steps: 12, batchSize: 64, logEvery: 6, engines, optimizer: { name: 'adam', lr: 1e-2 } });
      const W = (await model.getParams()).W.data;
      model.dispose();
      return { W, r };
    };
    const cpu = await run([fusedEngine]);
    for (const engine of [auto, split]) {
      const gpu = await run([engine]);
      expect(gpu.r.engine).toBe('webgpu');
      let err = 0;
      gpu.W.forEach((v, i) => (err = Math.max(err, Math.abs(v - cpu.W[i]))));
      expect(err).toBeLessThan(1e-5);
      gpu.r.finalLoss.forEach((v, i) => expect(v).toBeCloseTo(cpu.r.finalLoss[i], 6));
    }
  });

  it.each([
    ['relu-hidden', 6],
    ['abs', 6],
    ['abs', 70],
  ] as const)('%s with %i hidden neurons (a ReLU hidden layer), batches drawn on the GPU, trains as the CPU engine does', async (kind, m) => {
    const I = 3;
    const n = 7;
    const run = async (engines: Engine[]) => {
      const model = createModel({ kind, instances: I, features: n, hidden: m, seed: 4 });
      const data = new SparseFeatures({ instances: I, features: n, sparsity: [0, 0.6, 0.95].map((s) => new Array<number>(n).fill(s)), signed: kind === 'abs', seed: 8, generator: 'philox' });
      const r = await train({ model, data, importance: 0.8, steps: 20, batchSize: 96, logEvery: 10, engines, optimizer: { name: 'adamw', lr: 1e-2, weightDecay: 1e-2 } });
      const p = await model.getParams();
      model.dispose();
      return { p, r };
    };
    const cpu = await run([fusedEngine]);
    const gpu = await run([auto]);
    expect(gpu.r.engine).toBe('webgpu');
    expect(Object.keys(gpu.p).sort()).toEqual(kind === 'abs' ? ['W1', 'W2', 'b'] : ['W', 'b']);
    for (const name of Object.keys(cpu.p)) {
      let err = 0;
      gpu.p[name].data.forEach((v, i) => (err = Math.max(err, Math.abs(v - cpu.p[name].data[i]))));
      expect(err, name).toBeLessThan(1e-4);
    }
    gpu.r.finalLoss.forEach((v, i) => expect(v).toBeCloseTo(cpu.r.finalLoss[i], 5));
  });

  it("computes |x| exactly with the paper's n = 3, m = 6 circuit, batches drawn on the GPU: ReLU(x) + ReLU(−x) per feature", async () => {
    const n = 3;
    const m = 6;
    const model = createModel({ kind: 'abs', instances: 1, features: n, hidden: m, seed: 0, w2Signs: 'positive' });
    const data = new SparseFeatures({ instances: 1, features: n, sparsity: 0, signed: true, seed: 1, generator: 'philox' });
    const r = await train({ model, data, importance: 1, steps: 3000, batchSize: 256, logEvery: 1000, engines: [auto], optimizer: { name: 'adam', lr: 1e-2 } });
    expect(r.engine).toBe('webgpu');
    const p = await model.getParams();
    model.dispose();
    const [W1, W2, b] = [p.W1.data, p.W2.data, p.b.data];
    // held-out loss on fresh samples against the all-zero output's (E[x²] = 1/3 per feature)
    const x = new SparseFeatures({ instances: 1, features: n, sparsity: 0, signed: true, seed: 99 }).sample(4000).data;
    let loss = 0;
    let zero = 0;
    for (let s = 0; s < 4000; s++) {
      const h = Array.from({ length: m }, (_, k) => Math.max(0, x[s * n] * W1[k] + x[s * n + 1] * W1[m + k] + x[s * n + 2] * W1[2 * m + k]));
      for (let f = 0; f < n; f++) {
        const out = Math.max(0, b[f] + h.reduce((acc, hk, k) => acc + hk * W2[k * n + f], 0));
        loss += (out - Math.abs(x[s * n + f])) ** 2;
        zero += x[s * n + f] ** 2;
      }
    }
    expect(loss / zero).toBeLessThan(0.01);
    // each feature has a neuron reading +x and one reading −x (its largest input weight), both writing to it
    for (let f = 0; f < n; f++) {
      const readers = Array.from({ length: m }, (_, k) => k).filter((k) => Math.abs(W1[f * m + k]) === Math.max(...Array.from({ length: n }, (_, g) => Math.abs(W1[g * m + k]))) && W2[k * n + f] > 0);
      expect(new Set(readers.map((k) => Math.sign(W1[f * m + k]))), `feature ${f}`).toEqual(new Set([1, -1]));
    }
  });

  it('throws when its kernels do not compile, instead of training with them', async () => {
    // a device whose shader modules carry a syntax error
    const broken = new Proxy((await requestGPUDevice({ gpu })).device, {
      get(target, key) {
        if (key === 'createShaderModule') return (d: GPUShaderModuleDescriptor) => target.createShaderModule({ ...d, code: `${d.code}\nfn broken( {` });
        const v = Reflect.get(target, key);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const engine = await createWebGPUEngine({ device: broken });
    const model = createModel({ kind: 'abs', instances: 1, features: 4, hidden: 2, seed: 1 });
    const data = new SparseFeatures({ instances: 1, features: 4, sparsity: 0.5, signed: true, generator: 'philox' });
    await expect(train({ model, data, steps: 5, batchSize: 8, engines: [engine] })).rejects.toThrow(/do not compile on this device: \d+:\d+ /);
    model.dispose();
  });

  it('stops between submissions when aborted inside a segment', async () => {
    const engine = await createWebGPUEngine({ gpu, stepsPerSubmit: 4 });
    const model = createModel({ kind: 'linear', instances: 2, features: 6, hidden: 2, seed: 1 });
    const data = new SparseFeatures({ instances: 2, features: 6, sparsity: 0.5, seed: 1, generator: 'philox' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const r = await train({ model, data, steps: 1_000_000, batchSize: 64, logEvery: 1_000_000, engines: [engine], signal: controller.signal });
    expect(r).toMatchObject({ engine: 'webgpu', aborted: true, steps: 0 });
    // an aborted segment does not count its draws
    expect(data.draws).toBe(0);
    model.dispose();
    engine.destroy();
  });

  it('declines what it cannot train, with the reason', async () => {
    const data = new SparseFeatures({ instances: 1, features: 4, sparsity: 0.5 });
    // a subclass of a built-in model may compute something else: it declares no layout
    class Custom extends AbsModel {}
    const custom = new Custom({ kind: 'abs', instances: 1, features: 4, hidden: 2 });
    const r = await train({ model: custom, data, steps: 2, batchSize: 8, engines: [auto] });
    expect(r.engine).toBe('autodiff');
    expect(r.skipped[0]).toEqual({ engine: 'webgpu', reason: expect.stringMatching(/neither a tied layout nor a ReLU hidden layer/) });
    const hidden = createModel({ kind: 'relu-hidden', instances: 1, features: 4, hidden: 2 });
    const penalised = await train({ model: hidden, data, steps: 2, batchSize: 8, engines: [auto], activationL1: 0.1 });
    expect(penalised.engine).toBe('autodiff');
    expect(penalised.skipped[0].reason).toMatch(/activation-L1/);
    const device = await createWebGPUEngine({ gpu, data: 'device' });
    const linear = createModel({ kind: 'linear', instances: 1, features: 4, hidden: 2 });
    const r2 = await train({ model: linear, data, steps: 2, batchSize: 8, engines: [device] });
    expect(r2.skipped[0].reason).toMatch(/generator 'philox'/);
    expect(r2.engine).toBe('autodiff');
    hidden.dispose();
    custom.dispose();
    linear.dispose();
    device.destroy();
  });
});

describe('createWebGPUEngine options', () => {
  it('refuses bad options before asking for a device, naming the field and the allowed values', async () => {
    await expect(createWebGPUEngine({ data: 'gpu' as never })).rejects.toThrow(/"data": got "gpu"; allowed: one of "auto", "device", "host"/);
    await expect(createWebGPUEngine({ path: 'tiled' as never })).rejects.toThrow(/"path".*"auto", "sample", "split"/);
    await expect(createWebGPUEngine({ stepsPerSubmit: 1000 })).rejects.toThrow(/"stepsPerSubmit": got 1000; allowed: an integer in \[1, 256\]/);
  });
});
