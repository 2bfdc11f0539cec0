import { adversarialVulnerability, dimensionsPerFeature, featureAttack, representedCount } from '@tms/analysis';
import { SparseFeatures, deriveSeed, geometricImportance } from '@tms/data';
import { lineChartSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, heldOutResults, largestShape, perInstance, round9, sparsitySweepOptions, sparsitySweepSchema, sweepShape, sweepUnit, tensorFromNested, type SweepResult } from './common.js';
import { trainUnits } from './units.js';
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

const schema = {
  ...sparsitySweepSchema(
    { features: [2, 1024], hidden: [1, 256] },
    { features: 20, hidden: 5, importanceBase: 0.9, sparsities: [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999] },
  ),
  /**
   * Adversarial training: one ReLU-output model per attack size ε, as a
   * fraction of each training input's L2 norm (0: a model trained without
   * attacks, for comparison). The paper reports that training against the
   * attack reduces superposition and that removing it took ε ≈ 0.8. Empty: skip.
   */
  adversarialEpsilons: { type: 'numbers', min: 0, max: 10, minLength: 0, doc: "adversarial training: one model per attack size, a fraction of each input's L2 norm (empty: skip)", default: [0, 0.1, 0.3, 0.8] },
  adversarialSparsity: { type: 'number', min: 0, max: 0.99999, doc: 'sparsity S of the adversarially trained models', default: 0.99 },
  adversarialSteps: { type: 'int', min: 1, max: 10_000_000, doc: 'training steps of the adversarially trained models (autodiff)', default: 3000 },
  adversarialBatchSize: { type: 'int', min: 1, max: 1_000_000, doc: 'samples per model per step of the adversarially trained models', default: 256 },
  adversarialLr: { type: 'number', min: 0, max: 10, doc: 'learning rate of the adversarially trained models', default: 3e-3 },
} as const;

/** One adversarially trained model: its attack size and how much superposition it keeps. */
export interface AdversarialTrainingPoint {
  /** The attack's size during training, as a fraction of each input's L2 norm. */
  epsilon: number;
  /** ‖W‖²_F / m: features per dimension (1 or less: no superposition). */
  featuresPerDimension: number;
  /** Features with ‖Wᵢ‖ > 0.5. */
  represented: number;
  /** The paper's attack (ε = 0.1 × the mean input norm) on the trained model: loss increase over ε². */
  attackVulnerability: number;
  /** Loss on fresh clean samples. */
  heldOutLoss: number | null;
}

/** Results of the adversarial experiment. */
export interface AdversarialResults extends Record<string, unknown> {
  /** One point per sparsity of the sweep. */
  points: AdversarialPoint[];
  /** One point per attack size of adversarial training (empty when skipped). */
  training: AdversarialTrainingPoint[];
}

/** What the adversarial experiment trains: the sparsity sweep and the adversarially trained models. */
export interface AdversarialTrained {
  /** One model per sparsity. */
  sweep: SweepResult;
  /** One model per attack size (absent when `adversarialEpsilons` is empty). */
  robust?: SweepResult;
}

/** Config of the adversarial-vulnerability experiment. */
export type AdversarialConfig = ConfigFromSchema<typeof schema>;

/**
 * The paper's attack (on 20,000 inputs per model drawn at its sparsity),
 * dimensions per feature and represented features of every model of a sweep.
 */
function attackSweep(c: AdversarialConfig, sweep: SweepResult, sparsities: number[]) {
  const n = c.features;
  const W = asWeights(sweep.params.W);
  const b = (sweep.params.b as number[][]).flat();
  const inputs = new SparseFeatures({ instances: sparsities.length, features: n, sparsity: perInstance(sparsities, n), seed: deriveSeed(c.seed, 'attack-inputs') }).sample(20_000).data;
  return {
    W,
    b,
    attacks: featureAttack(W, b, geometricImportance(n, c.importanceBase), inputs, 0.1),
    dimsPerFeature: dimensionsPerFeature(W),
    represented: representedCount(W),
  };
}

/** Features per dimension, represented features and the paper's attack, per adversarially trained model. */
function robustPoints(c: AdversarialConfig, robust: SweepResult): AdversarialTrainingPoint[] {
  const m = attackSweep(c, robust, c.adversarialEpsilons.map(() => c.adversarialSparsity));
  const held = robust.heldOut?.loss;
  return c.adversarialEpsilons.map((epsilon, i) => ({
    epsilon,
    featuresPerDimension: round9(1 / m.dimsPerFeature[i]),
    represented: m.represented[i],
    attackVulnerability: round9(m.attacks[i].vulnerability),
    heldOutLoss: held ? round9(held[i]) : null,
  }));
}

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
 * dimension. It then trains one model per `adversarialEpsilons` against the
 * attack on a random feature (`AdversarialReluOutputModel`): the larger
 * the attack, the less superposition; at 80 % of the input norm none is left.
 */
