import { describe, expect, it } from 'vitest';
import { FiniteDataset, SparseFeatures, validateConfig } from '@tms/data';
import { createModel, train, validateOptimizerConfig } from '@tms/core';
import { FullBatchTiedTrainer, FusedTiedTrainer, createFusedEngine } from '../src/index.js';

const I = 3;
const n = 40;
const m = 3;
const T = 50;
const optimizer = validateOptimizerConfig({ name: 'adamw', lr: 1e-2, weightDecay: 0.01 });

/** Relative difference of the largest entry, against the reference's scale. */
function relDiff(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(a[i] - ref[i]));
    s = Math.max(s, Math.abs(ref[i]));
  }
  return d / s;
}

function setup(activation: 'relu' | 'identity') {
  // instance 0 dense-ish, 1 sparse, 2 very sparse with all-zero samples; unit-norm rows
  const source = new SparseFeatures({ instances: I, features: n, sparsity: [[0.5], [0.9], [0.98]].map((s) => Array(n).fill(s[0])), unitNorm: true, seed: 5 });
  const data = source.sample(T).data.slice();
  const W = Float32Array.from({ length: I * n * m }, (_, i) => Math.sin(i * 1.7) * 0.4);
  // biases of both signs, some far below zero, so some outputs are off for every sample
  const b = Float32Array.from({ length: I * n }, (_, i) => (i % 5 === 0 ? -3 : Math.cos(i) * 0.2));
  const importance = Float32Array.from({ length: I * n }, (_, i) => 0.95 ** (i % n));
  return { data, W, b, importance, activation };
}

describe('FullBatchTiedTrainer', () => {
  for (const activation of ['relu', 'identity'] as const) {
    it.each(['js', 'wasm'] as const)(`%s kernel (${activation}): gradients and loss equal the dense fused kernel's on the same full batch`, (kernel) => {
      const s = setup(activation);
      const full = new FullBatchTiedTrainer({ activation, instances: I, features: n, hidden: m, W: s.W.slice(), b: s.b.slice(), importance: s.importance, optimizer, data: s.data, size: T, kernel });
      const dense = new FusedTiedTrainer({ activation, instances: I, features: n, hidden: m, W: s.W.slice(), b: s.b.slice(), importance: s.importance, optimizer, kernel: 'js' });
      expect(full.kernel).toBe(kernel);
      for (let k = 0; k < I; k++) {
        const a = full.gradients(k);
        const r = dense.gradients(k, s.data, T);
        // the dense kernel takes float32 Gram-matrix routes for samples with fewer non-zeros than m
        const tol = kernel === 'js' ? 1e-7 : 1e-5;
        expect(relDiff(a.gW, r.gW)).toBeLessThan(tol);
        expect(relDiff(a.gb, r.gb)).toBeLessThan(tol);
        expect(Math.abs(a.loss - r.loss) / r.loss).toBeLessThan(tol);
      }
      if (activation === 'relu') {
        // the biases of −3 switch their outputs off for every sample: they are skipped
        expect(Math.max(...full.live)).toBeLessThan(n);
        expect(Math.min(...full.live)).toBeGreaterThan(0);
      } else expect(Array.from(full.live)).toEqual([n, n, n]);
    });
  }

  it('JS and wasm kernels train to the same weights (to float32 rounding) over 200 Adam steps', () => {
    const s = setup('relu');
    const run = (kernel: 'js' | 'wasm') => {
      const t = new FullBatchTiedTrainer({ activation: 'relu', instances: I, features: n, hidden: m, W: s.W.slice(), b: s.b.slice(), importance: s.importance, optimizer, data: s.data, size: T, kernel });
      for (let i = 0; i < 200; i++) t.train(1e-2);
      return t;
    };
    const js = run('js');
    const wasm = run('wasm');
    expect(relDiff(wasm.W, js.W)).toBeLessThan(1e-3);
    expect(relDiff(wasm.loss, js.loss)).toBeLessThan(1e-3);
    // and training lowered the loss of every instance
    const start = new FullBatchTiedTrainer({ activation: 'relu', instances: I, features: n, hidden: m, W: s.W.slice(), b: s.b.slice(), importance: s.importance, optimizer, data: s.data, size: T, kernel: 'js' });
    for (let k = 0; k < I; k++) expect(js.loss[k]).toBeLessThan(start.gradients(k).loss * 0.8);
  });

  it('refuses a training set of the wrong length, naming it', () => {
    const s = setup('relu');
    expect(() => new FullBatchTiedTrainer({ activation: 'relu', instances: I, features: n, hidden: m, W: s.W, b: s.b, importance: s.importance, optimizer, data: s.data.subarray(1), size: T })).toThrow(/data/);
  });
});

describe('the fused engine on a FiniteDataset', () => {
  it('trains full batches on the full-batch trainer: the same weights as stepping FullBatchTiedTrainer by hand', async () => {
    const source = new SparseFeatures({ instances: 2, features: n, sparsity: 0.9, unitNorm: true, seed: 2 });
    const data = new FiniteDataset(source, T, { replicas: 2 }); // 4 instances, 2 per dataset
    const model = createModel({ kind: 'relu-output', instances: 4, features: n, hidden: m, seed: 1 });
    const p0 = await model.getParams();
    const schedule = { name: 'cosine' as const, warmupSteps: 10 };
    const result = await train({ model, data, batchSize: T, steps: 100, importance: n, optimizer, schedule, engines: [createFusedEngine({ kernel: 'js' })], logEvery: 50 });
    expect(result.engine).toBe('fused');
    const byHand = new FullBatchTiedTrainer({
      activation: 'relu', instances: 4, features: n, hidden: m, W: p0.W.data.slice(), b: p0.b.data.slice(),
      importance: new Float32Array(4 * n).fill(n), optimizer, data: data.data, size: T, kernel: 'js',
    });
    const { learningRateAt, validateScheduleConfig } = await import('@tms/core');
    const sc = validateScheduleConfig(schedule);
    for (let t = 0; t < 100; t++) byHand.train(learningRateAt(sc, optimizer.lr, t, 100));
    const p = await model.getParams();
    expect(Array.from(p.W.data)).toEqual(Array.from(byHand.W));
    expect(result.finalLoss.map((v) => Math.fround(v))).toEqual(Array.from(byHand.loss, (v) => Math.fround(v)));
    model.dispose();
  });
});
