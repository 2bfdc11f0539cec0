import { STICKY_POINTS, energyJumps, featureDimensionality, featureNorms, reconstructionLoss, stickyPlateaus, type EnergyJump } from '@tms/analysis';
import { lineChartSpec } from '@tms/viz';
import { ConfigError, SparseFeatures, defaultsOf, type ConfigFromSchema, type FeatureSet } from '@tms/data';
import { asWeights, cosines, equalSets, heldOutResults, heldOutSeed, round9, tensorFromNested, trainingFields, trainingOptions, trainSweep, type SweepResult, type TrainingFields } from './common.js';
import { defineExperiment } from './types.js';

/** A jump counts as paired with a loss drop when the loss falls this many times faster than its run average. */
const FAST_DROP = 2;

/** How the features of correlated sets are arranged during training (dynamics with `correlatedSets`). */
export interface SetGeometry {
  /** Per snapshot: pairs of features of one set pointing the same way (cos > 0.9), as when a set collapses onto its principal component. */
  collapsedPairs: number[];
  /** The most collapsed pairs at any snapshot. */
  maxCollapsedPairs: number;
  /** The first step at which that many were collapsed. */
  mostCollapsedStep: number;
  /** Final antipodal pairs: features whose most opposite feature is each other, with cos < −0.95. */
  antipodalPairs: [number, number][];
  /** Cosine within each antipodal pair. */
  pairCosines: number[];
  /** Antipodal pairs whose two features come from different sets. */
  pairsMixingSets: number;
  /** The largest |cos| between features of different antipodal pairs (0: the pairs are orthogonal). */
  crossPairMaxAbsCosine: number;
}

/** Collapse and final pairing of correlated sets from the snapshots' cosines. */
function setGeometry(snaps: { step: number; cosines?: number[][] }[], sets: FeatureSet[]): SetGeometry {
  const collapsed = snaps.map((s) => {
    let k = 0;
    for (const set of sets) for (const i of set.features) for (const j of set.features) if (i < j && s.cosines![i][j] > 0.9) k++;
    return k;
  });
  const most = Math.max(...collapsed);
  const C = snaps[snaps.length - 1].cosines!;
  const n = C.length;
  const opposite = C.map((row, i) => row.reduce((best, v, j) => (j !== i && v < row[best] ? j : best), i === 0 ? 1 : 0));
  const pairs: [number, number][] = [];
  for (let i = 0; i < n; i++) if (opposite[i] > i && opposite[opposite[i]] === i && C[i][opposite[i]] < -0.95) pairs.push([i, opposite[i]]);
  const setOf = (f: number) => sets.findIndex((s) => s.features.includes(f));
  const pairOf = new Map(pairs.flatMap(([a, b], k) => [[a, k], [b, k]] as [number, number][]));
  let cross = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && !(pairOf.has(i) && pairOf.get(i) === pairOf.get(j))) cross = Math.max(cross, Math.abs(C[i][j]));
  return {
    collapsedPairs: collapsed,
    maxCollapsedPairs: most,
    mostCollapsedStep: snaps[collapsed.indexOf(most)].step,
    antipodalPairs: pairs,
    pairCosines: pairs.map(([a, b]) => round9(C[a][b])),
    pairsMixingSets: pairs.filter(([a, b]) => setOf(a) !== setOf(b)).length,
    crossPairMaxAbsCosine: round9(cross),
  };
}



const schema = {
  features: { type: 'int', min: 2, max: 1024, doc: 'features n (uniform importance)', default: 6 },
  hidden: { type: 'int', min: 1, max: 256, doc: 'hidden dimensions m', default: 3 },
  sparsity: { type: 'number', min: 0, max: 0.9999, doc: 'sparsity S', default: 0.99 },
  /** Number of parameter snapshots, log-spaced over training. */
  snapshots: { type: 'int', min: 2, max: 1000, doc: 'number of snapshots (log-spaced steps)', default: 200 },
  /**
   * Split the features into this many correlated sets of equal size (each set
   * is all zero or all drawn together); 0 keeps them independent. The paper's
   * "learning as geometric transformations" run (variant `geometric`): 2 sets of 3 in m = 3.
   */
  correlatedSets: { type: 'int', min: 0, max: 512, doc: 'correlated sets of equal size the features are split into (0: independent features)', default: 0 },
  /**
   * Scale of the initial weights (× Xavier-normal). Small values start near the
   * origin, where features are learned in stages, as in the paper's figures.
   */
  initScale: { type: 'number', min: 0.001, max: 10, doc: 'scale of the initial weights (× Xavier-normal; small values learn in stages)', default: 0.1 },
  /** Fixed held-out samples on which every snapshot's loss is measured (0: none). */
  evalSamples: { type: 'int', min: 0, max: 1_000_000, doc: "fixed held-out samples on which every snapshot's loss is measured (0: none)", default: 4096 },
  ...trainingFields({ steps: 20_000, logEvery: 10 }),
} as const;

