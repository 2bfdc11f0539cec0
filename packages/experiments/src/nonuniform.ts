import { featureNorms } from '@tms/analysis';
import type { FeatureSet } from '@tms/data';
import { featureDirectionsSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, perInstance, round9, tensorFromNested, trainingFields, trainingOptions, trainSweep, type TrainingFields } from './common.js';
import type { Experiment } from './types.js';


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

/**
 * Non-uniform superposition (paper: "Non-Uniform Superposition"), three parts in
 * m = 2 so that the geometry can be drawn:
 * 1. five features, one of them denser than the rest: the pentagon deforms;
 * 2. two pairs of correlated features: each pair is placed orthogonally
 *    (correlated features avoid interfering) and the pairs sit opposite each other;
 * 3. two pairs of anticorrelated features: each pair is placed antipodally
 *    (they never co-occur, so opposite directions cost nothing).
 */
export const nonuniform: Experiment<NonuniformConfig> = {
  name: 'nonuniform',
  title: 'Non-uniform superposition: a denser feature, correlated and anticorrelated pairs (m=2)',
  paperSection: 'Non-Uniform Superposition (non-uniform sparsity, correlated and anticorrelated features)',
  schema,
  defaults: defaultsOf(schema),
  variants: { quick: { steps: 3000, lr: 1e-2 }, paper: {} },
  headline(r) {
    const res = r as { correlated: { withinPairCosine: number[] }; anticorrelated: { withinPairCosine: number[] } };
    return {
      correlatedPairCosineMaxAbs: Math.max(...res.correlated.withinPairCosine.map(Math.abs)),
      anticorrelatedPairCosineMax: Math.max(...res.anticorrelated.withinPairCosine),
    };
  },
  trainingShape: (c) => ({ instances: c.densityFactors.length * c.restarts, features: 5, hidden: 2, batchSize: c.batchSize }),
  async run(c, ctx) {
    const p = 1 - c.sparsity;
    const common = { kind: 'relu-output' as const, hidden: 2, ...trainingOptions(c) };
    // part 1: one denser feature; `restarts` models per density factor (instance f·R + r), the lowest loss kept
    const R = c.restarts;
    const denseSweep = await trainSweep(
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
    const keep = c.densityFactors.map((_, f) => {
      let best = f * R;
      for (let r = 1; r < R; r++) if (denseSweep.finalLoss[f * R + r] < denseSweep.finalLoss[best]) best = f * R + r;
      return best;
    });
    const dense = {
      params: {
        W: keep.map((i) => (denseSweep.params.W as number[][][])[i]),
        b: keep.map((i) => (denseSweep.params.b as number[][])[i]),
      },
      finalLoss: keep.map((i) => denseSweep.finalLoss[i]),
    };
    // parts 2 and 3: pairs
    const pairs = async (mode: FeatureSet['mode']) => {
      const sets: FeatureSet[] = [
        { features: [0, 1], mode },
        { features: [2, 3], mode },
      ];
      const sweep = await trainSweep(
        mode,
        { ...common, instances: c.restarts, features: 4, sparsity: perInstance(new Array<number>(c.restarts).fill(c.sparsity), 4), importance: 1, sets },
        ctx,
        `${mode} pairs`,
      );
      let best = 0;
      sweep.finalLoss.forEach((l, i) => {
        if (l < sweep.finalLoss[best]) best = i;
      });
      const W = (sweep.params.W as number[][][])[best];
      const cos = cosines(W);
      return {
        mode,
        sets,
        W,
        b: (sweep.params.b as number[][])[best],
        featureNorms: featureNorms(asWeights([W]))[0].map(round9),
        cosines: cos,
        withinPairCosine: [cos[0][1], cos[2][3]],
        loss: sweep.finalLoss[best],
        sweep,
      };
    };
    const correlated = await pairs('correlated');
    const anticorrelated = await pairs('anticorrelated');
    ctx.progress.log(
      `nonuniform: within-pair cosines correlated ${correlated.withinPairCosine.map((v) => v.toFixed(2))}, anticorrelated ${anticorrelated.withinPairCosine.map((v) => v.toFixed(2))}`,
    );
    const denseW = dense.params.W as number[][][];
    const strip = ({ sweep: _s, ...rest }: typeof correlated) => rest;
    return {
      results: {
        denserFeature: c.densityFactors.map((f, i) => ({
          densityFactor: f,
          W: denseW[i],
          b: (dense.params.b as number[][])[i],
          featureNorms: featureNorms(asWeights([denseW[i]]))[0].map(round9),
          cosines: cosines(denseW[i]),
        })),
        correlated: strip(correlated),
        anticorrelated: strip(anticorrelated),
      },
      figures: {
        'nonuniform-density': featureDirectionsSpec(
          c.densityFactors.map((f, i) => ({ label: `feature 0 ×${f} denser`, W: denseW[i] })),
          { title: `Five features in 2D, feature 0 denser (S=${c.sparsity})` },
        ),
        'nonuniform-correlation': featureDirectionsSpec(
          [
            { label: 'correlated pairs (0,1), (2,3)', W: correlated.W },
            { label: 'anticorrelated pairs (0,1), (2,3)', W: anticorrelated.W },
          ],
          { title: 'Correlated features go orthogonal, anticorrelated ones antipodal', size: 160 },
        ),
      },
      tensors: {
        'denser.W': tensorFromNested(denseW),
        'denser.b': tensorFromNested(dense.params.b),
        'correlated.W': tensorFromNested(correlated.sweep.params.W),
        'anticorrelated.W': tensorFromNested(anticorrelated.sweep.params.W),
      },
    };
  },
};
