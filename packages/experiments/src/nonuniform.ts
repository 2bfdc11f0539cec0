import { featureNorms } from '@tms/analysis';
import type { FeatureSet } from '@tms/data';
import { featureDirectionsSpec, interferenceHeatmap, lineChartSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, cosine, cosines, equalSets, neighbourAngles, heldOutResults, largestShape, lowestIndex, perInstance, restartLoss, round9, sharedHeldOut, tensorFromNested, trainingFields, trainingOptions, sweepUnit, type HeldOutResults, type SweepResult, type TrainingFields } from './common.js';
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
  /**
   * Part 4: three correlated pairs in m = 2, one setting per feature density
   * 1 − S (its own sparsities): side by side when sparse, collapsing pair by
   * pair onto their principal components as they get denser. Empty: skip.
   */
  collapseDensities: {
    type: 'numbers',
    min: 0.0001,
    max: 1,
    minLength: 0,
    doc: 'part 4: feature densities 1−S for three correlated pairs in m=2 (collapse into principal components; empty: skip)',
    default: [0.01, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8],
  },
  /** Part 5: two sets of 10 correlated features in m = 10 at this sparsity (local orthogonal bases); 0 skips it. */
  localBasisSparsity: { type: 'number', min: 0, max: 0.9999, doc: 'part 5: sparsity of two sets of 10 correlated features in m=10 (local orthogonal bases; 0: skip)', default: 0.99 },
  /** Models per setting (each denser-feature factor, each collapse density; the pairs have `pairRestarts`); the lowest held-out loss, on samples they share, is kept. */
  restarts: { type: 'int', min: 1, max: 20, doc: 'models per setting (denser-feature factors, collapse densities); the lowest held-out loss, on samples they share, is kept', default: 8 },
  /**
   * Models for each of the two pair settings (correlated, anticorrelated), the
   * lowest held-out loss kept. More than `restarts`, as these four-feature models
   * are cheap and most runs end in a local minimum: at S = 0.95 about 3 in 4
   * anticorrelated runs place features of *different* pairs antipodally.
   */
  pairRestarts: { type: 'int', min: 1, max: 64, doc: 'models for each pair setting (correlated, anticorrelated); the lowest held-out loss is kept (about 3 in 4 anticorrelated runs pair features across the sets)', default: 16 },
  ...trainingFields(),
} as const;

/** Config of the non-uniform superposition experiment. */
export type NonuniformConfig = ConfigFromSchema<typeof schema>;


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
  /** Feature 0's density relative to the other four's. */
  densityFactor: number;
  /** The kept restart's weights, `[features][hidden]`. */
  W: number[][];
  /** Its biases. */
  b: number[];
  /** ‖Wᵢ‖ of each feature. */
  featureNorms: number[];
  /** Cosines between every pair of feature directions. */
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

/** One density of part 4: three correlated pairs in m = 2, the kept (lowest held-out loss) restart. */
export interface PairCollapsePoint {
  /** Feature density 1 − S. */
  density: number;
  /** Pairs whose two features point the same way (cos > 0.9): stored as their principal component (a + b)/√2. */
  collapsedPairs: number;
  /** cos(W₀, W₁), cos(W₂, W₃), cos(W₄, W₅). */
  pairCosines: number[];
  /** `[6][2]`: the kept restart's feature directions. */
  W: number[][];
  /** Collapsed pairs of every restart, in order. */
  restartCollapsedPairs: number[];
}

/** Part 5: two sets of 10 correlated features in m = 10. */
export interface LocalBases {
  /** Share of the pairs within a set with |cos| < 0.1 (a local orthogonal basis per set). */
  withinOrthogonalShare: number;
  /** Mean |cos| over pairs within a set. */
  meanWithinAbsCosine: number;
  /** Mean |cos| over pairs from different sets (where the model puts its interference). */
  meanCrossAbsCosine: number;
  /** ‖Wᵢ‖ per feature. */
  featureNorms: number[];
  /** `[20][20]` cosines, for the figure. */
  cosines: number[][];
}

