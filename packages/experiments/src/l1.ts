import { dimensionsPerFeature, featureNorms, reconstructionLoss, REPRESENTED_THRESHOLD, representedCount, superposition } from '@tms/analysis';
import { SparseFeatures, deriveSeed, geometricImportance } from '@tms/data';
import { lineChartSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, heldOutResults, round9, sparsitySweepSchema, tensorFromNested, trainingOptions, trainSweep, type SweepResult, type TrainingFields } from './common.js';
import { defineExperiment } from './types.js';

// the sparsity-sweep fields (n, m, importance, training) with one sparsity instead of a sweep
const { sparsities: _sweep, ...sweepFields } = sparsitySweepSchema(
  { features: [2, 1024], hidden: [1, 256] },
  { features: 20, hidden: 5, importanceBase: 0.9, sparsities: [0.99] },
);
const schema = {
  ...sweepFields,
  /** Sparsity S of every feature (sparse enough for superposition without a penalty). */
  sparsity: { type: 'number', min: 0, max: 0.99999, doc: 'sparsity S of every feature', default: 0.99 },
  /** One model per L1 coefficient λ. */
  lambdas: { type: 'numbers', min: 0, max: 100, doc: 'one model per L1 coefficient λ on the hidden activations', default: [0, 0.001, 0.003, 0.01, 0.02, 0.03, 0.05] },
} as const;

/** Config of the activation-L1 experiment. */
export type L1Config = ConfigFromSchema<typeof schema>;

/** One λ of the experiment. */
export interface L1Point {
  /** L1 coefficient on the hidden activations. */
  lambda: number;
  /** Features with ‖Wᵢ‖ > 0.5. */
  represented: number;
  /** Features per dimension, ‖W‖²_F / m (1/dims per feature). */
  featuresPerDimension: number;
  /** Mean over represented features of Σ_{j≠i} (Ŵᵢ·Wⱼ)². */
  meanSuperposition: number;
  /** Importance-weighted reconstruction loss (mean over batch and features, no penalty) on fresh data. */
  reconstructionLoss: number;
}

/**
 * Training without superposition (paper: "The Strategic Picture of
 * Superposition", Approach 1: "apply L1 regularization to the hidden layer
 * activations"): ReLU-output models in the superposition regime are trained
 * with λ·‖h‖₁ added to the loss for a range of λ. As λ grows the model keeps
 * fewer features, features per dimension fall from ~5 to below 1 and the
 * reconstruction loss rises: the price of removing superposition. The penalty
 * also makes the hidden basis privileged (features align with single
 * dimensions), and an antipodal pair on one dimension can survive it: ‖h‖₁
 * does not grow when two features that rarely co-occur share a dimension.
 */
export const l1 = defineExperiment<L1Config, SweepResult, { points: L1Point[]; lambdaZeroPlottedAt: number }>({
  name: 'l1',
  title: 'An L1 penalty on hidden activations removes superposition, at a cost in loss',
  paperSection: 'The Strategic Picture of Superposition (Approach 1)',
  schema,
  defaults: defaultsOf(schema),
  variants: {
    quick: { steps: 2500, lr: 1e-2, batchSize: 512, lambdas: [0, 0.003, 0.01, 0.03] },
    paper: { features: 100, hidden: 20 },
  },
  headline(r) {
    const pts = (r as { points: L1Point[] }).points;
    return { unpenalisedFeaturesPerDimension: pts[0].featuresPerDimension, strongestFeaturesPerDimension: pts[pts.length - 1].featuresPerDimension };
  },
  trainingShape: (c) => ({ instances: c.lambdas.length, features: c.features, hidden: c.hidden, batchSize: c.batchSize }),
  train(c, ctx) {
    const I = c.lambdas.length;
    return trainSweep('relu-output', {
      kind: 'relu-output',
      instances: I,
      features: c.features,
      hidden: c.hidden,
      sparsity: c.sparsity,
      importance: geometricImportance(c.features, c.importanceBase),
      ...trainingOptions(c),
      activationL1: c.lambdas,
    }, ctx, `${I} models, λ ∈ [${c.lambdas.join(', ')}]`);
  },
  analyze(c, sweep) {
    const n = c.features;
    const I = c.lambdas.length;
    const importance = geometricImportance(n, c.importanceBase);
    const W = asWeights(sweep.params.W);
    const bs = sweep.params.b as number[][];
    const norms = featureNorms(W);
    const sup = superposition(W);
    const dpf = dimensionsPerFeature(W);
    const counts = representedCount(W);
    // reconstruction loss without the penalty, on fresh data
    const B = 8192;
    const x = new SparseFeatures({ instances: I, features: n, sparsity: c.sparsity, seed: deriveSeed(c.seed, 'held-out') }).sample(B).data;
    const losses = reconstructionLoss(W, bs.flat(), x, importance);
    const points: L1Point[] = c.lambdas.map((lambda, k) => {
      const rep = norms[k].map((v, i) => [v, i] as const).filter(([v]) => v > REPRESENTED_THRESHOLD);
      return {
        lambda,
        represented: counts[k],
        featuresPerDimension: round9(1 / dpf[k]),
        meanSuperposition: round9(rep.length ? rep.reduce((a, [, i]) => a + sup[k][i], 0) / rep.length : 0),
        reconstructionLoss: round9(losses[k]),
      };
    });
    // λ = 0 cannot sit on a log axis: place it one decade below the smallest positive λ
    const positive = c.lambdas.filter((v) => v > 0);
    const floor = positive.length ? Math.min(...positive) / 10 : 1e-3;
    return {
      results: { points, lambdaZeroPlottedAt: floor, heldOut: heldOutResults({ 'relu-output': sweep }) },
      tensors: { 'relu-output.W': tensorFromNested(sweep.params.W), 'relu-output.b': tensorFromNested(sweep.params.b) },
      summary: `l1: represented / features per dimension ${points.map((p) => `λ=${p.lambda}: ${p.represented} / ${p.featuresPerDimension.toFixed(2)}`).join(', ')}`,
    };
  },
  figures(c, { points, lambdaZeroPlottedAt: floor }) {
    const xs = points.map((p) => (p.lambda > 0 ? p.lambda : floor));
    return {
      l1: lineChartSpec(
        [
          { name: 'represented', x: xs, y: points.map((p) => p.represented) },
          { name: 'features / dim', x: xs, y: points.map((p) => p.featuresPerDimension) },
          { name: 'superposition', x: xs, y: points.map((p) => p.meanSuperposition) },
        ],
        {
          title: `L1 on hidden activations (n=${c.features}, m=${c.hidden}, S=${c.sparsity}; λ=0 drawn at ${floor})`,
          xTitle: 'λ',
          yTitle: 'value',
          logX: true,
          points: true,
        },
      ),
      'l1-loss': lineChartSpec([{ name: 'reconstruction loss (no penalty)', x: xs, y: points.map((p) => p.reconstructionLoss) }], {
        title: 'The price of removing superposition',
        xTitle: 'λ',
        yTitle: 'loss',
        logX: true,
        points: true,
      }),
    };
  },
});

