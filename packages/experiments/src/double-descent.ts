import { dataDimensionality, featureDimensionality, featureNorms, hiddenActivations, reconstructionLoss } from '@tms/analysis';
import { ConfigError, FiniteDataset, SparseFeatures, defaultsOf, type ConfigFromSchema } from '@tms/data';
import { featureDirectionsSpec, gridHeatmapSpec, lineChartSpec } from '@tms/viz';
import { lowestIndex, neighbourAngles, round9, sweepUnit, tensorFromNested, type SweepResult } from './common.js';
import { defineExperiment } from './types.js';
import { trainUnits } from './units.js';

const schema = {
  features: { type: 'int', min: 2, max: 100_000, doc: 'number of features n', default: 1000 },
  hidden: { type: 'int', min: 1, max: 64, doc: 'hidden dimensions m', default: 2 },
  sparsity: { type: 'number', min: 0, max: 0.99999, doc: 'sparsity S of every feature', default: 0.99 },
  sizes: { type: 'numbers', min: 1, max: 1_000_000, doc: 'training-set sizes T, one full-batch run each (ascending integers)', default: [5, 10, 25, 50, 100, 250, 500, 1000, 3000] },
  datasets: { type: 'int', min: 1, max: 64, doc: 'training sets (data seeds) per size; losses are averaged over them', default: 4 },
  bestOf: { type: 'int', min: 1, max: 64, doc: 'initialisations per training set for sizes up to bestOfUpTo (the lowest training loss is kept)', default: 3 },
  bestOfUpTo: { type: 'int', min: 0, max: 1_000_000, doc: 'largest size trained from bestOf initialisations (larger sizes train one)', default: 100 },
  gridHidden: { type: 'numbers', min: 1, max: 64, minLength: 0, doc: 'other hidden sizes m trained at every T for the (T, m) grid of test loss (empty: no grid)', default: [] },
  testSize: { type: 'int', min: 1, max: 1_000_000, doc: 'held-out samples per training set for the test loss', default: 2000 },
  steps: { type: 'int', min: 1, max: 10_000_000, doc: 'full-batch AdamW steps', default: 3000 },
  warmupSteps: { type: 'int', min: 0, max: 10_000_000, doc: 'linear warm-up steps, then cosine decay to 0', default: 150 },
  lr: { type: 'number', min: 0, max: 10, doc: 'peak learning rate (AdamW)', default: 1e-3 },
  weightDecay: { type: 'number', min: 0, max: 10, doc: 'AdamW weight decay', default: 1e-2 },
  seed: { type: 'int', min: 0, max: 0xffffffff, doc: 'seed of weights (seed), training sets (seed + 1) and test sets (seed + 2)', default: 0 },
  logEvery: { type: 'int', min: 1, doc: 'record the loss every this many steps', default: 100 },
} as const;

/** Config of the double-descent experiment. */
export type DoubleDescentConfig = ConfigFromSchema<typeof schema>;

/** One training-set size T of the double-descent experiment (the kept initialisation of each training set). */
export interface DoubleDescentPoint {
  /** Training-set size T. */
  size: number;
  /** T(1 − S): how often each feature appears in the training set (Jermyn's rescaling). */
  appearancesPerFeature: number;
  /** Per training set: training loss (Σ over features, mean over samples, as in the follow-up). */
  trainLoss: number[];
  /** Per training set: loss on `testSize` fresh samples. */
  testLoss: number[];
  /** Training loss, mean over the training sets. */
  meanTrainLoss: number;
  /** Test loss, mean over the training sets. */
  meanTestLoss: number;
  /** Per training set: ‖W‖_F and ‖b‖. */
  weightNorm: number[];
  /** Per training set: ‖b‖. */
  biasNorm: number[];
  /** Per training set: mean data dimensionality of the training points. */
  meanDataDimensionality: number[];
  /** m/T: the data dimensionality of T points at the vertices of a T-gon (m = 2). */
  tGonDimensionality: number;
  /** Training set 0: the largest feature dimensionality. */
  maxFeatureDimensionality: number;
  /** Training set 0: features with dimensionality above 0.2. */
  featuresAboveFifth: number;
  /** Training set 0, m = 2: the largest deviation from 72° of the angles between those features' neighbouring directions (null unless there are 5). */
  pentagonAngleError: number | null;
  /** Training set 0, for the figures: the largest features' directions and dimensionalities, and the first training points' hidden vectors. */
  features: { index: number; W: number[]; dimensionality: number }[];
  /** Training set 0, for the figures: the first training points' hidden vectors h and their data dimensionalities. */
  points: { h: number[]; dimensionality: number }[];
}

