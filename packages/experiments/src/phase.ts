import { PHASES, biasFreeLossSurface, biasFreeN2M1, classifyFeature, expectedReluOutputLoss, logspace, paperPhaseN3M2, theoreticalPhaseN2M1, theoreticalPhaseN3M2, type BiasFreeSolution, type Phase } from '@tms/analysis';
import { lossSurfaceSpec, phaseDiagramSpec, type PhaseCell, type VegaLiteSpec } from '@tms/viz';
import { ConfigError, defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, heldOutResults, restartLoss, round9, sharedHeldOut, tensorFromNested, trainingFields, trainingOptions, joinSweeps, sweepUnit, type HeldOutResults, type SweepResult, type TrainingFields } from './common.js';
import { trainUnits } from './units.js';
import { defineExperiment } from './types.js';


const schema = {
  /** n: the last feature is the "extra" one; the others have importance 1. */
  features: { type: 'int', min: 2, max: 16, doc: 'features n (the last one is the extra feature)', default: 2 },
  /** m. */
  hidden: { type: 'int', min: 1, max: 15, doc: 'hidden dimensions m', default: 1 },
  /** Grid points along relative importance (log-spaced). */
  importancePoints: { type: 'int', min: 2, max: 100, doc: 'grid points along relative importance', default: 10 },
  importanceMin: { type: 'number', min: 1e-6, max: 1e6, doc: 'smallest relative importance', default: 0.1 },
  importanceMax: { type: 'number', min: 1e-6, max: 1e6, doc: 'largest relative importance', default: 10 },
  /** Grid points along feature density 1/(1−S) (log-spaced). */
  densityPoints: { type: 'int', min: 2, max: 100, doc: 'grid points along 1/(1−S)', default: 10 },
  /** Largest 1/(1−S) (the smallest is 1: dense features). */
  densityMax: { type: 'number', min: 1.0001, max: 1e5, doc: 'largest 1/(1−S)', default: 100 },
  /**
   * Independent restarts per cell; the lowest-loss one is classified (exact
   * expected loss for n ≤ 3, otherwise the loss on held-out samples the cell's restarts share).
   */
  restarts: { type: 'int', min: 1, max: 20, doc: 'restarts per cell (lowest loss kept)', default: 2 },
  /**
   * How a cell's restarts decide its phase: `best` classifies the lowest-loss
   * restart; `paper` drops the highest-loss restart and takes the phase most
   * of the others have (the paper's ten runs per cell, averaged, worst
   * discarded), the figure shading each cell by that share.
   */
  protocol: {
    type: 'enum',
    options: ['best', 'paper'],
    doc: "how a cell's restarts decide its phase: best (the lowest-loss restart) or paper (the most common phase once the worst restart is dropped; shaded by its share)",
    default: 'best',
  },
  /**
   * Cells (with their restarts) per checkpointed training unit. Every
   * instance draws from streams keyed by its global index, so results do not
   * depend on it; smaller units resume at a finer grain and split a sharded
   * run (`tms run phase --shard k/N`) into more parts.
   */
  chunkSize: { type: 'int', min: 1, max: 10_000, doc: 'cells per checkpointed training unit (results do not depend on it)', default: 25 },
  ...trainingFields({ steps: 5000, lr: 5e-3 }),
} as const;

/** Config of the phase-diagram experiment. */
export type PhaseConfig = ConfigFromSchema<typeof schema>;

