import { describe, expect, it } from 'vitest';
import { createModel, train } from '@tms/core';
import { SparseFeatures } from '@tms/data';
// the built package: trainParallel starts dist/worker.js as its worker threads
import { balanceRanges, fusedCost, trainParallel, useNodeBackend } from '../dist/index.js';

describe('trainParallel', () => {
  it('balances instance ranges by estimated cost', () => {
    expect(fusedCost(1, 100, 20)).toBeGreaterThan(fusedCost(0.05, 100, 20));
    expect(balanceRanges([1, 1, 1, 1], 2)).toEqual([
      [0, 2],
      [2, 4],
    ]);
    const r = balanceRanges([1, 0.5, 0.25, 0.1, 0.05, 0.05], 2);
    expect(r[0][0]).toBe(0);
    expect(r[1][1]).toBe(6);
    expect(r[0][1]).toBeLessThanOrEqual(2);
    expect(balanceRanges([1, 1], 5)).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });

  it('gives exactly the single-thread fused result for any number of workers', async () => {
    await useNodeBackend({ prefer: 'cpu' });
    const I = 5;
    const n = 12;
    const data = {
      instances: I,
      features: n,
      featureProbability: Array.from({ length: I }, (_, k) => new Array(n).fill(1 / (k + 1))),
      seed: 4,
    };
    const common = { steps: 40, batchSize: 64, logEvery: 10, importance: 0.9, optimizer: { name: 'adamw' as const, lr: 1e-2 } };
    const ref = createModel({ kind: 'relu-output', instances: I, features: n, hidden: 3, seed: 2 });
    const r0 = await train({ ...common, model: ref, data: new SparseFeatures(data), engine: 'fused' });
    const W0 = (await ref.getParams()).W.data;
    for (const workers of [1, 2, 3]) {
      const model = createModel({ kind: 'relu-output', instances: I, features: n, hidden: 3, seed: 2 });
      const progress: number[] = [];
      const r = await trainParallel({ ...common, model, data, workers, onProgress: (p) => void progress.push(p.step) });
      expect(progress).toEqual([10, 20, 30, 40]);
      expect(r.finalLoss).toEqual(r0.finalLoss);
      expect(Array.from((await model.getParams()).W.data)).toEqual(Array.from(W0));
      model.dispose();
    }
    ref.dispose();
  });

  it('stops on abort and rejects unsupported models', async () => {
    const model = createModel({ kind: 'linear', instances: 2, features: 4, hidden: 2 });
    const controller = new AbortController();
    const r = await trainParallel({
      model,
      data: { instances: 2, features: 4, sparsity: 0.5 },
      steps: 1000,
      batchSize: 16,
      logEvery: 10,
      workers: 2,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.step === 20) controller.abort();
      },
    });
    expect(r.aborted).toBe(true);
    expect(r.steps).toBe(20);
    const hidden = createModel({ kind: 'relu-hidden', instances: 1, features: 4, hidden: 2 });
    await expect(trainParallel({ model: hidden, data: { instances: 1, features: 4 }, steps: 1 })).rejects.toThrow(/"model\.kind"/);
    // the fused engine has no activation penalty: refuse rather than ignore it
    const opts = { model, data: { instances: model.config.instances, features: model.config.features }, steps: 1, activationL1: 0.1 };
    await expect(trainParallel(opts as Parameters<typeof trainParallel>[0])).rejects.toThrow(/"activationL1"/);
    model.dispose();
    hidden.dispose();
  });
});
