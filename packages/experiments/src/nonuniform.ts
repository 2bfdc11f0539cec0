import { featureNorms } from '@tms/analysis';
import type { FeatureSet } from '@tms/data';
import { featureDirectionsSpec, lineChartSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, heldOutResults, lowestIndex, perInstance, round9, tensorFromNested, trainingFields, trainingOptions, sweepUnit, type HeldOutResults, type SweepResult, type TrainingFields } from './common.js';
import { trainUnits } from './units.js';
import { defineExperiment } from './types.js';


const schema = {
  /** Sparsity of the features (all parts). */
  sparsity: { type: 'number', min: 0, max: 0.9999, doc: 'sparsity S of the features', default: 0.95 },
  /** Part 1: feature 0's density relative to the other four (below 1: sparser), one setting each. */
  densityFactors: {
    type: 'numbers',
    min: 0.01,
    max: 1000,
    doc: "part 1: feature 0's density relative to the other four (below 1: sparser), one setting each",
    default: [0.2, 0.3, 0.4, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10],
  },
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
  /** Correlated or anticorrelated pairs. */
  mode: FeatureSet['mode'];
  /** The pairs: features (0, 1) and (2, 3). */
  sets: FeatureSet[];
  /** `[4][2]`: the kept restart's feature directions. */
  W: number[][];
  /** `[4]`: its biases. */
  b: number[];
  /** ‖Wᵢ‖ per feature. */
  featureNorms: number[];
  /** cos(Wᵢ, Wⱼ) for every pair of features. */
  cosines: number[][];
  /** Cosines within pair (0, 1) and pair (2, 3). */
  withinPairCosine: number[];
  /** The kept restart's final training loss. */
  loss: number;
}

/**
 * The geometry of one five-feature model in 2D: `pentagon` (all five features
 * represented), `digons` (feature 0 dropped, ‖W₀‖ < 0.1, the other four as two
 * antipodal pairs) or `other`.
 */
export type FiveFeatureGeometry = 'pentagon' | 'digons' | 'other';

/** One density factor of part 1: the kept (lowest-loss) restart, and the best restart of each geometry. */
export interface NonuniformDensityResult {
  densityFactor: number;
  W: number[][];
  b: number[];
  featureNorms: number[];
  cosines: number[][];
  /** The kept restart's geometry. */
  geometry: FiveFeatureGeometry;
  /**
   * The lowest held-out loss among the restarts of each geometry (null when no
   * restart found it): the paper's loss curves of the two solutions, which cross
   * where the pentagon collapses.
   */
  geometryLoss: { pentagon: number | null; digons: number | null };
}

/** Results of the non-uniform superposition experiment. */
export interface NonuniformResults extends Record<string, unknown> {
  /** Part 1, one entry per density factor of feature 0, in the config's order. */
  denserFeature: NonuniformDensityResult[];
  /** Part 2: two pairs of correlated features. */
  correlated: NonuniformPairs;
  /** Part 3: two pairs of anticorrelated features. */
  anticorrelated: NonuniformPairs;
  /** Loss on fresh samples per trained batch and instance, and its ratio to the best linear model's. */
  heldOut: Record<string, HeldOutResults>;
}

/** The three trained sweeps of the non-uniform experiment. */
export interface NonuniformTrained {
  /** Part 1: `restarts` models per density factor. */
  denser: SweepResult;
  /** Part 2: `restarts` models. */
  correlated: SweepResult;
  /** Part 3: `restarts` models. */
  anticorrelated: SweepResult;
}

const PAIRS = (mode: FeatureSet['mode']): FeatureSet[] => [
  { features: [0, 1], mode },
  { features: [2, 3], mode },
];

/** Classify a five-feature model in 2D (see {@link FiveFeatureGeometry}). */
export function fiveFeatureGeometry(W: number[][]): FiveFeatureGeometry {
  const norms = W.map((w) => Math.hypot(...w));
  if (norms.every((v) => v > 0.5)) return 'pentagon';
  if (norms[0] >= 0.1 || !norms.slice(1).every((v) => v > 0.5)) return 'other';
  // the other four: each has an antipodal partner (cos < −0.9)
  const rest = [1, 2, 3, 4];
  return rest.every((i) => rest.some((j) => j !== i && cosine(W[i], W[j]) < -0.9)) ? 'digons' : 'other';
}