/** The (T, m) grid: mean test loss over the training sets, per hidden size and training-set size. */
export interface DoubleDescentGrid {
  /** Hidden sizes m, ascending (the config's `hidden` and `gridHidden`). */
  hidden: number[];
  /** Training-set sizes T, ascending. */
  sizes: number[];
  /** `[hidden][size]`. */
  meanTestLoss: number[][];
}

/** Results of the double-descent experiment. */
export interface DoubleDescentResults extends Record<string, unknown> {
  /** One point per training-set size T, ascending. */
  points: DoubleDescentPoint[];
  /** Present when `gridHidden` is not empty. */
  grid?: DoubleDescentGrid;
}

/** The trained models: one sweep per training-set size (and per extra hidden size of the grid). */
export interface DoubleDescentTrained {
  /** Training-set sizes T, ascending. */
  sizes: number[];
  /** Initialisations per training set at each size. */
  inits: number[];
  /** One sweep per size: every training set × initialisation. */
  runs: SweepResult[];
  /** Per `gridHidden` entry (ascending, the config's `hidden` left out): one sweep per size. */
  grid: { hidden: number; runs: SweepResult[] }[];
}

/** Features and training points drawn in the geometry figures, per size. */
const FIGURE_FEATURES = 60;
const FIGURE_POINTS = 200;

/** The grid's hidden sizes other than the config's `hidden`, ascending. */
const gridExtra = (c: DoubleDescentConfig) => [...c.gridHidden].filter((m) => m !== c.hidden).sort((a, b) => a - b);

/** Initialisations per training set at size `T`. */
const initsAt = (c: DoubleDescentConfig, T: number) => (T <= c.bestOfUpTo ? c.bestOf : 1);

/** The training sets (all sizes are prefixes of the largest) or the test sets of a config, `[datasets, T, n]`. */
function samples(c: DoubleDescentConfig, T: number, test: boolean): Float32Array {
  const source = new SparseFeatures({ instances: c.datasets, features: c.features, sparsity: c.sparsity, unitNorm: true, seed: c.seed + (test ? 2 : 1) });
  return new FiniteDataset(source, T).data;
}

/**
 * Memorisation and double descent (Henighan et al. 2023, "Superposition,
 * Memorization, and Double Descent"): ReLU-output models trained full-batch
 * with AdamW (warm-up, then cosine decay) on finite training sets of T
 * unit-norm sparse points. Small T: the model memorises the training points,
 * whose hidden vectors form a T-gon (data dimensionality m/T) while features
 * get little dimensionality. Large T: it generalises, keeping 5 features as a
 * pentagon. In between the test loss has a bump.
 */
