import { featureNorms, detectPolytopes, representedCount, superposition, type FeatureGroup } from '@tms/analysis';
import { geometricImportance } from '@tms/data';
import { featureDirectionsSpec, lineChartSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { NOTEBOOK_OPTIMIZER, asWeights, heldOutResults, notebookSparsities, round9, sparsitySweepSchema, tensorFromNested, trainSparsitySweep, sweepShape, type HeldOutResults, type SweepResult } from './common.js';
import { defineExperiment } from './types.js';

const schema = sparsitySweepSchema(
  { features: [2, 64], hidden: [2, 2], hiddenDoc: 'hidden dimensions m (2: the figure is drawn in the plane)' },
  { features: 5, hidden: 2, importanceBase: 0.9, sparsities: [0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999] },
);

/** Config of the 2D superposition experiment. */
export type Intro2dConfig = ConfigFromSchema<typeof schema>;

/** One sparsity of the 2D experiment. */
export interface Intro2dInstance {
  /** S. */
  sparsity: number;
  /** Mean of the last ten recorded training losses. */
  finalLoss: number;
  /** `[5][2]`: feature i's direction Wᵢ in the plane. */
  W: number[][];
  /** `[5]`: the biases. */
  b: number[];
  /** ‖Wᵢ‖ per feature. */
  featureNorms: number[];
  /** Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)² per feature. */
  superposition: number[];
  /** Features with ‖Wᵢ‖ > 0.5. */
  representedCount: number;
  /** Groups of features that interfere only among themselves, named (pentagon, digon, …). */
  polytopes: FeatureGroup[];
}

/**
 * Five features in two dimensions (paper: "Superposition as a phase change" /
 * the pentagon figure): ReLU-output models at increasing sparsity, with the
 * columns Wᵢ drawn in the plane. Dense: the 2 most important features get
 * orthogonal directions; sparse: all 5 spread out into a pentagon.
 */
export const intro2d = defineExperiment<Intro2dConfig, SweepResult, { instances: Intro2dInstance[]; history: SweepResult['history']; heldOut: Record<string, HeldOutResults> }>({
  name: 'intro-2d',
  title: 'Five features in two dimensions: from 2 orthogonal features to a pentagon',
  paperSection: 'Demonstrating Superposition (2D feature directions, the pentagon)',
  schema,
  defaults: defaultsOf(schema),
  variants: {
    quick: { steps: 3000, lr: 1e-2 },
    paper: {},
    // the official notebook's intro run: 10 densities from 1 to 1/20, AdamW
    notebook: { sparsities: notebookSparsities(10), ...NOTEBOOK_OPTIMIZER },
  },
  headline({ instances: inst, heldOut }) {
    const last = inst[inst.length - 1];
    const ratio = heldOut?.['relu-output']?.ratioToLinear[0];
    return {
      denseRepresented: inst[0].representedCount,
      sparsestRepresented: last.representedCount,
      sparsestPentagons: last.polytopes.filter((p) => p.name === 'pentagon').length,
      // held-out loss over the linear optimum, dense (absent from results written before it existed)
      ...(typeof ratio === 'number' ? { denseRatioToLinear: ratio } : {}),
    };
  },
  trainingShape: sweepShape,
  train: (c, ctx) => trainSparsitySweep(c, 'relu-output', ctx),
  analyze(c, sweep) {
    const W = asWeights(sweep.params.W);
    const norms = featureNorms(W);
    const sup = superposition(W);
    const counts = representedCount(W);
    const groups = detectPolytopes(W);
    const instances = c.sparsities.map((sparsity, i) => ({
      sparsity,
      finalLoss: sweep.finalLoss[i],
      W: (sweep.params.W as number[][][])[i],
      b: (sweep.params.b as number[][])[i],
      featureNorms: norms[i].map(round9),
      superposition: sup[i].map(round9),
      representedCount: counts[i],
      polytopes: groups[i].map((g: FeatureGroup) => ({ ...g, meanDimensionality: round9(g.meanDimensionality) })),
    }));
    return {
      results: { instances, history: sweep.history, heldOut: heldOutResults({ 'relu-output': sweep }) },
      tensors: { 'relu-output.W': tensorFromNested(sweep.params.W), 'relu-output.b': tensorFromNested(sweep.params.b) },
      summary: `intro-2d: represented ${instances.map((r) => `S=${r.sparsity}: ${r.representedCount}`).join(', ')}`,
    };
  },
  figures(c, { instances }) {
    const importance = geometricImportance(c.features, c.importanceBase);
    return {
      'intro-2d': featureDirectionsSpec(
        instances.map((r) => ({ label: `1−S = ${+(1 - r.sparsity).toPrecision(3)}`, W: r.W, color: importance })),
        { title: `Columns Wᵢ of ReLU-output models, n=${c.features}, m=2 (colour: importance)`, colorTitle: 'importance' },
      ),
      'intro-2d-bias': lineChartSpec(
        instances.map((r) => ({ name: `S=${r.sparsity}`, x: r.b.map((_, i) => i), y: r.b })),
        { title: 'Biases bᵢ per feature', xTitle: 'feature', yTitle: 'bᵢ', points: true },
      ),
    };
  },
});