/** One cell of the phase diagram. */
export interface PhaseCellResult {
  /** 1/(1−S). */
  density: number;
  /** S. */
  sparsity: number;
  /** The extra feature's importance relative to the others. */
  relativeImportance: number;
  /** How the kept (or, with protocol `paper`, the most common) trained model stores the extra feature. */
  empirical: Phase;
  /** From the analytic losses of candidate solutions; only for n = 2, m = 1 and n = 3, m = 2. */
  theoretical: Phase | null;
  /** n = 3, m = 2: from the paper's own four closed forms alone (no optimised norms, no triangle). */
  paperTheoretical?: Phase;
  /** n = 2, m = 1: the best model without biases (exact expected loss), which adds a `confused` phase. */
  biasFree?: BiasFreeSolution;
  /** Expected loss of the best candidate of each phase (when `theoretical` is set); null for a phase no candidate falls in. */
  theoreticalLosses: Record<Phase, number | null> | null;
  /**
   * Share of each phase among the cell's restarts, the highest-loss one
   * dropped when there are two or more (the paper's protocol).
   */
  phaseShares: Record<Phase, number>;
  /** Final training loss (minibatch estimate) of the kept restart. */
  loss: number;
  /** Exact expected loss (mean over features, as `loss`) of the kept restart; n ≤ 3 only. */
  expectedLoss: number | null;
  /** The kept restart's weights `[n][m]`. */
  W: number[][];
  /** Its biases `[n]`. */
  b: number[];
}

/** What the phase experiment trains and computes before analysis: the grid of models, and the theoretical phase of each cell (where available). */
export interface PhaseTrained {
  /** Every restart of every cell, instance = cell × restarts + restart. */
  sweep: SweepResult;
  /** Per cell, the theoretical phase and each candidate's expected loss (null without theory). */
  theory: ({ phase: Phase; losses: Record<Phase, number> } | null)[];
  /** n = 2, m = 1: per cell, the best bias-free model. */
  biasFree?: BiasFreeSolution[];
}

/** A bias-free n = 2, m = 1 loss surface (Tom McGrath's comment on the paper). */
export interface LossSurface {
  /** The extra feature's relative importance r. */
  relativeImportance: number;
  /** p = 1 − S. */
  density: number;
  /** The grid of weights, for both axes. */
  w: number[];
  /** `loss[i][j]` at (w₁, w₂) = (w[i], w[j]). */
  loss: number[][];
  /** The lowest-loss model there. */
  minimum: BiasFreeSolution;
}

/** Where the bias-free loss surfaces are drawn: (r, p); dense and equally important features give the confused minimum. */
const SURFACES: readonly [number, number][] = [
  [1, 1],
  [1, 0.2],
  [10, 1],
];

/** Results of the phase experiment. */
export interface PhaseResults extends Record<string, unknown> {
  /** Every cell of the grid: relative importance (outer) × density (inner). */
  cells: PhaseCellResult[];
  /** Share of cells where the empirical and theoretical phases agree (null without theory). */
  agreement: number | null;
  /** Every tenth recorded loss of every instance. */
  history: SweepResult['history'];
  /** Loss on fresh samples per trained batch and instance, and its ratio to the best linear model's. */
  heldOut: Record<string, HeldOutResults>;
  /** n = 2, m = 1: bias-free loss surfaces at a few (r, p). */
  surfaces?: LossSurface[];
}

/** A bias-free solution with its numbers rounded for results.json. */
function roundSolution(s: BiasFreeSolution): BiasFreeSolution {
  return { W: [round9(s.W[0]), round9(s.W[1])], loss: round9(s.loss), phase: s.phase };
}

/** A spec without its `$schema`, to nest in a composed one. */
function stripSchema({ $schema: _, ...rest }: VegaLiteSpec): VegaLiteSpec {
  return rest;
}

/** The grid of cells (relative importance r × density d) and each instance's sparsity and importance. */
function phaseGrid(c: PhaseConfig) {
  const n = c.features;
  const imps = logspace(c.importanceMin, c.importanceMax, c.importancePoints);
  const dens = logspace(1, c.densityMax, c.densityPoints);
  const grid = imps.flatMap((r) => dens.map((d) => ({ r, d })));
  const R = c.restarts;
  // instance index = (cell * R + restart)
  const sparsity = grid.flatMap(({ d }) => Array.from({ length: R }, () => new Array<number>(n).fill(1 - 1 / d)));
  const importance = grid.flatMap(({ r }) => Array.from({ length: R }, () => [...new Array<number>(n - 1).fill(1), r]));
  const theoryKind = n === 2 && c.hidden === 1 ? 'n2m1' : n === 3 && c.hidden === 2 ? 'n3m2' : null;
  return { grid, sparsity, importance, theoryKind };
}

