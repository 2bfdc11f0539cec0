import { featureNorms, featureRecovery, firingLatents, hiddenActivations, principalAxes, REPRESENTED_THRESHOLD, trainSparseAutoencoder } from '@tms/analysis';
import { SparseFeatures, deriveSeed } from '@tms/data';
import { lineChartSpec } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { asWeights, heldOutResults, round9, sparsitySweepSchema, tensorFromNested, trainSparsitySweep, type SparsitySweepConfig, type SweepResult, sweepShape, largestShape } from './common.js';
import { defineExperiment } from './types.js';
import { trainUnits, type TrainingUnit } from './units.js';

const schema = {
  ...sparsitySweepSchema(
    { features: [2, 256], hidden: [1, 64] },
    { features: 20, hidden: 5, importanceBase: 0.9, sparsities: [0, 0.7, 0.9, 0.97, 0.99, 0.999] },
  ),
  /** Latents of each sparse autoencoder. */
  dictionarySize: { type: 'int', min: 1, max: 4096, doc: 'latents of each sparse autoencoder', default: 80 },
  /** L1 coefficient of the autoencoder. */
  l1: { type: 'number', min: 0, max: 100, doc: 'L1 coefficient of the autoencoder', default: 0.3 },
  /** Adam steps of each autoencoder. */
  saeSteps: { type: 'int', min: 1, max: 1_000_000, doc: 'autoencoder training steps', default: 4000 },
  /** Activation vectors per autoencoder step. */
  saeBatchSize: { type: 'int', min: 1, max: 65_536, doc: 'activation vectors per autoencoder step', default: 512 },
  /** Adam learning rate of the autoencoders. */
  saeLr: { type: 'number', min: 1e-7, max: 1, doc: 'autoencoder Adam learning rate', default: 3e-3 },
  /** A feature counts as recovered when a direction has cosine above this with it. */
  threshold: { type: 'number', min: 0, max: 1, doc: 'cosine above which a feature counts as recovered', default: 0.9 },
} as const;

/** Config of the sparse-autoencoder feature-recovery experiment. */
export type SaeConfig = ConfigFromSchema<typeof schema>;

/** One sparsity of the experiment. */
export interface SaePoint {
  /** Sparsity S of the toy model and of the activations the autoencoder saw. */
  sparsity: number;
  /** 1/(1−S). */
  density: number;
  /** Features with ‖Wᵢ‖ > 0.5. */
  represented: number;
  /** Represented features matched by an autoencoder direction above the threshold. */
  recoveredBySae: number;
  /** Represented features matched by one of the m principal axes of the activations. */
  recoveredByPca: number;
  /** Mean over represented features of the best cosine with an autoencoder direction. */
  saeMmcs: number;
  /** The same for the principal axes (sign ignored). */
  pcaMmcs: number;
  /** Per represented feature (ascending index): best cosine with an autoencoder direction. */
  saeCosine: number[];
  /** Latents that never fire on a fresh batch. */
  deadLatents: number;
  /** Mean squared reconstruction error ‖h − ĥ‖² at the end of training. */
  finalReconstruction: number;
}

/** One trained autoencoder, with what analysis needs of its activations. */
export interface SaeTrainedPoint {
  /** Decoder directions, `[dictionarySize][m]`. */
  decoder: number[][];
  /** The m principal axes of fresh activations. */
  axes: number[][];
  /** Latents that never fire on fresh activations. */
  dead: number;
  /** Reconstruction error at the end of training. */
  reconstruction: number;
}

/** What the sae experiment trains: the toy models, then one autoencoder per sparsity. */
export interface SaeTrained {
  /** The toy models, one per sparsity. */
  sweep: SweepResult;
  /** One sparse autoencoder per sparsity, trained on its toy model's hidden activations. */
  autoencoders: SaeTrainedPoint[];
}

/**
 * Sparse-autoencoder feature recovery (beyond the paper; its "Sparse
 * dictionary learning" outlook): train ReLU-output toy models at several
 * sparsities, then train a sparse autoencoder on each model's hidden
 * activations h = Σᵢ xᵢ Wᵢ and ask how many of the model's represented
 * feature directions Wᵢ it recovers (cosine > threshold), against the m
 * principal axes of the same activations, the best any m orthogonal
 * directions (e.g. neurons) can do. In superposition the autoencoder finds
 * far more than m features; principal axes never can.
 */
