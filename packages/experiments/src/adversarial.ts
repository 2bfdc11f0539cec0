import { adversarialVulnerability, dimensionsPerFeature, featureAttack, representedCount } from '@tms/analysis';
import { SparseFeatures, deriveSeed, geometricImportance } from '@tms/data';
import { lineChartSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, heldOutResults, perInstance, round9, sparsitySweepSchema, tensorFromNested, trainSparsitySweep, sweepShape, type SweepResult } from './common.js';
import { defineExperiment } from './types.js';

/** One sparsity of the adversarial experiment. */
export interface AdversarialPoint {
  /** The model's sparsity S. */
  sparsity: number;
  /** 1/(1 − S). */
  density: number;
  /** Gain of the optimal small L2 attack at single-feature inputs (mean over features). */
  vulnerability: number;
  /** The paper's attack: loss increase over ε². */
  attackVulnerability: number;
  /** Inputs attacked: of 20,000 fresh samples, those with at least one feature present. */
  attackSamples: number;
  /** The attack's L2 size ε: 0.1 × the mean input norm. */
  attackEpsilon: number;
  /** Mean loss on those inputs before the attack. */
  cleanLoss: number;
  /** Mean loss after each input's most damaging per-feature attack of size ε. */
  attackedLoss: number;
  /** Per feature: the gain of the optimal small L2 attack at the single-feature input. */
  perFeature: number[];
  /** m/‖W‖_F²: dimensions per feature (below 1: superposition). */
  dimsPerFeature: number;
  /** Features with ‖Wᵢ‖ > 0.5. */
  represented: number;
}

const schema = sparsitySweepSchema(
  { features: [2, 1024], hidden: [1, 256] },
  { features: 20, hidden: 5, importanceBase: 0.9, sparsities: [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999] },
);

/** Config of the adversarial-vulnerability experiment. */
export type AdversarialConfig = ConfigFromSchema<typeof schema>;

/**
 * Adversarial vulnerability vs sparsity (paper: "Relationship to Adversarial
 * Robustness"), measured two ways:
 *
 * - the paper's attack ({@link featureAttack}): on the non-zero inputs of a
 *   batch drawn from the training distribution, each input's most damaging
 *   of the analytic per-feature L2 attacks ε (WᵀW)ᵢ/‖(WᵀW)ᵢ‖ with ε = 0.1 ×
 *   the mean input norm; reported as the loss increase over ε² (1 without
 *   superposition);
 * - the gain of the optimal small L2 attack at single-feature inputs (the top
 *   singular value of the model's Jacobian there; 1 without superposition).
 *
 * Both grow as features are packed into superposition and track features per
 * dimension.
 */
export const adversarial = defineExperiment<AdversarialConfig, SweepResult, { points: AdversarialPoint[] }>({
  name: 'adversarial',
  title: 'Adversarial vulnerability grows with superposition',
  paperSection: 'Relationship to Adversarial Robustness',
  schema,
  defaults: defaultsOf(schema),
  variants: { quick: { steps: 2000, lr: 1e-2, sparsities: [0, 0.7, 0.9, 0.97, 0.99, 0.999] }, paper: {} },
  headline(r) {
    const pts = r.points;
    return { denseAttackVulnerability: pts[0].attackVulnerability, sparsestAttackVulnerability: pts[pts.length - 1].attackVulnerability };
  },
  trainingShape: sweepShape,
  train: (c, ctx) => trainSparsitySweep(c, 'relu-output', ctx),
  analyze(c, sweep) {
    const n = c.features;
    const W = asWeights(sweep.params.W);
    const bFlat = (sweep.params.b as number[][]).flat();
    const vul = adversarialVulnerability(W, bFlat);
    const inputs = new SparseFeatures({
      instances: c.sparsities.length,
      features: n,
      sparsity: perInstance(c.sparsities, n),
      seed: deriveSeed(c.seed, 'attack-inputs'),
    }).sample(20_000).data;
    const attacks = featureAttack(W, bFlat, geometricImportance(n, c.importanceBase), inputs, 0.1);
    const dpf = dimensionsPerFeature(W);
    const counts = representedCount(W);
    const points = c.sparsities.map((s, i): AdversarialPoint => ({
      sparsity: s,
      density: round9(1 / (1 - s)),
      vulnerability: round9(vul[i].mean),
      attackVulnerability: round9(attacks[i].vulnerability),
      attackSamples: attacks[i].samples,
      attackEpsilon: round9(attacks[i].epsilon),
      cleanLoss: round9(attacks[i].cleanLoss),
      attackedLoss: round9(attacks[i].attackedLoss),
      perFeature: vul[i].perFeature.map(round9),
      dimsPerFeature: round9(dpf[i]),
      represented: counts[i],
    }));
    return {
      results: { points, heldOut: heldOutResults({ 'relu-output': sweep }) },
      tensors: { 'relu-output.W': tensorFromNested(sweep.params.W), 'relu-output.b': tensorFromNested(sweep.params.b) },
      summary:
        `adversarial: gain ${points.map((p) => `S=${p.sparsity}: ${p.vulnerability.toFixed(2)}`).join(', ')}\n` +
        `adversarial: paper's attack, loss increase / ε² ${points.map((p) => `S=${p.sparsity}: ${p.attackVulnerability.toFixed(2)}`).join(', ')}`,
    };
  },
  figures(c, { points }) {
    return {
      adversarial: lineChartSpec(
          [
            { name: "paper's attack: loss increase / ε²", x: points.map((p) => p.density), y: points.map((p) => p.attackVulnerability) },
            { name: 'optimal attack gain', x: points.map((p) => p.density), y: points.map((p) => p.vulnerability) },
            { name: 'features per dimension (1/dims per feature)', x: points.map((p) => p.density), y: points.map((p) => 1 / p.dimsPerFeature) },
          ],
          { title: `Adversarial vulnerability vs sparsity (n=${c.features}, m=${c.hidden})`, xTitle: '1/(1−S)  (1: dense → sparse)', yTitle: 'vulnerability', logX: true, points: true },
        ),
    };
  },
});
