import { MODEL_KINDS, OPTIMIZERS, SCHEDULES, type ModelKind } from '@tms/core';
import { geometricImportance } from '@tms/data';
import {
  dimensionsPerFeature,
  featureNorms,
  interference,
  representedCount,
  superposition,
} from '@tms/analysis';
import { introFigureSpec, lossCurveSpec, type IntroPanel } from '@tms/viz';
import { defaultsOf, type ConfigFromSchema } from '@tms/data';
import { NOTEBOOK_OPTIMIZER, asWeights, heldOutResults, notebookSparsities, paramInstance, paramNested, round9, tensorFromNested, trainToyModels, type HeldOut, type HeldOutResults } from './common.js';
import { defineExperiment } from './types.js';
import { toyModelCost, trainUnits, type TrainingUnit } from './units.js';


const schema = {
  /** Number of features n. */
  features: { type: 'int', min: 2, max: 4096, doc: 'number of features n', default: 20 },
  /** Hidden dimensions m. */
  hidden: { type: 'int', min: 1, max: 4096, doc: 'hidden dimensions m', default: 5 },
  /** Importance of feature i is `importanceBase^i`. */
  importanceBase: { type: 'number', min: 0, max: 1, doc: 'importance of feature i is importanceBase^i', default: 0.7 },
  /** One model instance per sparsity S. */
  sparsities: { type: 'numbers', min: 0, max: 0.99999, doc: 'one model instance per sparsity S (probability a feature is zero)', default: [0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999] },
  /** Model kinds to train (one row of the figure each). */
  models: { type: 'enums', options: MODEL_KINDS.filter((k) => k !== 'abs'), doc: 'model kinds to train, one figure row each', default: ['linear', 'relu-output'] },
  steps: { type: 'int', min: 1, max: 10_000_000, doc: 'training steps', default: 10_000 },
  batchSize: { type: 'int', min: 1, max: 1_000_000, doc: 'samples per instance per step', default: 1024 },
  lr: { type: 'number', min: 0, max: 10, doc: 'learning rate', default: 1e-3 },
  optimizer: { type: 'enum', options: OPTIMIZERS, doc: 'optimizer (the official notebook: adamw)', default: 'adam' },
  weightDecay: { type: 'number', min: 0, max: 10, doc: 'weight decay (decoupled for adamw)', default: 0 },
  schedule: { type: 'enum', options: SCHEDULES, doc: "learning-rate schedule ('quarter-cosine' is the notebook's cosine_decay_lr)", default: 'constant' },
  warmupSteps: { type: 'int', min: 0, doc: 'linear warm-up steps', default: 0 },
  seed: { type: 'int', min: 0, max: 0xffffffff, doc: 'seed of weights (seed) and data (seed + 1)', default: 0 },
  logEvery: { type: 'int', min: 1, doc: 'record the loss every this many steps', default: 100 },
} as const;

/** Config of the intro experiment. */
export type IntroConfig = ConfigFromSchema<typeof schema>;

const MODEL_TITLES: Record<string, string> = {
  linear: 'Linear model  x′ = WᵀWx + b',
  'relu-output': 'ReLU output model  x′ = ReLU(WᵀWx + b)',
  'relu-hidden': 'ReLU hidden model  x′ = ReLU(Wᵀ ReLU(Wx) + b)',
};

/** Per-instance results of the intro experiment. */
export interface IntroInstanceResult {
  /** S. */
  sparsity: number;
  /** The last recorded training loss. */
  finalLoss: number;
  /** `[n][m]`: feature i's direction Wᵢ. */
  W: number[][];
  /** `[n]`: the biases. */
  b: number[];
  /** Per feature ‖Wᵢ‖ and superposition, features represented (‖Wᵢ‖ > 0.5), m/‖W‖_F², and WᵀW. */
  metrics: {
    featureNorms: number[];
    superposition: number[];
    representedCount: number;
    dimensionsPerFeature: number;
    interference: number[][];
  };
}

/** Results of one model kind. */
export interface IntroModelResult {
  /** The model family. */
  kind: ModelKind;
  /** Training time. */
  seconds: number;
  /** One per sparsity, in the config's order. */
  instances: IntroInstanceResult[];
  /** Recorded training losses, one per instance. */
  history: { step: number; loss: number[] }[];
}

/** Results of the intro experiment. */
export interface IntroResults extends Record<string, unknown> {
  /** One per model kind, in the config's order. */
  models: IntroModelResult[];
  /** Loss on fresh samples per model kind and instance, and its ratio to the best linear model's. */
  heldOut: Record<string, HeldOutResults>;
}

/** One trained model kind: what the intro experiment checkpoints. */
export interface IntroTrainedModel {
  /** The model family. */
  kind: ModelKind;
  /** Training time. */
  seconds: number;
  /** Recorded training losses, one per instance. */
  history: { step: number; loss: number[] }[];
  /** Last logged loss per instance. */
  finalLoss: number[];
  /** `[instances][features][hidden]` and `[instances][features]`. */
  W: number[][][];
  /** `[instances][features]`. */
  b: number[][];
  /** Loss on fresh samples and the linear optimum (absent from checkpoints written before they existed). */
  heldOut?: HeldOut;
}

/**
 * The paper's introductory experiment (section "Demonstrating superposition"):
 * n = 20 features with importance 0.7^i, m = 5 hidden dimensions, one model per
 * sparsity, for a linear and a ReLU-output model. Linear models keep the 5 most
 * important features; ReLU-output models pack more and more features in
 * superposition as sparsity grows.
 */
