import { STICKY_POINTS, detectPolytopes, dimensionsPerFeature, featureDimensionality, featureNorms, logspace } from '@tms/analysis';
import { dimensionalitySpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, perInstance, round9, tensorFromNested, trainingFields, trainingOptions, trainSweep, type TrainingFields } from './common.js';
import type { Experiment } from './types.js';


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

/**
 * Feature geometry (paper: "The Geometry of Superposition"): uniform-importance
 * ReLU-output models over a density sweep. Dimensions per feature m/‖W‖_F² fall
 * from 1 as features get sparse and stick at fractions; each feature's
 * dimensionality Dᵢ clusters at 1, 3/4, 2/3, 1/2, 2/5, 3/8; polytopes are named.
 */
export const geometry: Experiment<GeometryConfig> = {
  name: 'geometry',
  title: 'Dimensions per feature and feature dimensionality vs sparsity (uniform polytopes)',
  paperSection: 'The Geometry of Superposition (feature dimensionality, uniform polytopes)',
  schema,
  defaults: defaultsOf(schema),
  variants: {
    quick: { features: 40, hidden: 10, densityPoints: 8, chunkSize: 8, steps: 3000, lr: 1e-2, batchSize: 512 },
    paper: { features: 400, hidden: 30, densityPoints: 30, chunkSize: 4, steps: 10_000, lr: 1e-3 },
  },
  headline(r) {
    const pts = (r as { points: { dimsPerFeature: number }[] }).points;
    return { denseDimsPerFeature: pts[0].dimsPerFeature, sparsestDimsPerFeature: pts[pts.length - 1].dimsPerFeature };
  },
  trainingShape: (c) => ({ instances: Math.min(c.chunkSize, c.densityPoints), features: c.features, hidden: c.hidden, batchSize: c.batchSize }),
  async run(c, ctx) {
    const n = c.features;
    const dens = logspace(1, c.densityMax, c.densityPoints);
    const rows: {
      density: number;
      sparsity: number;
      dimsPerFeature: number;
      represented: number;
      dimensionality: number[];
      polytopes: Record<string, number>;
    }[] = [];
    const Ws: number[][][] = [];
    const bs: number[][] = [];
    for (let start = 0; start < dens.length; start += c.chunkSize) {
      const chunk = dens.slice(start, start + c.chunkSize);
      const sweep = await trainSweep(
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
        `densities ${start + 1}-${start + chunk.length}/${dens.length}`,
      );
      const W = asWeights(sweep.params.W);
      const dpf = dimensionsPerFeature(W);
      const D = featureDimensionality(W);
      const norms = featureNorms(W);
      const groups = detectPolytopes(W);
      chunk.forEach((d, i) => {
        const counts: Record<string, number> = {};
        for (const g of groups[i]) if (g.uniform) counts[g.name] = (counts[g.name] ?? 0) + 1;
        rows.push({
          density: round9(d),
          sparsity: round9(1 - 1 / d),
          dimsPerFeature: round9(dpf[i]),
          represented: norms[i].filter((v) => v > 0.5).length,
          dimensionality: D[i].flatMap((v, f) => (norms[i][f] > 0.5 ? [round9(v)] : [])),
          polytopes: counts,
        });
        Ws.push((sweep.params.W as number[][][])[i]);
        bs.push((sweep.params.b as number[][])[i]);
      });
    }
    ctx.progress.log(`geometry: dims/feature ${rows.map((r) => r.dimsPerFeature.toFixed(2)).join(' ')}`);
    return {
      results: { points: rows, stickyPoints: STICKY_POINTS },
      figures: {
        geometry: dimensionalitySpec(
          {
            models: rows.map((r) => ({ density: r.density, dimsPerFeature: r.dimsPerFeature })),
            features: rows.flatMap((r) => r.dimensionality.map((v) => ({ density: r.density, dimensionality: v }))),
            sticky: STICKY_POINTS.map((s) => ({ value: s.value, label: `${s.label} ${s.polytope}` })),
          },
          { title: `Dimensions per feature (line) and feature dimensionality Dᵢ (dots), n=${n}, m=${c.hidden}` },
        ),
      },
      tensors: { 'relu-output.W': tensorFromNested(Ws), 'relu-output.b': tensorFromNested(bs) },
    };
  },
};