/**
 * Where the pentagon's and the two digons' loss curves cross, going from the
 * sparsest factor up: the density factor (linearly interpolated) at which the
 * digons stop being the cheaper geometry; NaN when no adjacent factors show it.
 */
export function collapseCrossing(points: readonly Pick<NonuniformDensityResult, 'densityFactor' | 'geometryLoss'>[]): number {
  const both = points
    .filter((p) => p.geometryLoss.pentagon !== null && p.geometryLoss.digons !== null)
    .map((p) => ({ f: p.densityFactor, d: p.geometryLoss.digons! - p.geometryLoss.pentagon! }))
    .sort((a, b) => a.f - b.f);
  for (let k = 1; k < both.length; k++) {
    const [a, b] = [both[k - 1], both[k]];
    if (a.d < 0 && b.d >= 0) return a.f + ((b.f - a.f) * -a.d) / (b.d - a.d);
  }
  return NaN;
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
    const byFactor = [...r.denserFeature].sort((a, b) => a.densityFactor - b.densityFactor);
    const unit = byFactor.find((d) => d.densityFactor === 1);
    const sparsest = byFactor[0];
    return {
      ...(unit ? { unitDensityPentagon: unit.geometry === 'pentagon' ? 1 : 0 } : {}),
      ...(sparsest && sparsest.densityFactor <= 0.3 ? { sparsestCollapsedToDigons: sparsest.geometry === 'digons' ? 1 : 0 } : {}),
      collapseCrossing: collapseCrossing(byFactor),
      correlatedPairCosineMaxAbs: Math.max(...r.correlated.withinPairCosine.map(Math.abs)),
      anticorrelatedPairCosineMax: Math.max(...r.anticorrelated.withinPairCosine),
    };
  },
  trainingShape: (c) => ({ instances: c.densityFactors.length * c.restarts, features: 5, hidden: 2, batchSize: c.batchSize }),
  async train(c, ctx) {
    const p = 1 - c.sparsity;
    const common = { kind: 'relu-output' as const, hidden: 2, ...trainingOptions(c) };
    // part 1: feature 0 denser or sparser; `restarts` models per density factor (instance f·R + r)
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
    const keep = c.densityFactors.map((_, f) => lowestIndex(trained.denser.heldOut?.loss ?? trained.denser.finalLoss, f * R, R));
    const allW = trained.denser.params.W as number[][][];
    const geometries = allW.map(fiveFeatureGeometry);
    const heldLoss = trained.denser.heldOut?.loss;
    /** The lowest held-out loss of the restarts of factor f with geometry g. */
    const geometryLoss = (f: number, g: FiveFeatureGeometry): number | null => {
      if (!heldLoss) return null;
      let best: number | null = null;
      for (let k = f * R; k < (f + 1) * R; k++) if (geometries[k] === g && (best === null || heldLoss[k] < best)) best = heldLoss[k];
      return best;
    };
    const denseW = keep.map((i) => (trained.denser.params.W as number[][][])[i]);
    const denseB = keep.map((i) => (trained.denser.params.b as number[][])[i]);
    const pairs = (mode: FeatureSet['mode'], sweep: SweepResult): NonuniformPairs => {
      const best = lowestIndex(sweep.finalLoss);
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
          geometry: geometries[keep[i]],
          geometryLoss: { pentagon: geometryLoss(i, 'pentagon'), digons: geometryLoss(i, 'digons') },
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
        r.denserFeature.map((d) => ({ label: `feature 0 density ×${d.densityFactor} (${d.geometry})`, W: d.W })),
        { title: `Five features in 2D, feature 0 sparser or denser than the rest (S=${c.sparsity})` },
      ),
      'nonuniform-collapse': lineChartSpec(
        (['pentagon', 'digons'] as const).map((g) => {
          const pts = r.denserFeature.filter((d) => d.geometryLoss[g] !== null).sort((a, b) => a.densityFactor - b.densityFactor);
          return { name: g === 'pentagon' ? 'pentagon (all five)' : 'two digons (feature 0 dropped)', x: pts.map((d) => d.densityFactor), y: pts.map((d) => d.geometryLoss[g]!) };
        }),
        {
          title: "Each geometry's best held-out loss over the restarts: the curves cross where the pentagon collapses",
          xTitle: "feature 0's density relative to the others",
          yTitle: 'held-out loss',
          logX: true,
          points: true,
        },
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
