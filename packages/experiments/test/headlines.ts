// The headline claim of every experiment, asserted on `experiment.headline(results)` of its
// quick variant: by the CLI tests (Node, worker threads) and by the docs' browser tests (the
// live run in Chromium), so both check the same numbers.
import { expect } from 'vitest';
import { experiments, type ExperimentName } from '../src/index.js';

const hidden = (name: 'privileged') => experiments[name].defaults.hidden as number;

/** One check per experiment of the catalogue. */
export const HEADLINE_CLAIMS: Record<ExperimentName, (h: Record<string, number>) => void> = {
  // ReLU output: exactly the 5 most important when dense, ≥ 10 in superposition when sparse; linear: 5 always
  intro: (h) => {
    expect(h.reluDenseRepresented).toBe(5);
    expect(h.reluSparsestRepresented).toBeGreaterThanOrEqual(10);
    if ('linearDenseRepresented' in h) expect([h.linearDenseRepresented, h.linearSparsestRepresented]).toEqual([5, 5]);
  },
  // 2 of 5 features in 2D when dense; all 5 as a pentagon when sparse
  'intro-2d': (h) => expect([h.denseRepresented, h.sparsestRepresented, h.sparsestPentagons]).toEqual([2, 5, 1]),
  // trained n=2, m=1 models agree with the theoretical phase diagram on most cells
  phase: (h) => expect(h.agreement).toBeGreaterThanOrEqual(0.75),
  // one dimension per feature when dense, half or less when sparse
  geometry: (h) => {
    expect(h.denseDimsPerFeature).toBeGreaterThan(0.95);
    expect(h.denseDimsPerFeature).toBeLessThan(1.05);
    expect(h.sparsestDimsPerFeature).toBeLessThanOrEqual(0.5);
  },
  // correlated pairs go orthogonal, anticorrelated pairs antipodal
  nonuniform: (h) => {
    expect(h.correlatedPairCosineMaxAbs).toBeLessThan(0.3);
    expect(h.anticorrelatedPairCosineMax).toBeLessThan(-0.9);
  },
  // features jump between sticky dimensionality levels during training
  dynamics: (h) => expect(h.featuresJumping).toBeGreaterThanOrEqual(2),
  // the paper's attack: loss rise / ε² is 1 dense and over 3× that in superposition
  adversarial: (h) => {
    expect(h.denseAttackVulnerability).toBeGreaterThan(0.9);
    expect(h.denseAttackVulnerability).toBeLessThan(1.1);
    expect(h.sparsestAttackVulnerability).toBeGreaterThan(3 * h.denseAttackVulnerability);
  },
  // |x| with 6 neurons: 3 features as monosemantic pairs when dense; more, polysemantic, when sparse
  computation: (h) => {
    expect(h.denseFeaturesUsed).toBe(3);
    expect(h.sparseFeaturesUsedMax).toBeGreaterThan(3);
    expect(h.sparseMonosemanticityMin).toBeLessThan(h.denseMonosemanticity - 0.15);
  },
  // a ReLU hidden layer: the top 5 features on 5 neurons when dense, more features than neurons when sparse
  privileged: (h) => {
    expect(h.denseFeaturesUsed).toBe(5);
    expect(h.sparsestFeaturesUsed).toBeGreaterThan(hidden('privileged') + 1);
  },
  // a sparse autoencoder recovers nearly all represented features; m principal axes cannot
  sae: (h) => {
    expect(h.sparsestRepresented).toBeGreaterThanOrEqual(15);
    expect(h.sparsestRecoveredBySae).toBeGreaterThanOrEqual(Math.ceil(0.85 * h.sparsestRepresented));
    expect(h.sparsestRecoveredByPca).toBeLessThanOrEqual(5);
  },
  // an L1 penalty on activations removes superposition: features per dimension from > 3 to < 1
  l1: (h) => {
    expect(h.unpenalisedFeaturesPerDimension).toBeGreaterThan(3);
    expect(h.strongestFeaturesPerDimension).toBeLessThan(1);
  },
};