/** Results of the non-uniform superposition experiment. */
export interface NonuniformResults extends Record<string, unknown> {
  /** Part 1, one entry per density factor of feature 0, in the config's order. */
  denserFeature: NonuniformDensityResult[];
  /** Part 2: two pairs of correlated features. */
  correlated: NonuniformPairs;
  /** Part 3: two pairs of anticorrelated features. */
  anticorrelated: NonuniformPairs;
  /** Part 4, one entry per density (empty when skipped). */
  pairCollapse: PairCollapsePoint[];
  /** Part 5 (absent when skipped). */
  localBases?: LocalBases;
  /** Loss on fresh samples per trained batch and instance, and its ratio to the best linear model's. */
  heldOut: Record<string, HeldOutResults>;
}

/** The three trained sweeps of the non-uniform experiment. */
export interface NonuniformTrained {
  /** Part 1: `restarts` models per density factor. */
  denser: SweepResult;
  /** Part 2: `pairRestarts` models. */
  correlated: SweepResult;
  /** Part 3: `pairRestarts` models. */
  anticorrelated: SweepResult;
  /** Part 4: `restarts` models per density. */
  collapse?: SweepResult;
  /** Part 5: one model. */
  local?: SweepResult;
}

const THREE_PAIRS = equalSets(6, 3);

const TWO_TENS = equalSets(20, 2);

const PAIRS = (mode: FeatureSet['mode']): FeatureSet[] => equalSets(4, 2, mode);

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

/** Part 4's headline: whether collapse only grows with density (1/0) and the collapsed pairs at the densest setting when it is 1 − S ≥ 0.5. */
function collapseHeadline(points: readonly PairCollapsePoint[]): Record<string, number> {
  if (points.length < 2) return {};
  const sorted = [...points].sort((a, b) => a.density - b.density);
  const densest = sorted[sorted.length - 1];
  return {
    pairCollapseMonotone: sorted.every((p, k) => k === 0 || p.collapsedPairs >= sorted[k - 1].collapsedPairs) ? 1 : 0,
    ...(densest.density >= 0.5 ? { densestCollapsedPairs: densest.collapsedPairs } : {}),
  };
}

/** Part 4's kept restart per density, and every restart's collapsed pairs. */
function collapsePoints(densities: number[], R: number, sweep: SweepResult): PairCollapsePoint[] {
  const Ws = sweep.params.W as number[][][];
  const collapsedOf = (W: number[][]) => THREE_PAIRS.filter(({ features: [a, b] }) => cosine(W[a], W[b]) > 0.9).length;
  return densities.map((density, d) => {
    const k = lowestIndex(restartLoss(sweep), d * R, R);
    const W = Ws[k];
    return {
      density,
      collapsedPairs: collapsedOf(W),
      pairCosines: THREE_PAIRS.map(({ features: [a, b] }) => round9(cosine(W[a], W[b]))),
      W,
      restartCollapsedPairs: Ws.slice(d * R, (d + 1) * R).map(collapsedOf),
    };
  });
}

/** Part 5's measures of one `[20][10]` model. */
function localBasesOf(W: number[][]): LocalBases {
  const cos = cosines(W);
  const within: number[] = [];
  const cross: number[] = [];
  for (let a = 0; a < W.length; a++) for (let b = a + 1; b < W.length; b++) (Math.floor(a / 10) === Math.floor(b / 10) ? within : cross).push(Math.abs(cos[a][b]));
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  return {
    withinOrthogonalShare: round9(within.filter((v) => v < 0.1).length / within.length),
    meanWithinAbsCosine: round9(mean(within)),
    meanCrossAbsCosine: round9(mean(cross)),
    featureNorms: featureNorms(asWeights([W]))[0].map(round9),
    cosines: cos,
  };
}

