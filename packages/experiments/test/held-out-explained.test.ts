import { describe, expect, it } from 'vitest';
import { autodiffEngine } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { createRunContext, experiments, resolveConfig, type NeuronResults } from '../src/index.js';

describe("held-out features' worth: each feature's error against its own samples' variance", () => {
  it('an untrained model computes nothing, however rare its features', async () => {
    // n = 100, m = 40 evaluates 16,384 held-out samples: each feature is non-zero in about 49 (1 − S = 0.003)
    // or 16 (0.001) of them. Against the analytic variance, the noise of those few made half the silent
    // outputs look as if they explained something: 7.6 and 13.4 features' worth out of nothing, 4 features
    // "computed" at 0.001 and a held-out loss 1.12 of the all-zero output's. Now 0.05 and 0.12: the small
    // initial weights of the outputs still alive do correlate with |x|.
    const exp = experiments.computation;
    const c = resolveConfig(exp, { features: 100, hidden: 40, sparsities: [0.997, 0.999], steps: 1, lr: 0, init: 'notebook', w2Signs: 'normal', restarts: 1 });
    const { results } = await exp.run(c, createRunContext({ engines: [fusedEngine, autodiffEngine] }));
    for (const m of (results as NeuronResults).models) {
      // the initial weights output almost nothing: the all-zero output's loss
      expect(m.heldOutToZero!).toBeGreaterThan(0.99);
      expect(m.heldOutToZero!).toBeLessThan(1.001);
      expect(m.featuresComputed).toBe(0);
      expect(m.featuresExplained!).toBeLessThan(0.25);
      // with zero biases, an output starts silent where neither sign of its feature reaches it through
      // W₂ᵢ·ReLU(±W₁ᵢ): about a quarter of them (27 and 28 here); those explain exactly nothing
      expect(m.silentOutputs!).toBeGreaterThan(15);
      expect(m.silentOutputs!).toBeLessThan(35);
      expect(m.outputSides!.every((sides, f) => sides > 0 || m.featureExplained![f] === 0)).toBe(true);
    }
  });
});
