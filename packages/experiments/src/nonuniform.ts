import { featureNorms } from '@tms/analysis';
import type { FeatureSet } from '@tms/data';
import { featureDirectionsSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, heldOutResults, perInstance, round9, tensorFromNested, trainingFields, trainingOptions, sweepUnit, type HeldOutResults, type SweepResult, type TrainingFields } from './common.js';
import { trainUnits } from './units.js';
import { defineExperiment } from './types.js';


const schema = {
  /** Sparsity of the features (all parts). */
  sparsity: { type: 'number', min: 0, max: 0.9999, doc: 'sparsity S of the features', default: 0.95 },
  /** Part 1: feature 0 is this many times denser than the other four (one model each). */
  densityFactors: { type: 'numbers', min: 1, max: 1000, doc: 'part 1: how many times denser feature 0 is, one model each', default: [1, 1.5, 2, 3, 5, 10] },
  /** Models per setting (each denser-feature factor, the correlated and the anticorrelated pairs); the lowest loss is kept. */
  restarts: { type: 'int', min: 1, max: 20, doc: 'models per setting (denser-feature factors, correlated and anticorrelated pairs); the lowest loss is kept', default: 4 },
  ...trainingFields(),
} as const;

/** Config of the non-uniform superposition experiment. */
export type NonuniformConfig = ConfigFromSchema<typeof schema>;

const cosine = (a: number[], b: number[]) => {
  const d = a.reduce((s, x, i) => s + x * b[i], 0);
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  return na > 0 && nb > 0 ? d / (na * nb) : 0;
};

/** Cosines between every pair of feature directions of one model. */
function cosines(W: number[][]): number[][] {
  return W.map((a) => W.map((b) => round9(cosine(a, b))));
}

/** The pairs part of the non-uniform experiment: the kept restart. */
export interface NonuniformPairs {
  mode: FeatureSet['mode'];
  sets: FeatureSet[];
  W: number[][];
  b: number[];
  featureNorms: number[];
  cosines: number[][];
  /** Cosines within pair (0, 1) and pair (2, 3). */
  withinPairCosine: number[];
  loss: number;
}

/** Results of the non-uniform superposition experiment. */
export interface NonuniformResults extends Record<string, unknown> {
  denserFeature: { densityFactor: number; W: number[][]; b: number[]; featureNorms: number[]; cosines: number[][] }[];
  correlated: NonuniformPairs;
  anticorrelated: NonuniformPairs;
  /** Loss on fresh samples per trained batch and instance, and its ratio to the best linear model's. */
  heldOut: Record<string, HeldOutResults>;
}

/** The three trained sweeps of the non-uniform experiment. */
export interface NonuniformTrained {
  denser: SweepResult;
  correlated: SweepResult;
  anticorrelated: SweepResult;
}

const PAIRS = (mode: FeatureSet['mode']): FeatureSet[] => [
  { features: [0, 1], mode },
  { features: [2, 3], mode },
];

/** Index of the lowest of `losses` among `from` to `from + count − 1`. */
function lowest(losses: number[], from = 0, count = losses.length): number {
  let best = from;
  for (let i = from + 1; i < from + count; i++) if (losses[i] < losses[best]) best = i;
  return best;
}

/**
 * Non-uniform superposition (paper: "Non-Uniform Superposition"), three parts in
 * m = 2 so that the geometry can be drawn:
 * 1. five features, one of them denser than the rest: the pentagon deforms;
 * 2. two pairs of correlated features: each pair is placed orthogonally
 *    (correlated features avoid interfering) and the pairs sit opposite each other;
 * 3. two pairs of anticorrelated features: each pair is placed antipodally
 *    (they never co-occur, so opposite directions cost nothing).
 */