/**
 * Non-uniform superposition (paper: "Non-Uniform Superposition"), three parts in
 * m = 2 so that the geometry can be drawn:
 * 1. five features, one of them denser than the rest: the pentagon deforms;
 * 2. two pairs of correlated features: each pair is placed orthogonally
 *    (correlated features avoid interfering) and the pairs sit opposite each other;
 * 3. two pairs of anticorrelated features: each pair is placed antipodally
 *    (they never co-occur, so opposite directions cost nothing);
 * 4. three correlated pairs in m = 2 over feature density: side by side when
 *    sparse (they cannot all be orthogonal), then collapsing pair by pair onto
 *    their principal components (a + b)/√2 as features get denser;
 * 5. two sets of 10 correlated features in m = 10: each set forms a local
 *    orthogonal basis, the interference goes between the sets.
 */
export const nonuniform = defineExperiment<NonuniformConfig, NonuniformTrained, NonuniformResults>({
  name: 'nonuniform',
  title: 'Non-uniform superposition: a denser feature, correlated and anticorrelated pairs (m=2)',
  paperSection: 'Non-Uniform Superposition (non-uniform sparsity, correlated and anticorrelated features)',
  schema,
  defaults: defaultsOf(schema),
  variants: { quick: { steps: 3000, lr: 1e-2, batchSize: 512, collapseDensities: [0.02, 0.1, 0.2, 0.5], restarts: 4, pairRestarts: 4 }, paper: {} },
  headline(r) {
    const byFactor = [...r.denserFeature].sort((a, b) => a.densityFactor - b.densityFactor);
    const unit = byFactor.find((d) => d.densityFactor === 1);
    const sparsest = byFactor[0];
    return {
      ...(unit
        ? {
            unitDensityPentagon: unit.geometry === 'pentagon' ? 1 : 0,
            // how regular: the largest deviation of the angles between neighbouring directions from 72°
            unitDensityAngleDeviation: Math.max(...neighbourAngles(unit.W).map((a) => Math.abs(a - 72))),
          }
        : {}),
      ...(sparsest && sparsest.densityFactor <= 0.3 ? { sparsestCollapsedToDigons: sparsest.geometry === 'digons' ? 1 : 0 } : {}),
      collapseCrossing: collapseCrossing(byFactor),
      correlatedPairCosineMaxAbs: Math.max(...r.correlated.withinPairCosine.map(Math.abs)),
      anticorrelatedPairCosineMax: Math.max(...r.anticorrelated.withinPairCosine),
      ...collapseHeadline(r.pairCollapse),
      ...(r.localBases
        ? { localWithinOrthogonalShare: r.localBases.withinOrthogonalShare, localCrossOverWithin: r.localBases.meanCrossAbsCosine / r.localBases.meanWithinAbsCosine }
        : {}),
    };
  },
  trainingShape: (c) =>
    largestShape(
      { instances: c.densityFactors.length * c.restarts, features: 5, hidden: 2, batchSize: c.batchSize },
      { instances: Math.max(1, c.collapseDensities.length) * c.restarts, features: 6, hidden: 2, batchSize: c.batchSize },
      { instances: c.pairRestarts, features: 4, hidden: 2, batchSize: c.batchSize },
      { instances: 1, features: 20, hidden: 10, batchSize: c.batchSize },
    ),
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
        // the restarts of a factor, and the loss curves of their geometries, are compared on the same held-out samples
        ...sharedHeldOut(R),
      },
      ctx,
      'denser feature',
    );
    // parts 2 and 3: pairs, `pairRestarts` models each
    const P = c.pairRestarts;
    const pairs = (mode: FeatureSet['mode']) =>
      sweepUnit(
        mode,
        // the restarts are compared on the same held-out samples
        { ...common, instances: P, features: 4, sparsity: perInstance(new Array<number>(P).fill(c.sparsity), 4), importance: 1, sets: PAIRS(mode), ...sharedHeldOut(P) },
        ctx,
        `${mode} pairs`,
      );
    const units = [denser, pairs('correlated'), pairs('anticorrelated')];
    const D = c.collapseDensities;
    if (D.length) {
      units.push(
        sweepUnit(
          'pair-collapse',
          {
            ...common,
            instances: D.length * R,
            features: 6,
            sparsity: D.flatMap((d) => new Array<number[]>(R).fill(new Array<number>(6).fill(1 - d))),
            importance: 1,
            sets: THREE_PAIRS,
            // the restarts of a density are compared on the same held-out samples
            ...sharedHeldOut(R),
          },
          ctx,
          'three correlated pairs',
        ),
      );
    }
    if (c.localBasisSparsity > 0) {
      units.push(sweepUnit('local-bases', { ...common, hidden: 10, instances: 1, features: 20, sparsity: c.localBasisSparsity, importance: 1, sets: TWO_TENS }, ctx, 'two sets of 10 correlated features'));
    }
    const [denserSweep, correlated, anticorrelated, ...rest] = await trainUnits(ctx, units);
    const collapse = D.length ? rest.shift() : undefined;
    const local = c.localBasisSparsity > 0 ? rest.shift() : undefined;
    return { denser: denserSweep, correlated, anticorrelated, ...(collapse ? { collapse } : {}), ...(local ? { local } : {}) };
  },
  analyze(c, trained) {
    const R = c.restarts;
    // the lowest-loss restart of each setting is kept
    const keep = c.densityFactors.map((_, f) => lowestIndex(restartLoss(trained.denser), f * R, R));
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
      const best = lowestIndex(restartLoss(sweep));
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
    const pairCollapse = trained.collapse ? collapsePoints(c.collapseDensities, R, trained.collapse) : [];
    const localBases = trained.local ? localBasesOf((trained.local.params.W as number[][][])[0]) : undefined;
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
        pairCollapse,
        ...(localBases ? { localBases } : {}),
        heldOut: heldOutResults({
          'denser-feature': trained.denser,
          correlated: trained.correlated,
          anticorrelated: trained.anticorrelated,
          ...(trained.collapse ? { 'pair-collapse': trained.collapse } : {}),
          ...(trained.local ? { 'local-bases': trained.local } : {}),
        }),
      },
      tensors: {
        'denser.W': tensorFromNested(denseW),
        'denser.b': tensorFromNested(denseB),
        'correlated.W': tensorFromNested(trained.correlated.params.W),
        'anticorrelated.W': tensorFromNested(trained.anticorrelated.params.W),
        ...(trained.collapse ? { 'pair-collapse.W': tensorFromNested(trained.collapse.params.W) } : {}),
        ...(trained.local ? { 'local-bases.W': tensorFromNested(trained.local.params.W) } : {}),
      },
      summary:
        `nonuniform: within-pair cosines correlated ${correlated.withinPairCosine.map((v) => v.toFixed(2))}, anticorrelated ${anticorrelated.withinPairCosine.map((v) => v.toFixed(2))}` +
        (pairCollapse.length ? `\nnonuniform: three correlated pairs, collapsed pairs ${pairCollapse.map((p) => `1−S=${p.density}: ${p.collapsedPairs}`).join(', ')}` : '') +
        (localBases
          ? `\nnonuniform: two sets of 10 in m=10, ${(localBases.withinOrthogonalShare * 100).toFixed(0)}% of within-set pairs orthogonal (|cos| < 0.1); mean |cos| within ${localBases.meanWithinAbsCosine.toFixed(3)}, across ${localBases.meanCrossAbsCosine.toFixed(3)}`
          : ''),
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
      ...(r.pairCollapse.length
        ? {
            'nonuniform-pair-collapse': featureDirectionsSpec(
              r.pairCollapse.map((p) => ({ label: `1−S=${p.density}: ${p.collapsedPairs} collapsed`, W: p.W, color: [0, 0, 1, 1, 2, 2] })),
              { title: 'Three correlated pairs in 2D: side by side when sparse, collapsing onto principal components as they get denser', size: 120, colorTitle: 'pair', colorType: 'ordinal' },
            ),
          }
        : {}),
      ...(r.localBases
        ? {
            'nonuniform-local-bases': {
              $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
              title: `Two sets of 10 correlated features in m=10 (S=${c.localBasisSparsity}): cos(Wᵢ, Wⱼ), orthogonal within each set`,
              ...interferenceHeatmap(r.localBases.cosines, { cell: 14 }),
            },
          }
        : {}),
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