/** Config of the learning-dynamics experiment. */
export type DynamicsConfig = ConfigFromSchema<typeof schema>;

/** Results of the learning-dynamics experiment. */
export interface DynamicsResults extends Record<string, unknown> {
  /** Log-spaced training steps: each feature's dimensionality Dᵢ and norm ‖Wᵢ‖ there. */
  snapshots: { step: number; dimensionality: number[]; norms: number[]; loss?: number; cosines?: number[][] }[];
  /** The sticky levels each feature rests on, in order. */
  plateaus: number[][];
  /** Features resting on two or more levels (jumps between energy levels). */
  featuresJumping: number;
  /** Moves between sticky levels (by ≥ 0.1), with how fast the loss fell meanwhile (on the fixed held-out set). */
  jumps: EnergyJump[];
  /** Jumps during which the loss fell more than 2× faster than its average rate (per log step). */
  jumpsWithLossDrop: number;
  /** With correlated sets: how their features collapse and separate during training. */
  geometry?: SetGeometry;
  /** Every tenth recorded loss. */
  history: SweepResult['history'];
}

/**
 * Learning dynamics (paper: "Superposition and Learning Dynamics"): snapshots of
 * every feature's dimensionality Dᵢ and of the loss on a fixed held-out set
 * during training.
 *
 * - Defaults (n = 6, m = 3, S = 0.99, small initial weights; the paper gives no
 *   sizes, and picks a model whose features all end as digons, as these do):
 *   features move between the sticky fractions in discrete jumps ("energy
 *   levels"), and the loss falls faster than usual while they jump.
 * - Variant `geometric` (2 sets of 3 correlated features, S = 0.9): a PCA-like
 *   stage first, each set collapsed onto one direction, then the sets separate
 *   in steps, with a drop of the loss at each, into an octahedron of 3
 *   orthogonal antipodal pairs, each pair taking one feature of each set.
 */
