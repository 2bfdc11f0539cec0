import { describe, expect, it } from 'vitest';
import { SparseFeatures, geometricImportance } from '@tms/data';
import { createModel, train, tf } from '../src/index.js';

describe('smoke', () => {
  it('trains', async () => {
    const sparsities = [0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999];
    const I = sparsities.length;
    const model = createModel({ kind: 'relu-output', instances: I, features: 20, hidden: 5, seed: 0 });
    const data = new SparseFeatures({ instances: I, features: 20, sparsity: sparsities.map((s) => Array(20).fill(s)), seed: 1 });
    const before = tf.memory().numTensors;
    const r = await train({ model, data, importance: geometricImportance(20, 0.7), steps: 500, logEvery: 100 });
    console.log(tf.getBackend(), r.seconds, r.history[0].loss, r.finalLoss, tf.memory().numTensors, before);
    expect(r.steps).toBe(500);
  });
});