export const doubleDescent = defineExperiment<DoubleDescentConfig, DoubleDescentTrained, DoubleDescentResults>({
  name: 'double-descent',
  title: 'Memorisation and double descent on finite training sets (Henighan et al. 2023)',
  paperSection: 'Beyond the paper: Superposition, Memorization, and Double Descent (Henighan et al. 2023)',
  schema,
  defaults: defaultsOf(schema),
  variants: {
    quick: { features: 400, sparsity: 0.975, sizes: [4, 16, 64, 256, 1024], datasets: 2, bestOf: 3, bestOfUpTo: 16, gridHidden: [1], testSize: 500, steps: 2000, warmupSteps: 100 },
    // the follow-up's sizes: many hours on a CPU (a full-batch step at T = 10,000 touches 10⁸ feature outputs per model)
    paper: { features: 10_000, sparsity: 0.999, sizes: [10, 30, 100, 300, 1000, 3000, 10_000], datasets: 4, steps: 50_000, warmupSteps: 2500, testSize: 5000 },
    // the follow-up's weight-decay comparison (m = 4) at the quick scale, long enough for decay 1.0 to act:
    // run it again with --weight-decay 0.01 for the bump
    // the (T, m) grid of test loss at the quick scale
    grid: { features: 400, sparsity: 0.975, sizes: [4, 16, 64, 256, 1024], datasets: 2, bestOf: 3, bestOfUpTo: 16, gridHidden: [1, 3, 4, 6], testSize: 500, steps: 5000, warmupSteps: 250 },
    'weight-decay': { features: 400, sparsity: 0.975, sizes: [4, 16, 64, 256, 1024], datasets: 2, bestOf: 3, bestOfUpTo: 16, testSize: 500, hidden: 4, weightDecay: 1, steps: 10_000, warmupSteps: 500 },
  },
  check(c) {
    const sizes = c.sizes;
    if (sizes.some((t, i) => !Number.isInteger(t) || (i > 0 && t <= sizes[i - 1]))) {
      throw new ConfigError('sizes', 'ascending integers (training-set sizes T)', sizes);
    }
    if (c.gridHidden.some((m) => !Number.isInteger(m)) || new Set(c.gridHidden).size !== c.gridHidden.length) {
      throw new ConfigError('gridHidden', 'distinct integers (hidden sizes m)', c.gridHidden);
    }
  },
  headline({ points }) {
    const first = points[0];
    const last = points[points.length - 1];
    const means = points.map((p) => p.meanTestLoss);
    const interior = Math.max(...means.slice(1, -1));
    return {
      smallestSizeDataDimensionalityRatio: first.meanDataDimensionality.reduce((a, v) => a + v, 0) / first.meanDataDimensionality.length / first.tGonDimensionality,
      smallestSizeMaxFeatureDimensionality: first.maxFeatureDimensionality,
      largestSizeFeaturesAboveFifth: last.featuresAboveFifth,
      largestSizePentagonAngleError: last.pentagonAngleError ?? NaN,
      testLossBump: points.length >= 3 ? interior / Math.max(means[0], means[means.length - 1]) : NaN,
    };
  },
  trainingShape: (c) => {
    const T = c.sizes[c.sizes.length - 1];
    return { instances: c.datasets * initsAt(c, T), features: c.features, hidden: c.hidden, batchSize: T };
  },
  async train(c, ctx) {
    const sizes = c.sizes;
    const extra = gridExtra(c);
    const unit = (T: number, m: number, key: string) => {
      const inits = initsAt(c, T);
      return sweepUnit(
        key,
        {
          kind: 'relu-output',
          instances: c.datasets * inits,
          features: c.features,
          hidden: m,
          sparsity: c.sparsity,
          unitNorm: true,
          finiteDataset: { replicas: inits },
          // the follow-up's loss: summed over features (the engines average, so importance n)
          importance: c.features,
          steps: c.steps,
          batchSize: T,
          optimizer: { name: 'adamw', lr: c.lr, weightDecay: c.weightDecay },
          schedule: 'cosine',
          warmupSteps: Math.min(c.warmupSteps, c.steps - 1),
          seed: c.seed,
          logEvery: c.logEvery,
          // the test loss of the kept initialisations is computed in analyze (points[].testLoss)
          heldOutSamples: 0,
        },
        ctx,
        `T = ${T}, m = ${m} (${c.datasets} × ${inits})`,
      );
    };
    const units = [...sizes.map((T) => unit(T, c.hidden, `T-${T}`)), ...extra.flatMap((m) => sizes.map((T) => unit(T, m, `T-${T}-m${m}`)))];
    const all = await trainUnits(ctx, units);
    const k = sizes.length;
    return {
      sizes: [...sizes],
      inits: sizes.map((T) => initsAt(c, T)),
      runs: all.slice(0, k),
      grid: extra.map((m, g) => ({ hidden: m, runs: all.slice(k * (g + 1), k * (g + 2)) })),
    };
  },
  analyze(c, { sizes, inits, runs, grid }) {
    const n = c.features;
    const m = c.hidden;
    const D = c.datasets;
    const largest = sizes[sizes.length - 1];
    const train = samples(c, largest, false);
    const test = samples(c, c.testSize, true);
    const keptW: number[][][] = [];
    const keptB: number[][] = [];
    const importance = new Float32Array(n).fill(n);
    /** The kept initialisation of each training set (the lowest training loss) as batched weights. */
    const kept = (run: SweepResult, k: number, hidden: number) => {
      const W = run.params.W as number[][][];
      const b = run.params.b as number[][];
      const best = Array.from({ length: D }, (_, d) => lowestIndex(run.finalLoss, d * k, k));
      return { W, b, best, Wb: { data: Float64Array.from(best.flatMap((j) => W[j].flat())), shape: [D, n, hidden] }, bb: best.flatMap((j) => b[j]) };
    };
    const mean = (v: number[]) => v.reduce((a, u) => a + u, 0) / v.length;
    const points = sizes.map((T, t): DoubleDescentPoint => {
      const { W, b, best, Wb, bb } = kept(runs[t], inits[t], m);
      for (const j of best) {
        keptW.push(W[j]);
        keptB.push(b[j]);
      }
      // this size's training sets: the first T points of each
      const x = new Float32Array(D * T * n);
      for (let d = 0; d < D; d++) x.set(train.subarray(d * largest * n, (d * largest + T) * n), d * T * n);
      const trainLoss = reconstructionLoss(Wb, bb, x, importance);
      const testLoss = reconstructionLoss(Wb, bb, test, importance);
      const DX = dataDimensionality(Wb, x);
      const Df = featureDimensionality(Wb);
      const norms = featureNorms(Wb);
      const weightNorm = best.map((j) => Math.sqrt(W[j].flat().reduce((a, v) => a + v * v, 0)));
      const biasNorm = best.map((j) => Math.sqrt(b[j].reduce((a, v) => a + v * v, 0)));
      const above = Df[0].flatMap((v, i) => (v > 0.2 ? [i] : []));
      const pentagonAngleError =
        m === 2 && above.length === 5 ? Math.max(...neighbourAngles(above.map((i) => W[best[0]][i])).map((a) => Math.abs(a - 72))) : null;
      const byNorm = norms[0].map((v, i) => ({ v, i })).sort((p, q) => q.v - p.v).slice(0, FIGURE_FEATURES);
      const shown = Math.min(T, FIGURE_POINTS);
      const H = hiddenActivations(W[best[0]], x.subarray(0, shown * n));
      return {
        size: T,
        appearancesPerFeature: round9(T * (1 - c.sparsity)),
        trainLoss: trainLoss.map(round9),
        testLoss: testLoss.map(round9),
        meanTrainLoss: round9(mean(trainLoss)),
        meanTestLoss: round9(mean(testLoss)),
        weightNorm: weightNorm.map(round9),
        biasNorm: biasNorm.map(round9),
        meanDataDimensionality: DX.map((r) => round9(mean(r))),
        tGonDimensionality: round9(m / T),
        maxFeatureDimensionality: round9(Math.max(...Df[0])),
        featuresAboveFifth: above.length,
        pentagonAngleError: pentagonAngleError === null ? null : round9(pentagonAngleError),
        features: byNorm.map(({ i }) => ({ index: i, W: W[best[0]][i].map(round9), dimensionality: round9(Df[0][i]) })),
        points: Array.from({ length: shown }, (_, s) => ({ h: Array.from(H.subarray(s * m, (s + 1) * m), round9), dimensionality: round9(DX[0][s]) })),
      };
    });
    const rows = [
      { hidden: m, loss: points.map((p) => p.meanTestLoss) },
      ...grid.map((g) => ({
        hidden: g.hidden,
        loss: g.runs.map((run, t) => {
          const { Wb, bb } = kept(run, inits[t], g.hidden);
          return round9(mean(reconstructionLoss(Wb, bb, test, importance)));
        }),
      })),
    ].sort((a, b) => a.hidden - b.hidden);
    return {
      results: { points, ...(grid.length ? { grid: { hidden: rows.map((r) => r.hidden), sizes: [...sizes], meanTestLoss: rows.map((r) => r.loss) } } : {}) },
      tensors: { 'relu-output.W': tensorFromNested(keptW), 'relu-output.b': tensorFromNested(keptB) },
      summary: `double descent: test loss ${points.map((p) => `T=${p.size} ${p.meanTestLoss.toFixed(3)}`).join(', ')}`,
    };
  },
  figures(c, { points, grid }) {
    const T = points.map((p) => p.size);
    const geometry = (title: string, panel: (p: DoubleDescentPoint) => { W: number[][]; color: number[] }) =>
      featureDirectionsSpec(
        points.map((p) => ({ label: `T = ${p.size}`, ...panel(p) })),
        { title, size: 90, colorTitle: 'dimensionality' },
      );
    return {
      'double-descent': lineChartSpec(
        [
          { name: 'test, mean', x: T, y: points.map((p) => p.meanTestLoss) },
          { name: 'train, mean', x: T, y: points.map((p) => p.meanTrainLoss) },
          ...points[0].testLoss.map((_, d) => ({ name: `test, set ${d}`, x: T, y: points.map((p) => p.testLoss[d]) })),
        ],
        { title: `Loss against training-set size T (n=${c.features}, m=${c.hidden}, S=${c.sparsity}, weight decay ${c.weightDecay})`, xTitle: 'training-set size T', yTitle: 'loss Σᵢ (xᵢ − x′ᵢ)²', logX: true, points: true },
      ),
      'double-descent-norms': lineChartSpec(
        [
          { name: '‖W‖_F', x: T, y: points.map((p) => p.weightNorm.reduce((a, v) => a + v, 0) / p.weightNorm.length) },
          { name: '‖b‖', x: T, y: points.map((p) => p.biasNorm.reduce((a, v) => a + v, 0) / p.biasNorm.length) },
        ],
        { title: 'Weight and bias norms against T (mean over training sets)', xTitle: 'training-set size T', yTitle: 'norm', logX: true, points: true },
      ),
      'double-descent-dimensionality': lineChartSpec(
        [
          { name: 'training points (mean)', x: T, y: points.map((p) => p.meanDataDimensionality.reduce((a, v) => a + v, 0) / p.meanDataDimensionality.length) },
          { name: 'm/T (a T-gon)', x: T, y: points.map((p) => p.tGonDimensionality) },
          { name: 'largest feature (set 0)', x: T, y: points.map((p) => p.maxFeatureDimensionality) },
        ],
        { title: 'Data dimensionality of the training points and the largest feature dimensionality', xTitle: 'training-set size T', yTitle: 'dimensionality', logX: true, logY: true, points: true },
      ),
      ...(grid
        ? {
            'double-descent-grid': gridHeatmapSpec(
              grid.hidden.flatMap((m, r) => grid.sizes.map((T, t) => ({ x: T, y: m, value: grid.meanTestLoss[r][t] }))),
              { title: 'Mean test loss over training-set size T and hidden dimensions m', xTitle: 'training-set size T', yTitle: 'hidden dimensions m', valueTitle: 'test loss' },
            ),
          }
        : {}),
      ...(c.hidden === 2
        ? {
            'double-descent-points': geometry('Hidden vectors h = Wx of the training points (training set 0)', (p) => ({ W: p.points.map((q) => q.h), color: p.points.map((q) => q.dimensionality) })),
            'double-descent-features': geometry(`Feature directions Wᵢ, the ${FIGURE_FEATURES} longest (training set 0)`, (p) => ({ W: p.features.map((f) => f.W), color: p.features.map((f) => f.dimensionality) })),
          }
        : {}),
    };
  },
});
