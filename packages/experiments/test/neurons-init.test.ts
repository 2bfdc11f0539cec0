import { describe, expect, it } from 'vitest';
import { autodiffEngine } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { createRunContext, experiments, resolveConfig, type NeuronConfig, type NeuronResults } from '../src/index.js';

const engines = [fusedEngine, autodiffEngine];

async function computation(input: Partial<NeuronConfig>) {
  const exp = experiments.computation;
  const { results } = await exp.run(resolveConfig(exp, input), createRunContext({ engines }));
  return (results as NeuronResults).models[0];
}

describe("computation: the notebook's initial weights", () => {
  it('sparse |x| with the per-matrix Xavier init leaves one sign dead for many features; the notebook init computes both', async () => {
    // n = 40, m = 16 at 1 − S = 0.01: the paper-size trap (n = 100, m = 40) at a test's size
    const base: Partial<NeuronConfig> = { features: 40, hidden: 16, sparsities: [0.99], steps: 10_000, lr: 3e-3, seed: 0 };
    const xavier = await computation({ ...base, init: 'xavier' });
    const notebook = await computation({ ...base, init: 'notebook' });
    // seed 0: held-out loss 0.50 against 0.24 of the all-zero output's; 10.8 against 14.7 features' worth
    expect(notebook.heldOutToZero!).toBeLessThan(0.6 * xavier.heldOutToZero!);
    expect(notebook.featuresExplained!).toBeGreaterThan(xavier.featuresExplained! + 3);
    // both beyond m/2 = 8: computation in superposition
    expect(xavier.featuresExplained!).toBeGreaterThan(8);
    // among the 8 most important features, those computed on both sides (over 90 % of the variance): 1 against 4;
    // most of xavier's explain about half, ReLU(x) or ReLU(−x) alone
    const twoSided = (m: typeof xavier) => m.featureExplained!.slice(0, 8).filter((v) => v > 0.9).length;
    expect(twoSided(xavier)).toBeLessThanOrEqual(2);
    expect(twoSided(notebook)).toBeGreaterThanOrEqual(4);
    expect(xavier.featureExplained!.slice(0, 8).filter((v) => v > 0.4 && v < 0.6).length).toBeGreaterThanOrEqual(4);
    // the dead sides, read off the weights: outputs that one sign (16 against 9) or neither sign (21 against 7)
    // of their feature alone can turn on
    const sides = (m: typeof xavier, k: number) => m.outputSides!.filter((v) => v === k).length;
    expect(sides(xavier, 0)).toBeGreaterThan(2 * sides(notebook, 0));
    expect(sides(xavier, 1)).toBeGreaterThan(sides(notebook, 1));
  });

  it("the paper variant trains from the notebook's init: torch's xavier_normal_ fans of one [sparsities, n, m] tensor", () => {
    const c = resolveConfig(experiments.computation, {}, 'paper');
    expect(c.init).toBe('notebook');
    // ARENA's rate: at 3e-3 more outputs fall silent at the sparse end (46 against 35 of 100 at 1 − S = 0.001)
    expect(c.lr).toBe(1e-3);
    expect([c.features, c.hidden]).toEqual([100, 40]);
    expect(resolveConfig(experiments.computation, {}).init).toBe('xavier');
    expect(() => resolveConfig(experiments.computation, { init: 'torch' as never })).toThrow(/"init".*"notebook", "xavier"/);
  });
});