export const adversarial = defineExperiment<AdversarialConfig, AdversarialTrained, AdversarialResults>({
  name: 'adversarial',
  title: 'Adversarial vulnerability grows with superposition',
  paperSection: 'Relationship to Adversarial Robustness',
  schema,
  defaults: defaultsOf(schema),
  variants: { quick: { steps: 2000, lr: 1e-2, sparsities: [0, 0.7, 0.9, 0.97, 0.99, 0.999], adversarialSteps: 1500, adversarialLr: 5e-3 }, paper: {} },
  headline(r) {
    const pts = r.points;
    const out: Record<string, number> = { denseAttackVulnerability: pts[0].attackVulnerability, sparsestAttackVulnerability: pts[pts.length - 1].attackVulnerability };
    const t = [...r.training].sort((a, b) => a.epsilon - b.epsilon);
    if (t.length >= 2) {
      // 1 when features per dimension falls with every larger attack
      out.adversarialTrainingMonotone = t.every((p, k) => k === 0 || p.featuresPerDimension < t[k - 1].featuresPerDimension) ? 1 : 0;
      out.largestEpsilon = t[t.length - 1].epsilon;
      out.largestEpsilonFeaturesPerDimension = t[t.length - 1].featuresPerDimension;
    }
    return out;
  },
  trainingShape: (c) => largestShape(sweepShape(c), { instances: c.adversarialEpsilons.length, features: c.features, hidden: c.hidden, batchSize: c.adversarialBatchSize }),
  async train(c, ctx) {
    const units = [sweepUnit('relu-output', sparsitySweepOptions(c, 'relu-output'), ctx)];
    if (c.adversarialEpsilons.length) {
      units.push(
        sweepUnit(
          'adversarial-training',
          {
            ...sparsitySweepOptions({ ...c, sparsities: c.adversarialEpsilons.map(() => c.adversarialSparsity) }, 'relu-output'),
            steps: c.adversarialSteps,
            batchSize: c.adversarialBatchSize,
            optimizer: { name: c.optimizer, lr: c.adversarialLr, weightDecay: c.weightDecay },
            adversarialEpsilon: c.adversarialEpsilons,
          },
          ctx,
          `adversarial training, ε = ${c.adversarialEpsilons.join(', ')} × input norm`,
        ),
      );
    }
    const [sweep, robust] = await trainUnits(ctx, units);
    return { sweep, ...(robust ? { robust } : {}) };
  },
  analyze(c, { sweep, robust }) {
    const { W, b, attacks, dimsPerFeature: dpf, represented: counts } = attackSweep(c, sweep, c.sparsities);
    const vul = adversarialVulnerability(W, b);
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
    const training = robust ? robustPoints(c, robust) : [];
    return {
      results: { points, training, heldOut: heldOutResults({ 'relu-output': sweep, ...(robust ? { 'adversarial-training': robust } : {}) }) },
      tensors: {
        'relu-output.W': tensorFromNested(sweep.params.W),
        'relu-output.b': tensorFromNested(sweep.params.b),
        ...(robust ? { 'adversarial-training.W': tensorFromNested(robust.params.W), 'adversarial-training.b': tensorFromNested(robust.params.b) } : {}),
      },
      summary:
        `adversarial: gain ${points.map((p) => `S=${p.sparsity}: ${p.vulnerability.toFixed(2)}`).join(', ')}\n` +
        `adversarial: paper's attack, loss increase / ε² ${points.map((p) => `S=${p.sparsity}: ${p.attackVulnerability.toFixed(2)}`).join(', ')}` +
        (training.length ? `\nadversarial training at S=${c.adversarialSparsity}: features per dimension ${training.map((p) => `ε=${p.epsilon}: ${p.featuresPerDimension.toFixed(2)}`).join(', ')}` : ''),
    };
  },
  figures(c, { points, training }) {
    return {
      ...(training.length
        ? {
            'adversarial-training': lineChartSpec(
              [
                { name: 'features per dim.', x: training.map((p) => p.epsilon), y: training.map((p) => p.featuresPerDimension) },
                { name: 'attack: loss rise / ε²', x: training.map((p) => p.epsilon), y: training.map((p) => p.attackVulnerability) },
              ],
              {
                title: `Adversarial training removes superposition (n=${c.features}, m=${c.hidden}, S=${c.adversarialSparsity})`,
                xTitle: "attack size during training, ε / ‖x‖",
                yTitle: 'features per dimension; vulnerability',
                points: true,
                rules: [{ y: 1, label: 'no superposition' }],
              },
            ),
          }
        : {}),
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
