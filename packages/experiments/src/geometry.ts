import { STICKY_POINTS, detectPolytopes, dimensionsPerFeature, featureDimensionality, featureNorms, logspace } from '@tms/analysis';
import { dimensionalitySpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { NOTEBOOK_OPTIMIZER, asWeights, heldOutResults, joinSweeps, perInstance, round9, tensorFromNested, trainingFields, trainingOptions, sweepUnit, type HeldOut, type HeldOutResults, type TrainingFields } from './common.js';
import { trainUnits } from './units.js';
import { defineExperiment } from './types.js';


const schema = {
  features: { type: 'int', min: 2, max: 4096, doc: 'features n (uniform importance)', default: 80 },
  hidden: { type: 'int', min: 1, max: 1024, doc: 'hidden dimensions m', default: 16 },
  /** Points along 1/(1−S), log-spaced from 1 to densityMax. */
  densityPoints: { type: 'int', min: 2, max: 200, doc: 'points along 1/(1−S)', default: 12 },
  densityMax: { type: 'number', min: 1.0001, max: 1e5, doc: 'largest 1/(1−S)', default: 100 },
  /** Instances trained per checkpointed chunk. */
  chunkSize: { type: 'int', min: 1, max: 1000, doc: 'instances per checkpointed training chunk', default: 6 },
  ...trainingFields({ steps: 5000, lr: 3e-3 }),
} as const;

/** Config of the geometry experiment. */
export type GeometryConfig = ConfigFromSchema<typeof schema>;

/** One density of the geometry experiment. */
export interface GeometryPoint {
  /** 1/(1 − S). */
  density: number;
  /** S. */
  sparsity: number;
  /** m/‖W‖_F²: dimensions per feature. */
  dimsPerFeature: number;
  /** Features with ‖Wᵢ‖ > 0.5. */
  represented: number;
  /** Dimensionality Dᵢ of each represented feature. */
  dimensionality: number[];
  /** Uniform polytopes found, by name. */
  polytopes: Record<string, number>;
}

/** The trained geometry models, one per density (chunks concatenated). */
export interface GeometryTrained {
  /** 1/(1 − S) of each instance, log-spaced. */
  densities: number[];
  /** `[instances][features][hidden]`. */
  W: number[][][];
  /** `[instances][features]`. */
  b: number[][];
  /** Loss on fresh samples and the linear optimum (absent from checkpoints written before they existed). */
  heldOut?: HeldOut;
}

/**
 * Feature geometry (paper: "The Geometry of Superposition"): uniform-importance
 * ReLU-output models over a density sweep. Dimensions per feature m/‖W‖_F² fall
 * from 1 as features get sparse and stick at fractions; each feature's
 * dimensionality Dᵢ clusters at 1, 3/4, 2/3, 1/2, 2/5, 3/8; polytopes are named.
 */
export const geometry = defineExperiment<GeometryConfig, GeometryTrained, { points: GeometryPoint[]; stickyPoints: typeof STICKY_POINTS; heldOut: Record<string, HeldOutResults> }>({
  name: 'geometry',
  title: 'Dimensions per feature and feature dimensionality vs sparsity (uniform polytopes)',
  paperSection: 'The Geometry of Superposition (feature dimensionality, uniform polytopes)',
  schema,
  defaults: defaultsOf(schema),
  variants: {
    quick: { features: 40, hidden: 10, densityPoints: 8, chunkSize: 8, steps: 3000, lr: 1e-2, batchSize: 512 },
    paper: { features: 400, hidden: 30, densityPoints: 30, chunkSize: 4, steps: 10_000, lr: 1e-3 },
    // the official notebook's run: n = 200, m = 20, 20 densities 1/(1 − S) from 1 to 20, AdamW, 10,000 steps
    notebook: { features: 200, hidden: 20, densityPoints: 20, densityMax: 20, chunkSize: 10, steps: 10_000, lr: 1e-3, ...NOTEBOOK_OPTIMIZER },
  },
  headline({ points: pts }) {
    return { denseDimsPerFeature: pts[0].dimsPerFeature, sparsestDimsPerFeature: pts[pts.length - 1].dimsPerFeature };
  },
  trainingShape: (c) => ({ instances: Math.min(c.chunkSize, c.densityPoints), features: c.features, hidden: c.hidden, batchSize: c.batchSize }),
  async train(c, ctx) {
    const n = c.features;
    const densities = logspace(1, c.densityMax, c.densityPoints);
    const units = [];
    for (let start = 0; start < densities.length; start += c.chunkSize) {
      const chunk = densities.slice(start, start + c.chunkSize);
      units.push(
        sweepUnit(
          `chunk-${start}`,
          {
            kind: 'relu-output',
            instances: chunk.length,
            features: n,
            hidden: c.hidden,
            sparsity: perInstance(chunk.map((d) => 1 - 1 / d), n),
            importance: 1,
            ...trainingOptions(c),
            // streams keyed by the global instance index: the chunk size changes nothing
            firstInstance: start,
          },
          ctx,
          `densities ${start + 1}-${start + chunk.length}/${densities.length}`,
        ),
      );
    }
    const sweep = joinSweeps(await trainUnits(ctx, units));
    return { densities, W: sweep.params.W as number[][][], b: sweep.params.b as number[][], heldOut: sweep.heldOut };
  },
  analyze(_c, { densities, W: Ws, b: bs, heldOut }) {
    const W = asWeights(Ws);
    const dpf = dimensionsPerFeature(W);
    const D = featureDimensionality(W);
    const norms = featureNorms(W);
    const groups = detectPolytopes(W);
    const points = densities.map((d, i): GeometryPoint => {
      const counts: Record<string, number> = {};
      for (const g of groups[i]) if (g.uniform) counts[g.name] = (counts[g.name] ?? 0) + 1;
      return {
        density: round9(d),
        sparsity: round9(1 - 1 / d),
        dimsPerFeature: round9(dpf[i]),
        represented: norms[i].filter((v) => v > 0.5).length,
        dimensionality: D[i].flatMap((v, f) => (norms[i][f] > 0.5 ? [round9(v)] : [])),
        polytopes: counts,
      };
    });
    return {
      results: { points, stickyPoints: STICKY_POINTS, heldOut: heldOutResults({ 'relu-output': { heldOut } }) },
      tensors: { 'relu-output.W': tensorFromNested(Ws), 'relu-output.b': tensorFromNested(bs) },
      summary: `geometry: dims/feature ${points.map((r) => r.dimsPerFeature.toFixed(2)).join(' ')}`,
    };
  },
  figures(c, { points }) {
    return {
      geometry: dimensionalitySpec(
        {
          models: points.map((r) => ({ density: r.density, dimsPerFeature: r.dimsPerFeature })),
          features: points.flatMap((r) => r.dimensionality.map((v) => ({ density: r.density, dimensionality: v }))),
          sticky: STICKY_POINTS.map((s) => ({ value: s.value, label: `${s.label} ${s.polytope}` })),
        },
        { title: `Dimensions per feature (line) and feature dimensionality Dᵢ (dots), n=${c.features}, m=${c.hidden}` },
      ),
    };
  },
});