export const intro = defineExperiment<IntroConfig, IntroTrainedModel[], IntroResults>({
  name: 'intro',
  title: 'Superposition appears as features get sparse (n=20, m=5, importance 0.7^i)',
  paperSection: 'Demonstrating Superposition (figure "WᵀW and b for linear and ReLU output models")',
  schema,
  defaults: defaultsOf(schema),
  variants: {
    quick: { steps: 2000, lr: 1e-2 },
    paper: {},
    // the paper's "rescaled version" of the basic results
    rescaled: { features: 80, hidden: 20, importanceBase: 0.9 },
    // the official notebook's run: n = 100, m = 20, I = 100^−linspace(0, 1, 100), 20 densities from 1 to 1/20, AdamW
    notebook: { features: 100, hidden: 20, importanceBase: round9(100 ** (-1 / 99)), sparsities: notebookSparsities(20), ...NOTEBOOK_OPTIMIZER },
  },
  headline(r) {
    const out: Record<string, number> = {};
    for (const m of r.models) {
      const name = m.kind === 'relu-output' ? 'relu' : m.kind;
      out[`${name}DenseRepresented`] = m.instances[0].metrics.representedCount;
      out[`${name}SparsestRepresented`] = m.instances[m.instances.length - 1].metrics.representedCount;
      // held-out loss over the analytic optimum of any linear model with m dimensions (absent from older results)
      const ratio = r.heldOut?.[m.kind]?.ratioToLinear;
      if (ratio?.length && ratio.every((v) => v !== null)) {
        out[`${name}SparsestRatioToLinear`] = ratio[ratio.length - 1]!;
        out[`${name}RatioToLinearMaxDeviation`] = Math.max(...ratio.map((v) => Math.abs(v! - 1)));
      }
    }
    return out;
  },
  trainingShape: (c) => ({ instances: c.sparsities.length, features: c.features, hidden: c.hidden, batchSize: c.batchSize }),
  async train(config, ctx) {
    const n = config.features;
    const importance = geometricImportance(n, config.importanceBase);
    const units = config.models.map(
      (kind): TrainingUnit<IntroTrainedModel> => ({
        key: `model-${kind}`,
        cost: toyModelCost({ instances: config.sparsities.length, steps: config.steps, batchSize: config.batchSize, features: n, hidden: config.hidden }),
        compute: async (): Promise<IntroTrainedModel> => {
          const trained = await trainToyModels(
            {
              kind,
              instances: config.sparsities.length,
              features: n,
              hidden: config.hidden,
              sparsity: config.sparsities.map((s) => new Array<number>(n).fill(s)),
              importance,
              steps: config.steps,
              batchSize: config.batchSize,
              optimizer: { name: config.optimizer, lr: config.lr, weightDecay: config.weightDecay },
              schedule: config.schedule,
              warmupSteps: config.warmupSteps,
              seed: config.seed,
              logEvery: config.logEvery,
            },
            ctx,
            kind,
          );
          return {
            kind,
            seconds: round9(trained.result.seconds),
            history: trained.result.history.map((h) => ({ step: h.step, loss: h.loss.map(round9) })),
            finalLoss: trained.result.finalLoss.map(round9),
            W: paramNested(trained.params.W),
            b: config.sparsities.map((_, i) => paramInstance(trained.params.b, i) as number[]),
            ...(trained.heldOut ? { heldOut: trained.heldOut } : {}),
          };
        },
      }),
    );
    return trainUnits(ctx, units);
  },
  analyze(config, trained) {
    const models = trained.map((t): IntroModelResult => {
      const W = asWeights(t.W);
      const norms = featureNorms(W);
      const sup = superposition(W);
      const counts = representedCount(W);
      const dpf = dimensionsPerFeature(W);
      const wtw = interference(W);
      return {
        kind: t.kind,
        seconds: t.seconds,
        history: t.history,
        instances: config.sparsities.map((sparsity, i) => ({
          sparsity,
          finalLoss: t.finalLoss[i],
          W: t.W[i],
          b: t.b[i],
          metrics: {
            featureNorms: norms[i].map(round9),
            superposition: sup[i].map(round9),
            representedCount: counts[i],
            dimensionsPerFeature: round9(dpf[i]),
            interference: wtw[i].map((r) => r.map(round9)),
          },
        })),
      };
    });
    return {
      results: { models, heldOut: heldOutResults(Object.fromEntries(trained.map((t) => [t.kind, t]))) },
      tensors: Object.fromEntries(
        trained.flatMap((t) => [
          [`${t.kind}.W`, tensorFromNested(t.W)],
          [`${t.kind}.b`, tensorFromNested(t.b)],
        ]),
      ),
      summary: models
        .map((m) => `${m.kind}: represented features per sparsity ${m.instances.map((inst) => `S=${inst.sparsity}: ${inst.metrics.representedCount}`).join(', ')}`)
        .join('\n'),
    };
  },
  figures(config, { models }) {
    const panels: IntroPanel[] = models.flatMap((m) =>
      m.instances.map((inst) => ({
        row: MODEL_TITLES[m.kind] ?? m.kind,
        label: `1−S = ${+(1 - inst.sparsity).toPrecision(3)}`,
        wtw: inst.metrics.interference,
        bias: inst.b,
        norms: inst.metrics.featureNorms,
        superposition: inst.metrics.superposition,
      })),
    );
    const lossSeries = models.flatMap((m) =>
      m.instances.map((inst, i) => ({
        name: `${m.kind} S=${inst.sparsity}`,
        steps: m.history.map((h) => h.step),
        loss: m.history.map((h) => Math.max(h.loss[i], 1e-12)),
      })),
    );
    return {
      intro: introFigureSpec(panels, {
        title: `WᵀW, b and ‖Wᵢ‖ (colour: superposition), n=${config.features}, m=${config.hidden}, importance ${config.importanceBase}^i`,
      }),
      loss: lossCurveSpec(lossSeries, { title: 'Training loss per instance' }),
    };
  },
});