export const sae = defineExperiment<SaeConfig, SaeTrained, { points: SaePoint[] }>({
  name: 'sae',
  title: 'Sparse autoencoders recover the features a model holds in superposition',
  paperSection: 'Beyond the paper: sparse dictionary learning',
  schema,
  defaults: defaultsOf(schema),
  variants: {
    quick: { steps: 3000, lr: 5e-3, sparsities: [0, 0.9, 0.99, 0.999], saeSteps: 2500 },
    paper: { features: 40, hidden: 10, dictionarySize: 160, saeSteps: 8000 },
  },
  headline({ points: pts }) {
    const last = pts[pts.length - 1];
    return { sparsestRepresented: last.represented, sparsestRecoveredBySae: last.recoveredBySae, sparsestRecoveredByPca: last.recoveredByPca };
  },
  // the sweep, then one autoencoder at a time on the hidden activations
  trainingShape: (c) => largestShape(sweepShape(c), { instances: 1, features: c.hidden, hidden: c.dictionarySize, batchSize: c.saeBatchSize }),
  async train(c, ctx) {
    const n = c.features;
    const m = c.hidden;
    // every shard of a sharded run needs the sweep: a prerequisite, not split
    const sweep = await trainSparsitySweep(c, 'relu-output', ctx, { prerequisite: true });
    const Ws = sweep.params.W as number[][][];
    const units = c.sparsities.map((S, k): TrainingUnit<SaeTrainedPoint> => {
      const W = Ws[k];
      // keyed by (seed, sweep point): no stream is shared with another point or seed
      const source = new SparseFeatures({ instances: 1, features: n, sparsity: S, seed: deriveSeed(c.seed, 'sae-data'), firstInstance: k });
      let xs = new Float32Array(0);
      const hidden = (B: number, out: Float32Array) => {
        if (xs.length < B * n) xs = new Float32Array(B * n);
        hiddenActivations(W, source.sample(B, xs).data, out.subarray(0, B * m));
      };
      return {
        key: `sae-${k}`,
        // training steps plus the 20,000 activations read after
        cost: 6 * (c.saeSteps * c.saeBatchSize + 20_000) * m * c.dictionarySize,
        compute: async (): Promise<SaeTrainedPoint> => {
          ctx.progress.reset(`autoencoder S=${S}`);
          const t0 = performance.now();
          const ae = trainSparseAutoencoder(hidden, {
            inputDim: m,
            dictionarySize: c.dictionarySize,
            l1: c.l1,
            steps: c.saeSteps,
            batchSize: c.saeBatchSize,
            lr: c.saeLr,
            seed: deriveSeed(c.seed, 'sae-init', k),
            signal: ctx.signal,
            onProgress: (p) =>
              ctx.progress.update(p.step, p.steps, `recon ${p.reconstruction.toExponential(2)} L1 ${p.l1.toFixed(3)}`, (performance.now() - t0) / 1000),
          });
          if (ae.steps < c.saeSteps) throw new Error(`autoencoder S=${S}: training aborted at step ${ae.steps}`);
          // fresh activations: which latents fire, and the principal axes
          const N = 20_000;
          const acts = new Float32Array(N * m);
          hidden(N, acts);
          const fires = firingLatents(ae, acts);
          return {
            decoder: ae.decoder.map((r) => r.map(round9)),
            axes: principalAxes(acts, m).map((r) => r.map(round9)),
            dead: fires.filter((f) => !f).length,
            reconstruction: round9(ae.history.at(-1)?.reconstruction ?? NaN),
          };
        },
      };
    });
    return { sweep, autoencoders: await trainUnits(ctx, units) };
  },
  analyze(c, { sweep, autoencoders }) {
    const Ws = sweep.params.W as number[][][];
    const norms = featureNorms(asWeights(Ws));
    const points = c.sparsities.map((S, k): SaePoint => {
      const represented = Ws[k].filter((_, i) => norms[k][i] > REPRESENTED_THRESHOLD);
      const ae = autoencoders[k];
      const bySae = featureRecovery(represented, ae.decoder, { threshold: c.threshold });
      const byPca = featureRecovery(represented, ae.axes, { threshold: c.threshold, signed: false });
      return {
        sparsity: S,
        density: round9(1 / (1 - S)),
        represented: represented.length,
        recoveredBySae: bySae.recovered,
        recoveredByPca: byPca.recovered,
        saeMmcs: round9(bySae.mmcs),
        pcaMmcs: round9(byPca.mmcs),
        saeCosine: bySae.maxCosine.map(round9),
        deadLatents: ae.dead,
        finalReconstruction: ae.reconstruction,
      };
    });
    return {
      results: { points, heldOut: heldOutResults({ 'relu-output': sweep }) },
      tensors: {
        'relu-output.W': tensorFromNested(sweep.params.W),
        'relu-output.b': tensorFromNested(sweep.params.b),
        'sae.decoder': tensorFromNested(autoencoders.map((a) => a.decoder)),
      },
      summary: `sae: recovered (autoencoder / principal axes / represented) ${points.map((p) => `S=${p.sparsity}: ${p.recoveredBySae}/${p.recoveredByPca}/${p.represented}`).join(', ')}`,
    };
  },
  figures(c, { points }) {
    const x = points.map((p) => p.density);
    return {
      sae: lineChartSpec(
        [
          { name: 'represented', x, y: points.map((p) => p.represented) },
          { name: 'sparse autoencoder', x, y: points.map((p) => p.recoveredBySae) },
          { name: `${c.hidden} principal axes`, x, y: points.map((p) => p.recoveredByPca) },
        ],
        {
          title: `Features recovered (cos > ${c.threshold}) from hidden activations (n=${c.features}, m=${c.hidden}, ${c.dictionarySize} latents)`,
          xTitle: '1/(1−S)  (1: dense → sparse)',
          yTitle: 'features',
          logX: true,
          points: true,
        },
      ),
    };
  },
});

