import { describe, expect, it } from 'vitest';
import { autodiffEngine } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { createRunContext, experiments, resolveConfig, type NeuronConfig, type NeuronModelResult, type NeuronResults } from '../src/index.js';

const engines = [fusedEngine, autodiffEngine];

const runs = new Map<string, Promise<NeuronModelResult>>();

/** The one model of a one-sparsity `computation` run; a config asked for again is trained once (both tests use the notebook's fans with normal W₂). */
function computation(input: Partial<NeuronConfig>): Promise<NeuronModelResult> {
  const exp = experiments.computation;
  const c = resolveConfig(exp, input);
  const key = JSON.stringify(c);
  if (!runs.has(key)) runs.set(key, exp.run(c, createRunContext({ engines })).then(({ results }) => (results as NeuronResults).models[0]));
  return runs.get(key)!;
}

// n = 40, m = 16 at 1 − S = 0.01: the paper-size trap (n = 100, m = 40) at a test's size
const TRAP: Partial<NeuronConfig> = { features: 40, hidden: 16, sparsities: [0.99], steps: 10_000, lr: 3e-3, seed: 0, restarts: 1 };

/** Of the 8 most important features, those computed on both signs (over 90 % of their variance explained). */
const twoSided = (m: NeuronModelResult) => m.featureExplained!.slice(0, 8).filter((v) => v > 0.9).length;

describe("computation: the initial weights (the notebook's fans, half-normal W₂)", () => {
  it('sparse |x| with the per-matrix Xavier init leaves one sign dead for many features; the notebook init computes both', async () => {
    // ARENA's normal W₂
    const xavier = await computation({ ...TRAP, w2Signs: 'normal', init: 'xavier' });
    const notebook = await computation({ ...TRAP, w2Signs: 'normal', init: 'notebook' });
    // seed 0: held-out loss 0.50 against 0.24 of the all-zero output's; 10.8 against 14.7 features' worth
    expect(notebook.heldOutToZero!).toBeLessThan(0.6 * xavier.heldOutToZero!);
    expect(notebook.featuresExplained!).toBeGreaterThan(xavier.featuresExplained! + 3);
    // both beyond m/2 = 8: computation in superposition
    expect(xavier.featuresExplained!).toBeGreaterThan(8);
    // among the 8 most important features, those computed on both sides (over 90 % of the variance): 1 against 4;
    // most of xavier's explain about half, ReLU(x) or ReLU(−x) alone
    expect(twoSided(xavier)).toBeLessThanOrEqual(2);
    expect(twoSided(notebook)).toBeGreaterThanOrEqual(4);
    expect(xavier.featureExplained!.slice(0, 8).filter((v) => v > 0.4 && v < 0.6).length).toBeGreaterThanOrEqual(4);
    // the dead sides, read off the weights: outputs that one sign (16 against 9) or neither sign (21 against 7)
    // of their feature alone can turn on
    const sides = (m: typeof xavier, k: number) => m.outputSides!.filter((v) => v === k).length;
    expect(sides(xavier, 0)).toBeGreaterThan(2 * sides(notebook, 0));
    expect(sides(xavier, 1)).toBeGreaterThan(sides(notebook, 1));
  });

  it('half-normal W₂ keeps sparse outputs alive: lower held-out loss, the most important features computed on both signs', async () => {
    // from normal W₂ (ARENA's) 3 in 4 outputs start silent for one sign of their feature or both; sparse inputs never revive them
    const normal = await computation({ ...TRAP, init: 'notebook', w2Signs: 'normal' });
    const positive = await computation({ ...TRAP, init: 'notebook', w2Signs: 'positive' });
    // seed 0: held-out loss 0.036 against 0.24 of the all-zero output's; 17.5 against 14.7 features' worth
    expect(positive.heldOutToZero!).toBeLessThan(0.3 * normal.heldOutToZero!);
    expect(positive.featuresExplained!).toBeGreaterThan(normal.featuresExplained! + 2);
    // the 8 most important features: all 8 computed on both signs (over 90 % of the variance) against 4; from
    // normal W₂, 4 of their outputs have one sign or both that their feature alone cannot turn on
    expect(twoSided(positive)).toBeGreaterThanOrEqual(7);
    expect(twoSided(normal)).toBeLessThanOrEqual(5);
    expect(normal.outputSides!.slice(0, 8).filter((v) => v < 2).length).toBeGreaterThanOrEqual(3);
    expect(positive.outputSides!.slice(0, 8).every((v) => v === 2)).toBe(true);
  });

  it("the defaults and the paper variant train from the notebook's fans and half-normal W₂", () => {
    const c = resolveConfig(experiments.computation, {}, 'paper');
    expect([c.init, c.w2Signs]).toEqual(['notebook', 'positive']);
    // ARENA's rate: at 3e-3 more outputs fall silent at the sparse end (46 against 35 of 100 at 1 − S = 0.001)
    expect(c.lr).toBe(1e-3);
    expect([c.features, c.hidden, c.restarts]).toEqual([100, 40, 1]);
    const d = resolveConfig(experiments.computation, {});
    expect([d.init, d.w2Signs, d.restarts]).toEqual(['notebook', 'positive', 2]);
    // the privileged model is tied: no W₂, no such field, and its defaults keep the per-matrix Xavier init
    expect(resolveConfig(experiments.privileged, {}).init).toBe('xavier');
    expect(experiments.privileged.schema).not.toHaveProperty('w2Signs');
    expect(() => resolveConfig(experiments.computation, { init: 'torch' as never })).toThrow(/"init".*"notebook", "xavier"/);
    expect(() => resolveConfig(experiments.computation, { w2Signs: 'abs' as never })).toThrow(/"w2Signs".*"normal", "positive"/);
  });
});