export const nonuniform = defineExperiment<NonuniformConfig, NonuniformTrained, NonuniformResults>({
  name: 'nonuniform',
  title: 'Non-uniform superposition: a denser feature, correlated and anticorrelated pairs (m=2)',
  paperSection: 'Non-Uniform Superposition (non-uniform sparsity, correlated and anticorrelated features)',
  schema,
  defaults: defaultsOf(schema),
  variants: { quick: { steps: 3000, lr: 1e-2 }, paper: {} },
  headline(r) {
    return {
      correlatedPairCosineMaxAbs: Math.max(...r.correlated.withinPairCosine.map(Math.abs)),
      anticorrelatedPairCosineMax: Math.max(...r.anticorrelated.withinPairCosine),
    };
  },
  trainingShape: (c) => ({ instances: c.densityFactors.length * c.restarts, features: 5, hidden: 2, batchSize: c.batchSize }),
  async train(c, ctx) {
    const p = 1 - c.sparsity;
    const common = { kind: 'relu-output' as const, hidden: 2, ...trainingOptions(c) };
    // part 1: one denser feature; `restarts` models per density factor (instance f·R + r)
    const R = c.restarts;
    const denser = sweepUnit(
      'denser-feature',
      {
        ...common,
        instances: c.densityFactors.length * R,
        features: 5,
        sparsity: c.densityFactors.flatMap((f) => new Array<number[]>(R).fill([1 - Math.min(1, f * p), 1 - p, 1 - p, 1 - p, 1 - p])),
        importance: 1,
      },
      ctx,
      'denser feature',
    );
    // parts 2 and 3: pairs, `restarts` models each
    const pairs = (mode: FeatureSet['mode']) =>
      sweepUnit(
        mode,
        { ...common, instances: R, features: 4, sparsity: perInstance(new Array<number>(R).fill(c.sparsity), 4), importance: 1, sets: PAIRS(mode) },
        ctx,
        `${mode} pairs`,
      );
    const [denserSweep, correlated, anticorrelated] = await trainUnits(ctx, [denser, pairs('correlated'), pairs('anticorrelated')]);
    return { denser: denserSweep, correlated, anticorrelated };
  },
  analyze(c, trained) {
    const R = c.restarts;
    // the lowest-loss restart of each setting is kept
    const keep = c.densityFactors.map((_, f) => lowest(trained.denser.finalLoss, f * R, R));
    const denseW = keep.map((i) => (trained.denser.params.W as number[][][])[i]);
    const denseB = keep.map((i) => (trained.denser.params.b as number[][])[i]);
    const pairs = (mode: FeatureSet['mode'], sweep: SweepResult): NonuniformPairs => {
      const best = lowest(sweep.finalLoss);
      const W = (sweep.params.W as number[][][])[best];
      const cos = cosines(W);
      return {
        mode,
        sets: PAIRS(mode),
        W,
        b: (sweep.params.b as number[][])[best],
        featureNorms: featureNorms(asWeights([W]))[0].map(round9),
        cosines: cos,
        withinPairCosine: [cos[0][1], cos[2][3]],
        loss: sweep.finalLoss[best],
      };
    };
    const correlated = pairs('correlated', trained.correlated);
    const anticorrelated = pairs('anticorrelated', trained.anticorrelated);
    return {
      results: {
        denserFeature: c.densityFactors.map((f, i) => ({
          densityFactor: f,
          W: denseW[i],
          b: denseB[i],
          featureNorms: featureNorms(asWeights([denseW[i]]))[0].map(round9),
          cosines: cosines(denseW[i]),
        })),
        correlated,
        anticorrelated,
        heldOut: heldOutResults({ 'denser-feature': trained.denser, correlated: trained.correlated, anticorrelated: trained.anticorrelated }),
      },
      tensors: {
        'denser.W': tensorFromNested(denseW),
        'denser.b': tensorFromNested(denseB),
        'correlated.W': tensorFromNested(trained.correlated.params.W),
        'anticorrelated.W': tensorFromNested(trained.anticorrelated.params.W),
      },
      summary: `nonuniform: within-pair cosines correlated ${correlated.withinPairCosine.map((v) => v.toFixed(2))}, anticorrelated ${anticorrelated.withinPairCosine.map((v) => v.toFixed(2))}`,
    };
  },
  figures(c, r) {
    return {
      'nonuniform-density': featureDirectionsSpec(
        r.denserFeature.map((d) => ({ label: `feature 0 ×${d.densityFactor} denser`, W: d.W })),
        { title: `Five features in 2D, feature 0 denser (S=${c.sparsity})` },
      ),
      'nonuniform-correlation': featureDirectionsSpec(
        [
          { label: 'correlated pairs (0,1), (2,3)', W: r.correlated.W },
          { label: 'anticorrelated pairs (0,1), (2,3)', W: r.anticorrelated.W },
        ],
        { title: 'Correlated features go orthogonal, anticorrelated ones antipodal', size: 160 },
      ),
    };
  },
});