export const dynamics = defineExperiment<DynamicsConfig, SweepResult, DynamicsResults>({
  name: 'dynamics',
  title: 'Learning dynamics: feature dimensionality jumps between fractions during training',
  paperSection: 'Superposition and Learning Dynamics',
  schema,
  defaults: defaultsOf(schema),
  variants: {
    quick: { steps: 4000, snapshots: 120 },
    paper: {},
    // "learning as geometric transformations": 2 sets of 3 correlated features in m = 3
    geometric: { correlatedSets: 2, sparsity: 0.9 },
  },
  headline(r) {
    const g = r.geometry;
    return {
      featuresJumping: r.featuresJumping,
      jumps: r.jumps.length,
      jumpsWithLossDrop: r.jumpsWithLossDrop,
      ...(g
        ? { maxCollapsedPairs: g.maxCollapsedPairs, antipodalPairs: g.antipodalPairs.length, pairsMixingSets: g.pairsMixingSets, crossPairMaxAbsCosine: g.crossPairMaxAbsCosine }
        : {}),
    };
  },
  check(c) {
    if (c.correlatedSets > 0 && (c.features % c.correlatedSets !== 0 || c.features / c.correlatedSets < 2)) {
      throw new ConfigError('correlatedSets', `0 or a divisor of features (${c.features}) that leaves at least 2 features per set`, c.correlatedSets);
    }
  },
  trainingShape: (c) => ({ instances: 1, features: c.features, hidden: c.hidden, batchSize: c.batchSize }),
  train(c, ctx) {
    // log-spaced snapshot steps, rounded to multiples of logEvery
    const steps = new Set<number>();
    for (let k = 0; k < c.snapshots; k++) {
      const s = Math.round(Math.exp(Math.log(c.logEvery) + ((Math.log(c.steps) - Math.log(c.logEvery)) * k) / (c.snapshots - 1)) / c.logEvery) * c.logEvery;
      steps.add(Math.min(c.steps, Math.max(c.logEvery, s)));
    }
    const snapshotSteps = [...steps].sort((a, b) => a - b);
    return trainSweep(
      'model',
      {
        kind: 'relu-output',
        instances: 1,
        features: c.features,
        hidden: c.hidden,
        sparsity: c.sparsity,
        importance: 1,
        ...(c.correlatedSets > 0 ? { sets: equalSets(c.features, c.correlatedSets) } : {}),
        ...(c.initScale !== 1 ? { initScale: c.initScale } : {}),
        ...trainingOptions(c),
        snapshotSteps,
      },
      ctx,
    );
  },
  analyze(c, sweep) {
    const evalX = c.evalSamples > 0 ? new SparseFeatures({ instances: 1, features: c.features, sparsity: c.sparsity, ...(c.correlatedSets > 0 ? { sets: equalSets(c.features, c.correlatedSets) } : {}), seed: heldOutSeed(c.seed) }).sample(c.evalSamples).data : null;
    const ones = new Float32Array(c.features).fill(1);
    const snaps = (sweep.snapshots ?? []).map((s) => {
      const W = asWeights(s.params.W);
      return {
        step: s.step,
        dimensionality: featureDimensionality(W)[0].map(round9),
        norms: featureNorms(W)[0].map(round9),
        ...(evalX ? { loss: round9(reconstructionLoss(W, (s.params.b as number[][]).flat(), evalX, ones)[0]) } : {}),
        ...(c.correlatedSets > 0 ? { cosines: cosines((s.params.W as number[][][])[0]) } : {}),
      };
    });
    // the sticky levels each feature rests on, in order: more than one = a jump between energy levels
    const plateaus = Array.from({ length: c.features }, (_, f) =>
      stickyPlateaus(
        snaps.map((s) => s.dimensionality[f]),
        snaps.map((s) => s.norms[f]),
      ).map(round9),
    );
    const jumping = plateaus.filter((p) => p.length >= 2).length;
    const jumps = evalX
      ? energyJumps(
          snaps.map((s) => s.step),
          snaps.map((s) => s.dimensionality),
          snaps.map((s) => s.norms),
          snaps.map((s) => s.loss!),
        ).map((j) => ({ ...j, lossDrop: round9(j.lossDrop), dropRate: round9(j.dropRate) }))
      : [];
    const paired = jumps.filter((j) => j.dropRate > FAST_DROP).length;
    const geometry = c.correlatedSets > 0 ? setGeometry(snaps, equalSets(c.features, c.correlatedSets)) : undefined;
    return {
      results: {
        snapshots: snaps,
        plateaus,
        featuresJumping: jumping,
        jumps,
        jumpsWithLossDrop: paired,
        ...(geometry ? { geometry } : {}),
        history: sweep.history.filter((_, i) => i % 10 === 9),
        heldOut: heldOutResults({ 'relu-output': sweep }),
      },
      tensors: { 'relu-output.W': tensorFromNested(sweep.params.W), 'relu-output.b': tensorFromNested(sweep.params.b) },
      summary:
        `dynamics: ${jumping} of ${c.features} features rest on two or more sticky levels; ${jumps.length} jumps of ≥ 0.1, ${paired} with the loss falling > ${FAST_DROP}× its average rate` +
        (geometry
          ? `; correlated sets: up to ${geometry.maxCollapsedPairs} within-set pairs collapsed (step ${geometry.mostCollapsedStep}), final ${geometry.antipodalPairs.length} antipodal pairs (${geometry.pairsMixingSets} mixing sets, largest |cos| across pairs ${geometry.crossPairMaxAbsCosine.toFixed(3)})`
          : ''),
    };
  },
  figures(c, r) {
    const snaps = r.snapshots;
    const steps = snaps.map((s) => s.step);
    const setup = `n=${c.features}, m=${c.hidden}, S=${c.sparsity}${c.correlatedSets > 0 ? `, ${c.correlatedSets} correlated sets` : ''}`;
    const panels = [
      lineChartSpec(
        Array.from({ length: c.features }, (_, f) => ({ name: `feature ${f}`, x: steps, y: snaps.map((s) => s.dimensionality[f]) })),
        {
          title: `Feature dimensionality Dᵢ during training (${setup})`,
          xTitle: 'step',
          yTitle: 'dimensionality Dᵢ',
          logX: true,
          rules: STICKY_POINTS.map((s) => ({ y: s.value, label: s.label })),
        },
      ),
    ];
    if (snaps.every((s) => s.loss !== undefined)) {
      panels.push(lineChartSpec([{ name: 'held-out loss', x: steps, y: snaps.map((s) => s.loss!) }], { title: 'Loss on a fixed held-out set', xTitle: 'step', yTitle: 'loss', logX: true, logY: true, height: 150 }));
    }
    if (r.geometry) {
      panels.push(
        lineChartSpec([{ name: 'collapsed pairs', x: steps, y: r.geometry.collapsedPairs }], {
          title: 'Pairs of one correlated set pointing the same way (cos > 0.9)',
          xTitle: 'step',
          yTitle: 'collapsed pairs',
          logX: true,
          height: 120,
        }),
      );
    }
    const [first, ...rest] = panels;
    return { dynamics: rest.length ? { $schema: first.$schema, vconcat: panels.map(({ $schema: _, ...p }) => p), resolve: { scale: { color: 'independent' } } } : first };
  },
});
