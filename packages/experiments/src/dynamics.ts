import { STICKY_POINTS, featureDimensionality, featureNorms, stickyPlateaus } from '@tms/analysis';
import { lineChartSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, heldOutResults, round9, tensorFromNested, trainingFields, trainingOptions, trainSweep, type SweepResult, type TrainingFields } from './common.js';
import { defineExperiment } from './types.js';


const schema = {
  features: { type: 'int', min: 2, max: 1024, doc: 'features n (uniform importance)', default: 20 },
  hidden: { type: 'int', min: 1, max: 256, doc: 'hidden dimensions m', default: 8 },
  sparsity: { type: 'number', min: 0, max: 0.9999, doc: 'sparsity S', default: 0.9 },
  /** Number of parameter snapshots, log-spaced over training. */
  snapshots: { type: 'int', min: 2, max: 1000, doc: 'number of snapshots (log-spaced steps)', default: 80 },
  ...trainingFields({ steps: 20_000, logEvery: 10 }),
} as const;

/** Config of the learning-dynamics experiment. */
export type DynamicsConfig = ConfigFromSchema<typeof schema>;

/** Results of the learning-dynamics experiment. */
export interface DynamicsResults extends Record<string, unknown> {
  /** Log-spaced training steps: each feature's dimensionality Dᵢ and norm ‖Wᵢ‖ there. */
  snapshots: { step: number; dimensionality: number[]; norms: number[] }[];
  /** The sticky levels each feature rests on, in order. */
  plateaus: number[][];
  /** Features resting on two or more levels (jumps between energy levels). */
  featuresJumping: number;
  /** Every tenth recorded loss. */
  history: SweepResult['history'];
}

/**
 * Learning dynamics (paper: "Superposition and Learning Dynamics"): snapshots of
 * every feature's dimensionality Dᵢ during training. Features move between the
 * sticky fractions in discrete jumps ("energy levels").
 */
export const dynamics = defineExperiment<DynamicsConfig, SweepResult, DynamicsResults>({
  name: 'dynamics',
  title: 'Learning dynamics: feature dimensionality jumps between fractions during training',
  paperSection: 'Superposition and Learning Dynamics',
  schema,
  defaults: defaultsOf(schema),
  variants: { quick: { steps: 6000, lr: 3e-3, snapshots: 50 }, paper: {} },
  headline(r) {
    return { featuresJumping: r.featuresJumping };
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
        ...trainingOptions(c),
        snapshotSteps,
      },
      ctx,
    );
  },
  analyze(c, sweep) {
    const snaps = (sweep.snapshots ?? []).map((s) => {
      const W = asWeights(s.params.W);
      return {
        step: s.step,
        dimensionality: featureDimensionality(W)[0].map(round9),
        norms: featureNorms(W)[0].map(round9),
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
    return {
      results: { snapshots: snaps, plateaus, featuresJumping: jumping, history: sweep.history.filter((_, i) => i % 10 === 9), heldOut: heldOutResults({ 'relu-output': sweep }) },
      tensors: { 'relu-output.W': tensorFromNested(sweep.params.W), 'relu-output.b': tensorFromNested(sweep.params.b) },
      summary: `dynamics: ${jumping} of ${c.features} features jump between sticky levels`,
    };
  },
  figures(c, { snapshots: snaps }) {
    return {
      dynamics: lineChartSpec(
        Array.from({ length: c.features }, (_, f) => ({
          name: `feature ${f}`,
          x: snaps.map((s) => s.step),
          y: snaps.map((s) => s.dimensionality[f]),
        })),
        {
          title: `Feature dimensionality Dᵢ during training (n=${c.features}, m=${c.hidden}, S=${c.sparsity})`,
          xTitle: 'step',
          yTitle: 'dimensionality Dᵢ',
          logX: true,
          rules: STICKY_POINTS.map((s) => ({ y: s.value, label: s.label })),
        },
      ),
    };
  },
});