/** Whether a cell's restarts are compared on their exact expected loss (cheap for n ≤ 3 features), not on held-out samples. */
function hasExactLoss(features: number): boolean {
  return features <= 3;
}

/**
 * Phase diagrams (paper: "Superposition as a Phase Change"): for n = 2, m = 1
 * (or n = 3, m = 2) ReLU-output models, sweep the extra feature's relative
 * importance and the feature density, and classify how the trained model
 * stores the extra feature: not at all, in a dedicated dimension, or in
 * superposition. Beside it the theoretical diagram: the phase of the
 * lowest-loss candidate solution, from closed-form expected losses (n = 2,
 * m = 1: {@link theoreticalPhaseN2M1}) or closed forms plus an optimised
 * triangle family (n = 3, m = 2: {@link theoreticalPhaseN3M2}), with the
 * paper's own four-closed-form diagram beside it ({@link paperPhaseN3M2}).
 * For n = 2, m = 1 it also finds the best model without biases per cell
 * ({@link biasFreeN2M1}; Tom McGrath's comment on the paper), which adds a
 * fourth, `confused` phase, and draws its exact loss surfaces.
 */
export const phase = defineExperiment<PhaseConfig, PhaseTrained, PhaseResults>({
  name: 'phase',
  title: 'Phase diagram: not represented / dedicated dimension / superposition (n=2, m=1; n=3, m=2)',
  paperSection: 'Superposition as a Phase Change',
  schema,
  defaults: defaultsOf(schema),
  variants: {
    // 4 restarts: with 2, one seed in four leaves 4 of 7 sparsest cells in a worse local minimum
    quick: { importancePoints: 7, densityPoints: 7, restarts: 4, steps: 3000, lr: 1e-2, batchSize: 512 },
    // the paper's protocol: ten runs per cell, the worst dropped, the most common phase shown and shaded by its share
    paper: { importancePoints: 20, densityPoints: 20, restarts: 10, protocol: 'paper', steps: 10_000, lr: 3e-3 },
    n3m2: { features: 3, hidden: 2, restarts: 4 },
    'n3m2-quick': { features: 3, hidden: 2, importancePoints: 7, densityPoints: 7, restarts: 4, steps: 3000, lr: 1e-2, batchSize: 256 },
  },
  check(c) {
    if (c.hidden >= c.features) throw new ConfigError('hidden', `an integer below features (${c.features}): a phase diagram needs more features than dimensions`, c.hidden);
    if (c.importanceMin > c.importanceMax) throw new ConfigError('importanceMin', `at most importanceMax (${c.importanceMax})`, c.importanceMin);
  },
  headline({ agreement, cells, surfaces }) {
    const out: Record<string, number> = {};
    if (agreement !== null) out.agreement = agreement;
    // without biases, dense and equally important features: the minimum's distance from w₁ = w₂ = 1/√2
    const confused = surfaces?.find((s) => s.relativeImportance === 1 && s.density === 1);
    if (confused) out.biasFreeConfusedOffset = Math.max(...confused.minimum.W.map((w) => Math.abs(w - Math.SQRT1_2)));
    // n = 3, m = 2 with the paper's four closed forms: the share of cells with r > 1 where the extra feature is dedicated
    const above = cells.filter((x) => x.paperTheoretical && x.relativeImportance > 1);
    if (above.length) out.paperDedicatedAboveOne = above.filter((x) => x.paperTheoretical === 'dedicated').length / above.length;
    return out;
  },
  trainingShape: (c) => ({ instances: Math.min(c.chunkSize, c.importancePoints * c.densityPoints) * c.restarts, features: c.features, hidden: c.hidden, batchSize: c.batchSize }),
  async train(c, ctx) {
    const { grid, sparsity, importance, theoryKind } = phaseGrid(c);
    const R = c.restarts;
    const units = [];
    for (let start = 0; start < grid.length; start += c.chunkSize) {
      const cells = Math.min(c.chunkSize, grid.length - start);
      units.push(
        sweepUnit(
          `cells-${start}`,
          {
            kind: 'relu-output',
            instances: cells * R,
            features: c.features,
            hidden: c.hidden,
            sparsity: sparsity.slice(start * R, (start + cells) * R),
            importance: importance.slice(start * R, (start + cells) * R),
            ...trainingOptions(c),
            // streams keyed by the global instance index: the chunk size changes nothing
            firstInstance: start * R,
            // without an exact loss a cell's restarts are compared on held-out samples they share
            ...(hasExactLoss(c.features) ? {} : sharedHeldOut(R)),
          },
          ctx,
          `cells ${start + 1}-${start + cells}/${grid.length} × ${R} restarts`,
        ),
      );
    }
    const sweep = joinSweeps(await trainUnits(ctx, units));
    // the theoretical diagram: closed forms (n = 2, m = 1) or optimised candidates (n = 3, m = 2, slow)
    if (theoryKind === 'n3m2') ctx.progress.reset('theory: optimising candidate solutions');
    const t0 = performance.now();
    const theory = grid.map(({ r, d }, cell) => {
      if (theoryKind === 'n2m1') return theoreticalPhaseN2M1(r, 1 / d);
      if (theoryKind !== 'n3m2') return null;
      if (ctx.signal?.aborted) throw new Error('phase: aborted while computing the theoretical diagram');
      const t = theoreticalPhaseN3M2(r, 1 / d);
      ctx.progress.update(cell + 1, grid.length, 'cells', (performance.now() - t0) / 1000);
      return t;
    });
    // without biases (n = 2, m = 1): the best model per cell, on the exact loss
    const biasFree = theoryKind === 'n2m1' ? grid.map(({ r, d }) => biasFreeN2M1(r, 1 / d)) : undefined;
    return { sweep, theory: theory.map((t) => t && { phase: t.phase, losses: t.losses }), ...(biasFree ? { biasFree } : {}) };
  },
  analyze(c, { sweep, theory, biasFree }) {
    const n = c.features;
    const { grid, sparsity, importance, theoryKind } = phaseGrid(c);
    const R = c.restarts;
    const classes = classifyFeature(asWeights(sweep.params.W), n - 1);
    // Restarts are compared on the exact expected loss where it is cheap (n ≤ 3), else on held-out samples the
    // cell's restarts share: with sparse features the minibatch loss hardly sees co-occurring features, so it
    // cannot tell the solutions apart.
    const exact = hasExactLoss(n);
    const Ws = sweep.params.W as number[][][];
    const bs = sweep.params.b as number[][];
    const selectionLoss = exact
      ? Ws.map((W, k) => expectedReluOutputLoss(W, bs[k], importance[k], 1 - sparsity[k][0]) / n)
      : restartLoss(sweep);
    const cells: PhaseCellResult[] = grid.map(({ r, d }, cell) => {
      const restarts = Array.from({ length: R }, (_, j) => cell * R + j).sort((a, b) => selectionLoss[a] - selectionLoss[b]);
      const kept = R >= 2 ? restarts.slice(0, -1) : restarts;
      const phaseShares = Object.fromEntries(PHASES.map((ph) => [ph, round9(kept.filter((k) => classes[k] === ph).length / kept.length)])) as Record<Phase, number>;
      // 'paper': the most common phase of the kept restarts (ties: the lower-loss restart's); 'best': the lowest-loss restart
      const top = Math.max(...Object.values(phaseShares));
      const best = c.protocol === 'paper' ? kept.find((k) => phaseShares[classes[k]] === top)! : restarts[0];
      const t = theory[cell];
      return {
        density: round9(d),
        sparsity: round9(1 - 1 / d),
        relativeImportance: round9(r),
        empirical: classes[best],
        theoretical: t?.phase ?? null,
        ...(theoryKind === 'n3m2' ? { paperTheoretical: paperPhaseN3M2(r, 1 / d).phase } : {}),
        ...(biasFree ? { biasFree: roundSolution(biasFree[cell]) } : {}),
        // no candidate in a phase (loss Infinity) is written as null, never as a number
        theoreticalLosses: t
          ? (Object.fromEntries(Object.entries(t.losses).map(([k, v]) => [k, v !== null && Number.isFinite(v) ? v : null])) as Record<Phase, number | null>)
          : null,
        phaseShares,
        loss: sweep.finalLoss[best],
        expectedLoss: exact ? selectionLoss[best] : null,
        W: Ws[best],
        b: bs[best],
      };
    });
    const agreement = theoryKind !== null ? cells.filter((x) => x.empirical === x.theoretical).length / cells.length : null;
    const surfaces =
      theoryKind === 'n2m1'
        ? SURFACES.map(([r, p]) => {
            const { w, loss } = biasFreeLossSurface(r, p, { points: 31 });
            return { relativeImportance: r, density: p, w: w.map(round9), loss: loss.map((row) => row.map(round9)), minimum: roundSolution(biasFreeN2M1(r, p)) };
          })
        : undefined;
    return {
      results: {
        cells,
        agreement,
        history: sweep.history.filter((_, i) => i % 10 === 9),
        heldOut: heldOutResults({ 'relu-output': sweep }),
        ...(surfaces ? { surfaces } : {}),
      },
      tensors: { 'relu-output.W': tensorFromNested(sweep.params.W), 'relu-output.b': tensorFromNested(sweep.params.b) },
      summary: agreement !== null ? `phase: empirical and theoretical diagrams agree on ${(agreement * 100).toFixed(0)}% of cells` : undefined,
    };
  },
  figures(c, { cells, agreement, surfaces }) {
    const toCells = (key: 'empirical' | 'theoretical'): PhaseCell[] =>
      cells.map((x) => ({
        x: x.density,
        y: x.relativeImportance,
        phase: x[key] as string,
        // the paper shades each empirical cell by the share of runs in its phase
        ...(key === 'empirical' && c.protocol === 'paper' && x.phaseShares ? { share: x.phaseShares[x.empirical] } : {}),
      }));
    const diagrams = [{ title: `empirical (n=${c.features}, m=${c.hidden})`, cells: toCells('empirical') }];
    if (agreement !== null) diagrams.push({ title: 'theoretical (analytic losses)', cells: toCells('theoretical') });
    if (cells.every((x) => x.paperTheoretical)) {
      diagrams.push({ title: "the paper's four closed forms", cells: cells.map((x) => ({ x: x.density, y: x.relativeImportance, phase: x.paperTheoretical! })) });
    }
    const figures: Record<string, VegaLiteSpec> = { phase: phaseDiagramSpec(diagrams, { title: 'How the extra feature is represented' }) };
    if (surfaces && cells.every((x) => x.biasFree)) {
      figures['phase-bias-free'] = {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Without biases (n=2, m=1): a fourth, "confused" phase, and the exact loss surfaces',
        vconcat: [
          stripSchema(phaseDiagramSpec([{ title: 'best bias-free model (exact loss)', cells: cells.map((x) => ({ x: x.density, y: x.relativeImportance, phase: x.biasFree!.phase })) }])),
          stripSchema(
            lossSurfaceSpec(
              surfaces.map((s) => ({
                title: `r=${s.relativeImportance}, 1−S=${s.density}: ${s.minimum.phase}`,
                w: s.w,
                loss: s.loss,
                marks: [s.minimum.W, [-s.minimum.W[0], -s.minimum.W[1]]],
              })),
              { size: 160 },
            ),
          ),
        ],
        resolve: { scale: { color: 'independent' } },
      };
    }
    return figures;
  },
});

