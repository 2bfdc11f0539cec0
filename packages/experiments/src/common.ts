import { hiddenLayerErrors, linearOptimumLoss, reconstructionErrors } from '@tms/analysis';
import { OPTIMIZERS, ReluOutputModel, SCHEDULES, createModel, hiddenLayout, tf, tiedLayout, train, trainingBytes, type ToyModel, type TrainingShape, type Divergence, type ModelConfig, type ModelKind, type OptimizerConfig, type ParamArray, type TrainProgress, type TrainResult } from '@tms/core';
import { ConfigError, FiniteDataset, SparseFeatures, checkInt, checkLength, checkNumber, expandPerFeature, geometricImportance, type ConfigFromSchema, type SparseFeaturesConfig, type FeatureSet, type PerFeature } from '@tms/data';
import type { RunContext } from './types.js';
import { toyModelCost, trainUnits, type TrainingUnit, type UnitsOptions } from './units.js';

/** Round to 9 significant digits: exact for float32 values, and short in JSON. */
export function round9(v: number): number {
  return Number(v.toPrecision(9));
}

/** Nested number arrays of one instance's parameter, `[rows][cols]` (or `[cols]` for rank 2). */
export function paramInstance(p: ParamArray, instance: number): number[] | number[][] {
  const [, ...rest] = p.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  const flat = Array.from(p.data.subarray(instance * size, (instance + 1) * size), round9);
  if (rest.length === 1) return flat;
  const cols = rest[rest.length - 1];
  const out: number[][] = [];
  for (let r = 0; r < flat.length; r += cols) out.push(flat.slice(r, r + cols));
  return out;
}

/**
 * Training diverged: an instance's loss or weights became NaN or ±Infinity.
 * Nothing non-finite is kept: the experiment stops (the CLI exits with code 3).
 */
export class DivergenceError extends Error {
  /** The first instances to diverge, with the logged step where it was seen. */
  readonly diverged: Divergence[];
  constructor(label: string, diverged: Divergence[], optimizer: OptimizerConfig) {
    const first = diverged[0];
    const more = diverged.length > 1 ? ` and ${diverged.length - 1} more instance${diverged.length > 2 ? 's' : ''}` : '';
    const wd = optimizer.weightDecay ? ` or the weight decay (${optimizer.weightDecay})` : '';
    super(
      `${label}: training diverged at step ${first.step} (instance ${first.instance}${more}: loss or weights became NaN or ±Infinity); ` +
        `the likely cause is a learning rate (${optimizer.lr ?? 1e-3}) too large for this model${wd}: lower it and run again`,
    );
    this.name = 'DivergenceError';
    this.diverged = diverged;
  }
}

/** Settings for {@link trainToyModels}: the model's size (as `createModel` takes it), data and training. */
export interface TrainToyOptions extends Pick<ModelConfig, 'kind' | 'instances' | 'features' | 'hidden'> {
  /** Sparsity S per instance and feature (a number, per feature, or per instance and feature). */
  sparsity: PerFeature;
  /** Importance Iᵢ, shaped like `sparsity`. */
  importance: PerFeature;
  /** Values uniform on [−1, 1] instead of [0, 1]. */
  signed?: boolean;
  /** Training steps. */
  steps: number;
  /** Samples per instance per step (the training set's size with `finiteDataset`). */
  batchSize: number;
  /** Adam or AdamW and its settings. */
  optimizer: OptimizerConfig;
  /** Learning-rate schedule (default constant). */
  schedule?: (typeof SCHEDULES)[number];
  /** Linear warm-up steps (default 0). */
  warmupSteps?: number;
  /** Seed of the weights; the data use seed + 1. */
  seed: number;
  /**
   * Global index of the first instance (default 0): a sweep trained in chunks
   * passes each chunk's start, so every instance's weights and data come from
   * streams keyed by (seed, global index) and the chunk size changes nothing.
   */
  firstInstance?: ModelConfig['firstInstance'];
  /**
   * Adversarial training (ReLU-output models only; trains with autodiff): per
   * instance, the size of the paper's per-feature attack added to every
   * training input, as a fraction of that input's L2 norm (0: none). See
   * {@link AdversarialReluOutputModel}.
   */
  adversarialEpsilon?: number[];
  /** Scale of the initial weights (see `ModelConfig.initScale`; default 1). */
  initScale?: ModelConfig['initScale'];
  /** Xavier fans of the official notebook's batched tensor (see `ModelConfig.xavierInstances`; default: per matrix). */
  xavierInstances?: ModelConfig['xavierInstances'];
  /** The signs of the abs model's initial W₂ (see `ModelConfig.w2Signs`; default `'normal'`). */
  w2Signs?: ModelConfig['w2Signs'];
  /** Record the loss every this many steps. */
  logEvery: number;
  /** Correlated / anticorrelated feature sets. */
  sets?: FeatureSet[];
  /** Rescale every sample to unit norm (see `SparseFeaturesConfig.unitNorm`). */
  unitNorm?: boolean;
  /**
   * Train on a fixed training set: `batchSize` samples drawn once per dataset,
   * every step a full batch (a `FiniteDataset`). Consecutive groups of
   * `replicas` instances (default 1) share one dataset, e.g. several
   * initialisations of each; dataset d draws from data stream d.
   */
  finiteDataset?: { replicas?: number };
  /** Steps (ascending) at which to copy the parameters; they must be multiples of `logEvery`. */
  snapshotSteps?: number[];
  /** L1 penalty on hidden activations, one λ per instance (trains with autodiff). */
  activationL1?: number[];
  /**
   * Fresh samples per instance on which the trained models' loss is measured
   * (default {@link heldOutSampleCount}; 0 skips it). They come from the training
   * distribution with the seed {@link heldOutSeed}, never from the training stream.
   */
  heldOutSamples?: number;
  /**
   * Consecutive groups of this many instances (default 1), e.g. the restarts of
   * one setting, are measured on the same held-out samples, up to sixteen times as many as
   * {@link heldOutSampleCount} gives one instance: the lowest of a group is then the best model,
   * not the one with the easiest samples. The instances of a group must share
   * their sparsity; with `finiteDataset`, the group size is a multiple of its
   * `replicas`.
   */
  heldOutGroups?: number;
}

/** Held-out samples are drawn and evaluated in chunks of this many per instance. */
const HELD_OUT_CHUNK = 1024;

/**
 * The default number of held-out samples of one instance: enough for about
 * 256 non-zero values of its rarest feature (sparse losses are noisy), from
 * 16,384 (about ±1 % on dense losses) to 131,072 samples (when `shared`, sixteen times that count
 * before the upper clamp, from 262,144 to 524,288), and at most
 * 2²⁶ / (n · m) (at least 1,024) so that the evaluation stays a small part of a run; a multiple of 1,024.
 * It depends on the instance and its group alone, so a sweep cut into chunks (of whole groups) measures the same.
 *
 * @param minProbability - the smallest non-zero feature probability 1 − Sᵢ of the instance
 * @param shared - the samples pick the best of a group of restarts (`heldOutGroups`): sixteen times as many (at most 524,288).
 *   Restarts of one setting differ by 1–5 % in loss, mostly on the rare samples where two features (or
 *   correlated sets) co-occur, a few hundred in 65,536 at 1 − S = 0.03. With four times as many,
 *   `nonuniform`'s three correlated pairs (seed 4, 1 − S = 0.03) kept a model 4.9 % worse on 2,000,000 fresh
 *   samples than the best of its 4 restarts (its 65,536 samples held 210 co-occurrences, 173 ± 15 expected)
 */
export function heldOutSampleCount(features: number, hidden: number, minProbability: number, shared = false): number {
  const wanted = Math.min(shared ? 524_288 : 131_072, (shared ? 16 : 1) * Math.max(16_384, Math.ceil(256 / Math.max(minProbability, 1e-9))));
  const count = Math.min(wanted, Math.max(HELD_OUT_CHUNK, Math.floor(2 ** 26 / (features * Math.max(1, hidden)))));
  return Math.ceil(count / HELD_OUT_CHUNK) * HELD_OUT_CHUNK;
}

/**
 * The data seed of the held-out samples of a run with seed `seed`: the
 * training data use `seed + 1`, the held-out data this other stream.
 */
export function heldOutSeed(seed: number): number {
  return ((seed + 1) ^ 0x7e575eed) >>> 0;
}

/** The trained models' loss on fresh samples, and the best a linear model could do, per instance. */
export interface HeldOut {
  /** Loss (the training objective without any penalty) on fresh samples. */
  loss: number[];
  /** Fresh samples each instance was measured on. */
  samples: number[];
  /**
   * Mean squared error of each output on those samples, `[instances][features]`,
   * unweighted: a feature is "computed" when it is well below its target's
   * variance on the same samples (`targetSquare − targetMean²`), what the best
   * constant output scores. Kept in checkpoints, not in `results.json`.
   */
  featureError?: number[][];
  /**
   * Mean of each output's target on those samples, `[instances][features]`: with
   * `targetSquare`, the variance a feature's error is measured against on its own
   * samples (`targetSquare − targetMean²`). Sparse features are non-zero in few
   * of them, and the analytic variance would add the sampling noise of the error
   * unopposed. Kept in checkpoints, not in `results.json`.
   */
  targetMean?: number[][];
  /** Mean squared target of each output on those samples, `[instances][features]`: the all-zero output's error. */
  targetSquare?: number[][];
  /**
   * The analytic loss of the best linear model with as many hidden dimensions
   * (`linearOptimumLoss` of `@tms/analysis`), or null where it has no closed
   * form (correlated feature sets, unit-norm samples).
   */
  linearOptimum: (number | null)[];
}

/** A trained batch of models as plain data. */
export interface TrainedToyModels {
  /** The trained parameters by name. */
  params: Record<string, ParamArray>;
  /** What `train()` returned: losses, steps, engine, divergence. */
  result: TrainResult;
  /** Parameter copies at `snapshotSteps`. */
  snapshots: { step: number; params: Record<string, ParamArray> }[];
  /** Loss on fresh samples and the linear optimum (absent when `heldOutSamples` is 0). */
  heldOut?: HeldOut;
}

/**
 * Per-output squared errors of the library's models on plain arrays (float64, no tfjs backend op), or undefined
 * for a model that declares no layout (a subclass, a custom model): its `forward()` is the only truth.
 */
async function plainErrors(model: ToyModel): Promise<{ abs: boolean; errors: (x: Float32Array, samples: number[]) => number[][] } | undefined> {
  const read = async (v: tf.Variable) => ({ data: (await v.data()) as Float32Array, shape: v.shape });
  const tied = tiedLayout(model);
  if (tied) {
    const [W, b] = await Promise.all([read(tied.W), read(tied.b)]);
    return { abs: false, errors: (x, samples) => reconstructionErrors(W, b.data, x, { activation: tied.activation, samples }) };
  }
  const hidden = hiddenLayout(model);
  if (hidden) {
    const [W1, W2, b] = await Promise.all([read(hidden.W1), hidden.W2 ? read(hidden.W2) : null, read(hidden.b)]);
    return { abs: hidden.target === 'abs', errors: (x, samples) => hiddenLayerErrors(W1, W2, b.data, x, { target: hidden.target, samples }) };
  }
  return undefined;
}

/**
 * Loss of `model` on fresh samples of `data` (the held-out streams; consecutive groups of
 * `replicas` instances share a data instance: the training replicas, or `heldOutGroups`), `wanted` per instance or
 * {@link heldOutSampleCount}'s, drawn in chunks of 1,024; and the analytic
 * linear optimum per instance.
 */
async function evaluateHeldOut(model: ToyModel, o: TrainToyOptions, data: SparseFeaturesConfig, replicas: number, wanted?: number): Promise<HeldOut> {
  const I = o.instances;
  const n = o.features;
  const source = new SparseFeatures(data);
  const counts = Array.from({ length: I }, (_, i) => {
    if (wanted !== undefined) return wanted;
    const row = source.probability.subarray(Math.floor(i / replicas) * n, (Math.floor(i / replicas) + 1) * n);
    const minProbability = row.reduce((a, p) => (p > 0 && p < a ? p : a), 1);
    return heldOutSampleCount(n, o.hidden, minProbability, (o.heldOutGroups ?? 1) > 1);
  });
  const importance = expandPerFeature(o.importance, I, n, 'importance');
  // the library's models (tied: linear, ReLU output; a ReLU hidden layer: privileged, |x|) are evaluated on plain
  // arrays, others (subclasses, custom models) through forward()
  const plain = await plainErrors(model);
  // Σ over samples of each output's squared error (the loss is Σᵢ Iᵢ·errorᵢ / n per sample), target and squared target
  const total = new Float64Array(I * n);
  const targetSum = new Float64Array(I * n);
  const targetSquareSum = new Float64Array(I * n);
  const samples = Math.max(...counts);
  for (let done = 0; done < samples; done += HELD_OUT_CHUNK) {
    const B = Math.min(HELD_OUT_CHUNK, samples - done);
    const batch = source.sample(B);
    let values = batch.data;
    if (replicas > 1) {
      values = new Float32Array(I * B * n);
      for (let i = 0; i < I; i++) values.set(batch.data.subarray(Math.floor(i / replicas) * B * n, (Math.floor(i / replicas) + 1) * B * n), i * B * n);
    }
    // an instance's samples are the first counts[i] of its stream
    const used = counts.map((c) => Math.max(0, Math.min(B, c - done)));
    let err: ArrayLike<number>;
    if (plain) {
      // plain arrays: no tfjs backend op, whatever backend (a GPU too) trained the model; the target is x or |x|
      err = plain.errors(values, used).flat();
      for (let i = 0; i < I; i++) {
        for (let s = 0; s < used[i]; s++) {
          for (let f = 0; f < n; f++) {
            const v = plain.abs ? Math.abs(values[(i * B + s) * n + f]) : values[(i * B + s) * n + f];
            targetSum[i * n + f] += v;
            targetSquareSum[i * n + f] += v * v;
          }
        }
      }
    } else {
      // read back asynchronously: tfjs-webgpu in Node has no synchronous read (it needs OffscreenCanvas)
      const moments = tf.tidy(() => {
        const x = tf.tensor3d(values, [I, B, n]);
        const y = model.target(x);
        return [tf.mean(tf.square(tf.sub(y, model.forward(x))), 1), tf.mean(y, 1), tf.mean(tf.square(y), 1)];
      });
      const [errors, mean, square] = await Promise.all(moments.map((t) => t.data()));
      tf.dispose(moments);
      err = errors;
      for (let i = 0; i < I; i++) {
        for (let f = 0; f < n; f++) {
          targetSum[i * n + f] += mean[i * n + f] * used[i];
          targetSquareSum[i * n + f] += square[i * n + f] * used[i];
        }
      }
    }
    for (let i = 0; i < I; i++) for (let f = 0; f < n; f++) total[i * n + f] += err[i * n + f] * used[i];
  }
  const perFeature = (sums: Float64Array) => Array.from({ length: I }, (_, i) => Array.from({ length: n }, (_, f) => sums[i * n + f] / counts[i]));
  const featureError = perFeature(total);
  const closedForm = !o.sets?.length && !o.unitNorm;
  const probability = closedForm ? source.probability : undefined;
  return {
    loss: featureError.map((e, i) => round9(e.reduce((a, v, f) => a + importance[i * n + f] * v, 0) / n)),
    samples: counts,
    featureError: featureError.map((e) => e.map(round9)),
    targetMean: perFeature(targetSum).map((e) => e.map(round9)),
    targetSquare: perFeature(targetSquareSum).map((e) => e.map(round9)),
    linearOptimum: Array.from({ length: I }, (_, i) => {
      if (!probability) return null;
      const row = Math.floor(i / replicas) * n;
      const opts = { signed: o.signed ?? false, target: o.kind === 'abs' ? ('abs' as const) : ('identity' as const) };
      return round9(linearOptimumLoss(probability.subarray(row, row + n), importance.subarray(i * n, (i + 1) * n), o.hidden, opts));
    }),
  };
}

/** The features `0 … features − 1` split into `count` sets of equal size, in order, all of one `mode`. */
export function equalSets(features: number, count: number, mode: FeatureSet['mode'] = 'correlated'): FeatureSet[] {
  const size = features / count;
  return Array.from({ length: count }, (_, s) => ({ features: Array.from({ length: size }, (_, j) => s * size + j), mode }));
}

/** The cosine of two feature directions (0 when either is zero). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  const d = a.reduce((s, x, i) => s + x * b[i], 0);
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  return na > 0 && nb > 0 ? d / (na * nb) : 0;
}

/** Cosines between every pair of rows Wᵢ of one `[features][hidden]` model, rounded for results.json. */
export function cosines(W: readonly (readonly number[])[]): number[][] {
  return W.map((a) => W.map((b) => round9(cosine(a, b))));
}

/**
 * Angles (degrees) between neighbouring directions of 2D vectors, sorted
 * around the circle: five at 72° for a regular pentagon.
 */
export function neighbourAngles(vectors: readonly (readonly number[])[]): number[] {
  const angles = vectors.map(([x, y]) => Math.atan2(y, x)).sort((a, b) => a - b);
  return angles.map((a, i) => (((i + 1 < angles.length ? angles[i + 1] : angles[0] + 2 * Math.PI) - a) * 180) / Math.PI);
}

/** Identity forward, zero gradient: the attack direction is a constant of each step. */
const stopGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({ value: tf.clone(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }));

/**
 * A ReLU-output model trained against the paper's adversarial attack (section
 * "Relationship to Adversarial Robustness"): every training input x gets the
 * attack on a random feature i, ε·‖x‖ (WᵀW)ᵢ / ‖(WᵀW)ᵢ‖ (the optimal small L2
 * attack for that feature, from the current weights, held constant in the
 * gradient), and the model must still output the clean x. It is not one of
 * the fused engines' built-in models, so it trains with autodiff.
 */
export class AdversarialReluOutputModel extends ReluOutputModel {
  /** Attack inputs in `forward` (true while training; false for clean evaluation). */
  attacking = true;
  private readonly epsilon: tf.Tensor3D;
  private readonly seed: number;
  private calls = 0;

  /**
   * @param config - the model (kind `relu-output`)
   * @param epsilon - per instance, the attack's size as a fraction of each input's L2 norm
   */
  constructor(config: ModelConfig, epsilon: number[]) {
    super(config);
    checkLength(epsilon, config.instances, 'adversarialEpsilon');
    epsilon.forEach((e, i) => checkNumber(e, `adversarialEpsilon[${i}]`, 0, 10));
    this.epsilon = tf.tensor3d(epsilon, [epsilon.length, 1, 1]);
    this.seed = config.seed ?? 0;
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    if (!this.attacking) return super.forward(x);
    const call = this.calls++;
    return tf.tidy(() => {
      const [I, B, n] = x.shape;
      const W = stopGradient(this.params.W) as tf.Tensor3D;
      const G = tf.matMul(W, W, false, true); // (WᵀW)ᵢⱼ = Wᵢ·Wⱼ, [I, n, n]
      const U = tf.div(G, tf.add(tf.norm(G, 'euclidean', 2, true), 1e-12));
      const feature = tf.randomUniform([I, B], 0, n, 'int32', (this.seed * 0x9e3779b1 + call) >>> 0);
      const direction = tf.matMul(tf.cast(tf.oneHot(feature as tf.Tensor2D, n), 'float32') as tf.Tensor3D, U as tf.Tensor3D); // [I, B, n]
      const size = tf.mul(tf.norm(x, 'euclidean', 2, true), this.epsilon);
      return super.forward(tf.add(x, tf.mul(direction, size)) as tf.Tensor3D);
    });
  }

  dispose(): void {
    this.epsilon.dispose();
    super.dispose();
  }
}

/**
 * Create, train and read back a batch of toy models, reporting progress to the
 * run context. The model seed is `seed`, the data seed `seed + 1`; instance `i`
 * uses the streams of global instance `firstInstance + i` of both. Where the
 * context has a `trainToy` hook (replicate seeds trained together), the call
 * goes through it; the models are the same.
 */
export async function trainToyModels(o: TrainToyOptions, ctx: RunContext, label: string): Promise<TrainedToyModels> {
  if (ctx.trainToy) return ctx.trainToy(o, label, ctx);
  const [r] = await trainToyModelsTogether([o], ctx, label);
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

/**
 * What calls of {@link trainToyModels} must share to be trained as one batch
 * by {@link trainToyModelsTogether}: every option but the seed. Null for
 * options that never join (adversarial training draws its attacks from one
 * stream per batch).
 */
export function togetherKey(o: TrainToyOptions): string | null {
  if (o.adversarialEpsilon) return null;
  const { seed: _seed, ...rest } = o;
  return JSON.stringify(rest);
}

/** `v` for `times` copies of a batch: per-instance rows repeated, a number or per-feature row kept. */
function repeatRows(v: PerFeature, times: number): PerFeature {
  if (times === 1 || typeof v === 'number' || !v.length || typeof v[0] === 'number') return v;
  return Array.from({ length: times }, () => Array.from(v as ArrayLike<ArrayLike<number>>, (row) => Array.from(row))).flat();
}

/** One row of per-instance `v` per group of `size` consecutive rows, which must be equal (a number or per-feature row is kept). */
function groupRows(v: PerFeature, size: number, field: string): PerFeature {
  if (size === 1 || typeof v === 'number' || !v.length || typeof v[0] === 'number') return v;
  const rows = Array.from(v as ArrayLike<ArrayLike<number>>, (row) => Array.from(row));
  return rows.filter((row, i) => {
    const first = rows[i - (i % size)];
    if (row.some((x, f) => x !== first[f])) throw new ConfigError('heldOutGroups', `groups of instances with one ${field} each (instance ${i} differs from ${i - (i % size)})`, size);
    return i % size === 0;
  });
}

/** Indices `from … from + count − 1`. */
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/**
 * Train several calls of {@link trainToyModels} that differ only in their
 * seed (see {@link togetherKey}) as one batch: the instances of part k
 * follow those of part k − 1, each starting from its own seed's weights and
 * drawing its own data streams (`SparseFeaturesConfig.streams`), held-out
 * samples included. Each part gets what {@link trainToyModels} gives it
 * alone, timings aside (`result.seconds` is the joint batch's), on any
 * engine whose instances are independent (all of this library's). A part
 * whose instances diverge is rejected with its {@link DivergenceError}; the
 * others are unaffected.
 *
 * @returns one settled result per part, in order
 */
export async function trainToyModelsTogether(parts: readonly TrainToyOptions[], ctx: RunContext, label: string): Promise<PromiseSettledResult<TrainedToyModels>[]> {
  if (!parts.length) return [];
  const o = parts[0];
  const K = parts.length;
  if (K > 1) {
    const key = togetherKey(o);
    if (key === null || parts.some((p) => togetherKey(p) !== key)) throw new Error(`${label}: ${K} batches trained together must differ in their seed only (and not train adversarially)`);
  }
  const I = o.instances;
  const firstInstance = o.firstInstance ?? 0;
  if (o.heldOutSamples !== undefined) checkInt(o.heldOutSamples, 'heldOutSamples', 0, 1 << 24);
  const modelConfig = { kind: o.kind, instances: K * I, features: o.features, hidden: o.hidden, seed: o.seed, firstInstance, ...(o.initScale === undefined ? {} : { initScale: o.initScale }), ...(o.xavierInstances === undefined ? {} : { xavierInstances: o.xavierInstances }), ...(o.w2Signs === undefined ? {} : { w2Signs: o.w2Signs }) };
  let adversarial: AdversarialReluOutputModel | undefined;
  if (o.adversarialEpsilon) {
    if (o.kind !== 'relu-output') throw new ConfigError('adversarialEpsilon', "unset unless kind is 'relu-output'", o.adversarialEpsilon);
    adversarial = new AdversarialReluOutputModel(modelConfig, o.adversarialEpsilon);
  }
  const model = adversarial ?? createModel(modelConfig);
  try {
    if (K > 1) {
      // each part starts from the weights of its own seed
      const initial = await Promise.all(
        parts.map(async (p) => {
          const alone = createModel({ ...modelConfig, instances: I, seed: p.seed });
          try {
            return await alone.getParams();
          } finally {
            alone.dispose();
          }
        }),
      );
      model.setParams(Object.fromEntries(Object.keys(initial[0]).map((name) => [name, concatInstances(initial.map((p) => p[name]))])));
    }
    const replicas = o.finiteDataset?.replicas ?? 1;
    if (I % replicas !== 0 || firstInstance % replicas !== 0) {
      throw new Error(`${label}: ${I} instances from instance ${firstInstance} do not split into datasets of ${replicas} replicas`);
    }
    const groups = o.heldOutGroups ?? replicas;
    checkInt(groups, 'heldOutGroups', 1, I);
    if (I % groups !== 0 || firstInstance % groups !== 0 || groups % replicas !== 0) {
      throw new ConfigError('heldOutGroups', `a divisor of the instances (${I}) and of the first instance (${firstInstance}), and a multiple of finiteDataset.replicas (${replicas})`, groups);
    }
    // part k's datasets draw from streams (seed_k + 1, firstInstance / replicas + d), its held-out samples from
    // (heldOutSeed(seed_k), firstInstance / groups + d): one stream per group of instances
    const streams = (seedOf: (p: TrainToyOptions) => number, per: number) => {
      const D = I / per;
      return K === 1 ? { seed: seedOf(o), firstInstance: firstInstance / per } : { streams: { seeds: parts.flatMap((p) => new Array<number>(D).fill(seedOf(p))), indices: parts.flatMap(() => range(firstInstance / per, D)) } };
    };
    const dataConfig: SparseFeaturesConfig = {
      instances: (K * I) / replicas,
      features: o.features,
      sparsity: repeatRows(o.sparsity, K),
      signed: o.signed,
      sets: o.sets,
      unitNorm: o.unitNorm,
      ...streams((p) => p.seed + 1, replicas),
      generator: o.sets?.length ? undefined : ctx.generator,
    };
    const joint: TrainToyOptions = { ...o, instances: K * I, sparsity: dataConfig.sparsity!, importance: repeatRows(o.importance, K), ...(o.activationL1 ? { activationL1: parts.flatMap((p) => p.activationL1!) } : {}) };
    const source = new SparseFeatures(dataConfig);
    const data = o.finiteDataset ? new FiniteDataset(source, o.batchSize, { replicas }) : source;
    const snapshots: TrainedToyModels['snapshots'] = [];
    const wanted = new Set(o.snapshotSteps ?? []);
    ctx.progress.reset(K === 1 ? label : `${label} (${K} seeds in one batch)`);
    const result = await train({
      model,
      data,
      engines: ctx.engines,
      importance: joint.importance,
      steps: o.steps,
      batchSize: o.batchSize,
      optimizer: o.optimizer,
      schedule: { name: o.schedule ?? 'constant', warmupSteps: o.warmupSteps ?? 0 },
      logEvery: o.logEvery,
      signal: ctx.signal,
      activationL1: joint.activationL1,
      onProgress: async (p: TrainProgress) => {
        if (wanted.has(p.step)) snapshots.push({ step: p.step, params: await model.getParams() });
        const mean = p.loss.reduce((a, b) => a + b, 0) / p.loss.length;
        ctx.progress.update(p.step, p.totalSteps, `loss ${mean.toExponential(3)} | ${p.stepsPerSecond.toFixed(0)} steps/s`, p.elapsedSeconds);
      },
    });
    if (result.aborted) throw new Error(`${label}: training aborted at step ${result.steps}`);
    const diverged = parts.map((_, k) => result.diverged.filter((d) => d.instance >= k * I && d.instance < (k + 1) * I).map((d) => ({ ...d, instance: d.instance - k * I })));
    // held-out loss of the model itself, without attacks
    if (adversarial) adversarial.attacking = false;
    // (streams() sets the same keys for the held-out seeds)
    const heldOutData = { ...dataConfig, instances: (K * I) / groups, sparsity: groupRows(dataConfig.sparsity!, groups / replicas, 'sparsity'), ...streams((p) => heldOutSeed(p.seed), groups) };
    const heldOut = o.heldOutSamples === 0 || diverged.every((d) => d.length) ? undefined : await evaluateHeldOut(model, joint, heldOutData, groups, o.heldOutSamples);
    const params = await model.getParams();
    if (K === 1) return [diverged[0].length ? { status: 'rejected', reason: new DivergenceError(label, diverged[0], o.optimizer) } : { status: 'fulfilled', value: { params, result, snapshots, ...(heldOut ? { heldOut } : {}) } }];
    return parts.map((_, k): PromiseSettledResult<TrainedToyModels> => {
      if (diverged[k].length) return { status: 'rejected', reason: new DivergenceError(label, diverged[k], o.optimizer) };
      const part = <V>(values: V[]) => values.slice(k * I, (k + 1) * I);
      return {
        status: 'fulfilled',
        value: {
          params: partParams(params, k, I),
          result: { ...result, history: result.history.map((h) => ({ step: h.step, loss: part(h.loss) })), finalLoss: part(result.finalLoss), diverged: [] },
          snapshots: snapshots.map((snap) => ({ step: snap.step, params: partParams(snap.params, k, I) })),
          ...(heldOut ? { heldOut: pickHeldOut(heldOut, part) } : {}),
        },
      };
    });
  } finally {
    model.dispose();
  }
}

/** The held-out results of the instances `pick` keeps (in its order). */
function pickHeldOut(h: HeldOut, pick: <V>(values: V[]) => V[]): HeldOut {
  const out: HeldOut = { loss: pick(h.loss), samples: pick(h.samples), linearOptimum: pick(h.linearOptimum) };
  for (const k of HELD_OUT_PER_FEATURE) if (h[k]) out[k] = pick(h[k]);
  return out;
}

/** The optional per-feature arrays of a {@link HeldOut}, `[instances][features]`. */
const HELD_OUT_PER_FEATURE = ['featureError', 'targetMean', 'targetSquare'] as const;

/** Parameters of batches joined along the instance axis, in order. */
function concatInstances(parts: readonly ParamArray[]): ParamArray {
  const data = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, shape: [parts.reduce((a, p) => a + p.shape[0], 0), ...parts[0].shape.slice(1)] };
}

/** Instances `k·count … (k + 1)·count − 1` of every parameter. */
function partParams(params: Record<string, ParamArray>, k: number, count: number): Record<string, ParamArray> {
  return Object.fromEntries(
    Object.entries(params).map(([name, p]) => {
      const size = p.data.length / p.shape[0];
      return [name, { data: p.data.slice(k * count * size, (k + 1) * count * size), shape: [count, ...p.shape.slice(1)] }];
    }),
  );
}

/** Mean of the last `k` recorded losses of each instance: a less noisy final loss. */
export function tailMeanLoss(history: { loss: number[] }[], k = 10): number[] {
  const tail = history.slice(-k);
  if (!tail.length) return [];
  return tail[0].loss.map((_, i) => tail.reduce((s, h) => s + h.loss[i], 0) / tail.length);
}

/** Same value for every feature of each instance: `[instances][features]`. */
export function perInstance(values: number[], features: number): number[][] {
  return values.map((v) => new Array<number>(features).fill(v));
}

/**
 * Defaults of the training fields: the paper's 10,000 steps of Adam at 1e-3 on
 * batches of 1,024, constant rate. (The official notebook uses AdamW with
 * weight decay 0.01: the experiments' `notebook` variants.)
 */
const TRAINING_DEFAULTS = {
  steps: 10_000,
  batchSize: 1024,
  lr: 1e-3,
  optimizer: 'adam' as (typeof OPTIMIZERS)[number],
  weightDecay: 0,
  schedule: 'constant' as (typeof SCHEDULES)[number],
  seed: 0,
  logEvery: 100,
};

/** The defaults {@link trainingFields} takes. */
export type TrainingDefaults = typeof TRAINING_DEFAULTS;

/**
 * The schema fields every training experiment has (steps, batch size,
 * optimizer, weight decay, learning rate and its schedule, seed, logging),
 * with the paper's defaults unless overridden.
 */
export function trainingFields(defaults: Partial<TrainingDefaults> = {}) {
  const d = { ...TRAINING_DEFAULTS, ...defaults };
  return {
    steps: { type: 'int', min: 1, max: 10_000_000, doc: 'training steps', default: d.steps },
    batchSize: { type: 'int', min: 1, max: 1_000_000, doc: 'samples per instance per step', default: d.batchSize },
    lr: { type: 'number', min: 0, max: 10, doc: 'learning rate', default: d.lr },
    optimizer: { type: 'enum', options: OPTIMIZERS, doc: 'optimizer (the official notebook: adamw)', default: d.optimizer },
    weightDecay: { type: 'number', min: 0, max: 10, doc: 'weight decay: decoupled with adamw, added to the gradient with adam (the notebook: adamw, 0.01)', default: d.weightDecay },
    schedule: { type: 'enum', options: SCHEDULES, doc: "learning-rate schedule ('quarter-cosine' is the notebook's cosine_decay_lr)", default: d.schedule },
    seed: { type: 'int', min: 0, max: 0xffffffff, doc: 'seed of weights (seed) and data (seed + 1)', default: d.seed },
    logEvery: { type: 'int', min: 1, doc: 'record the loss every this many steps', default: d.logEvery },
  } as const;
}

/**
 * The official notebook's sparsities: feature probabilities 1 − S from 1 down to
 * 1/20, log-spaced (`20 ** -np.linspace(0, 1, count)`), as S rounded to 9 digits.
 */
export function notebookSparsities(count: number): number[] {
  return Array.from({ length: count }, (_, k) => round9(1 - 20 ** -(count > 1 ? k / (count - 1) : 0)));
}

/** The official notebook's optimizer: PyTorch's AdamW with its default weight decay. */
export const NOTEBOOK_OPTIMIZER = { optimizer: 'adamw', weightDecay: 0.01 } as const;

/** Common training fields of experiment configs. */
export type TrainingFields = ConfigFromSchema<ReturnType<typeof trainingFields>>;

/** An experiment's {@link TrainingFields} as {@link TrainToyOptions} fields: its optimizer at `lr`, with its schedule. */
export function trainingOptions(c: TrainingFields): Pick<TrainToyOptions, 'steps' | 'batchSize' | 'optimizer' | 'schedule' | 'seed' | 'logEvery'> {
  return {
    steps: c.steps,
    batchSize: c.batchSize,
    optimizer: { name: c.optimizer, lr: c.lr, weightDecay: c.weightDecay },
    schedule: c.schedule,
    seed: c.seed,
    logEvery: c.logEvery,
  };
}

/** Nested `[instances][rows][cols]` copy of a batched parameter. */
export function paramNested(p: ParamArray): number[][][] {
  return Array.from({ length: p.shape[0] }, (_, i) => paramInstance(p, i) as number[][]);
}

/** Prefix the names of a model's parameters, for a safetensors file. */
export function prefixed(prefix: string, params: Record<string, ParamArray>): Record<string, ParamArray> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [`${prefix}.${k}`, v]));
}

/** Flatten nested `[instances][rows][cols]` (or `[instances][cols]`) arrays into a tensor for safetensors. */
export function tensorFromNested(values: number[][][] | number[][]): { data: Float32Array; shape: number[] } {
  const first = values[0] as unknown[];
  if (first !== undefined && Array.isArray(first[0])) {
    const v = values as number[][][];
    const shape = [v.length, v[0].length, v[0][0].length];
    return { data: Float32Array.from(v.flat(2)), shape };
  }
  const v = values as number[][];
  return { data: Float32Array.from(v.flat()), shape: [v.length, v[0]?.length ?? 0] };
}

/** A trained sparsity sweep as JSON-friendly data (what checkpoints store). */
export interface SweepResult {
  /** Parameters by name, nested per instance. */
  params: Record<string, number[][][] | number[][]>;
  /** Per-instance loss at the end (mean of the last 10 records). */
  finalLoss: number[];
  /** Recorded losses: per logged step, one per instance. */
  history: { step: number; loss: number[] }[];
  /** Training time. */
  seconds: number;
  /** Parameter snapshots (only when requested). */
  snapshots?: { step: number; params: Record<string, number[][][] | number[][]> }[];
  /** Per-instance loss on fresh samples and the linear optimum (absent from checkpoints written before they existed). */
  heldOut?: HeldOut;
}

function nestParams(params: Record<string, ParamArray>): Record<string, number[][][] | number[][]> {
  return Object.fromEntries(
    Object.entries(params).map(([k, p]) => [
      k,
      p.shape.length === 3 ? paramNested(p) : Array.from({ length: p.shape[0] }, (_, i) => paramInstance(p, i) as number[]),
    ]),
  );
}

/**
 * One batch of models as a training unit (key `key`, cost {@link toyModelCost}):
 * trains it and returns it as plain data, for {@link trainUnits}.
 */
export function sweepUnit(key: string, o: TrainToyOptions, ctx: RunContext, label = key): TrainingUnit<SweepResult> {
  return {
    key,
    cost: toyModelCost(o),
    async compute() {
      const t = await trainToyModels(o, ctx, label);
      return {
        params: nestParams(t.params),
        finalLoss: tailMeanLoss(t.result.history).map(round9),
        history: t.result.history.map((h) => ({ step: h.step, loss: h.loss.map(round9) })),
        seconds: round9(t.result.seconds),
        ...(t.snapshots.length ? { snapshots: t.snapshots.map((s) => ({ step: s.step, params: nestParams(s.params) })) } : {}),
        ...(t.heldOut ? { heldOut: t.heldOut } : {}),
      };
    },
  };
}

/** Train one batch of models as the run's one unit `key` (see {@link sweepUnit}) and return it as plain data. */
export async function trainSweep(key: string, o: TrainToyOptions, ctx: RunContext, label = key, options?: UnitsOptions): Promise<SweepResult> {
  const [sweep] = await trainUnits(ctx, [sweepUnit(key, o, ctx, label)], options);
  return sweep;
}

/**
 * Sweeps trained in chunks of instances (see `firstInstance`) joined into one,
 * in order: parameters, final losses and each history record concatenated
 * along instances, seconds summed.
 */
export function joinSweeps(sweeps: readonly SweepResult[]): SweepResult {
  if (sweeps.length === 1) return sweeps[0];
  const first = sweeps[0];
  const join = <V>(get: (s: SweepResult) => V[]): V[] => sweeps.flatMap(get);
  const joinParams = (get: (s: SweepResult) => SweepResult['params']) =>
    Object.fromEntries(Object.keys(get(first)).map((k) => [k, join((s) => get(s)[k] as unknown[])])) as SweepResult['params'];
  return {
    params: joinParams((s) => s.params),
    finalLoss: join((s) => s.finalLoss),
    history: first.history.map((h, i) => ({ step: h.step, loss: join((s) => s.history[i].loss) })),
    seconds: round9(sweeps.reduce((a, s) => a + s.seconds, 0)),
    ...(first.snapshots ? { snapshots: first.snapshots.map((snap, i) => ({ step: snap.step, params: joinParams((s) => s.snapshots![i].params) })) } : {}),
    ...(sweeps.every((s) => s.heldOut)
      ? {
          heldOut: {
            loss: join((s) => s.heldOut!.loss),
            samples: join((s) => s.heldOut!.samples),
            linearOptimum: join((s) => s.heldOut!.linearOptimum),
            ...Object.fromEntries(HELD_OUT_PER_FEATURE.filter((k) => sweeps.every((s) => s.heldOut![k])).map((k) => [k, join((s) => s.heldOut![k]!)])),
          },
        }
      : {}),
  };
}

/** What `results.json` reports of a batch's held-out evaluation: per instance, and the ratio to the linear optimum. */
export interface HeldOutResults extends Omit<HeldOut, (typeof HELD_OUT_PER_FEATURE)[number]> {
  /** Held-out loss over the linear optimum (below 1: the model beats every linear model of its width); null without one. */
  ratioToLinear: (number | null)[];
}

/**
 * The held-out results of trained batches by label (e.g. `{ "relu-output": sweep }`),
 * for an experiment's `results.heldOut`. Batches without a held-out evaluation are left out.
 */
export function heldOutResults(batches: Record<string, { heldOut?: HeldOut } | undefined>): Record<string, HeldOutResults> {
  const out: Record<string, HeldOutResults> = {};
  for (const [label, b] of Object.entries(batches)) {
    const h = b?.heldOut;
    if (!h) continue;
    out[label] = {
      loss: h.loss,
      samples: h.samples,
      linearOptimum: h.linearOptimum,
      ratioToLinear: h.loss.map((l, i) => {
        const opt = h.linearOptimum[i];
        return opt === null || opt === undefined || !(opt > 0) ? null : round9(l / opt);
      }),
    };
  }
  return out;
}

/** A nested `[instances][features][hidden]` array as `@tms/analysis` weights. */
export function asWeights(W: number[][][] | number[][]): { data: Float64Array; shape: number[] } {
  const t = tensorFromNested(W);
  return { data: Float64Array.from(t.data), shape: t.shape };
}

/**
 * Schema of the experiments that train one model per sparsity (intro-2d,
 * adversarial, computation, privileged, sae, l1): the bounds of n and m and the
 * experiment's defaults.
 */
export function sparsitySweepSchema(
  limits: { features: [number, number]; hidden: [number, number]; hiddenDoc?: string },
  defaults: { features: number; hidden: number; importanceBase: number; sparsities: readonly number[] } & Partial<TrainingFields>,
) {
  const { features, hidden, importanceBase, sparsities, ...training } = defaults;
  return {
    features: { type: 'int', min: limits.features[0], max: limits.features[1], doc: 'number of features n', default: features },
    hidden: { type: 'int', min: limits.hidden[0], max: limits.hidden[1], doc: limits.hiddenDoc ?? 'hidden dimensions m', default: hidden },
    importanceBase: { type: 'number', min: 0, max: 1, doc: 'importance of feature i is importanceBase^i', default: importanceBase },
    sparsities: { type: 'numbers', min: 0, max: 0.99999, doc: 'one model per sparsity S', default: sparsities },
    ...trainingFields(training),
  } as const;
}

/** Config of the experiments that train one model per sparsity. */
export type SparsitySweepConfig = ConfigFromSchema<ReturnType<typeof sparsitySweepSchema>>;

/** The options of {@link trainSparsitySweep}'s one batch: `restarts` models of `kind` per sparsity (instance s·restarts + r), each sparsity's measured on one set of held-out samples. */
export function sparsitySweepOptions(c: SparsitySweepConfig, kind: ModelKind, restarts = 1): TrainToyOptions {
  const n = c.features;
  return {
    kind,
    instances: c.sparsities.length * restarts,
    features: n,
    hidden: c.hidden,
    sparsity: perInstance(c.sparsities.flatMap((s) => new Array<number>(restarts).fill(s)), n),
    importance: geometricImportance(n, c.importanceBase),
    signed: kind === 'abs',
    ...trainingOptions(c),
    // the restarts of a sparsity are compared on the same held-out samples
    ...sharedHeldOut(restarts),
  };
}

/**
 * Train `restarts` models of `kind` per sparsity of the config (default one;
 * instance s·restarts + r), checkpointed under the kind's name. With one
 * restart the instances and their streams are those of one model per sparsity.
 */
export function trainSparsitySweep(c: SparsitySweepConfig, kind: ModelKind, ctx: RunContext, options?: UnitsOptions, restarts = 1): Promise<SweepResult> {
  return trainSweep(kind, sparsitySweepOptions(c, kind, restarts), ctx, kind, options);
}

/**
 * The options that make consecutive groups of `restarts` instances (the restarts of one setting) share their
 * held-out samples (`heldOutGroups`); none for single models, so their units' options, and checkpoint keys, stay as they were.
 */
export function sharedHeldOut(restarts: number): Pick<TrainToyOptions, 'heldOutGroups'> {
  return restarts > 1 ? { heldOutGroups: restarts } : {};
}

/** The loss restarts are compared on: the held-out loss where it was measured, else the final training loss. */
export function restartLoss(sweep: Pick<SweepResult, 'heldOut' | 'finalLoss'>): number[] {
  return sweep.heldOut?.loss ?? sweep.finalLoss;
}

/** Index of the lowest of `losses` among `from` to `from + count − 1` (the first of equal ones). */
export function lowestIndex(losses: readonly number[], from = 0, count = losses.length - from): number {
  let best = from;
  for (let i = from + 1; i < from + count; i++) if (losses[i] < losses[best]) best = i;
  return best;
}

/**
 * The lowest-loss model of each group of `restarts` consecutive instances
 * (held-out loss where measured, else the final training loss), as a sweep of
 * one instance per group: parameters, final losses, histories and held-out
 * results of the kept instances.
 */
export function keepLowestLoss(sweep: SweepResult, restarts: number): SweepResult {
  if (restarts === 1) return sweep;
  const loss = restartLoss(sweep);
  const kept = Array.from({ length: Math.ceil(loss.length / restarts) }, (_, g) => lowestIndex(loss, g * restarts, restarts));
  const pick = <V>(values: V[]) => kept.map((k) => values[k]);
  return {
    params: Object.fromEntries(Object.entries(sweep.params).map(([name, v]) => [name, pick(v as unknown[])])) as SweepResult['params'],
    finalLoss: pick(sweep.finalLoss),
    history: sweep.history.map((h) => ({ step: h.step, loss: pick(h.loss) })),
    seconds: sweep.seconds,
    ...(sweep.heldOut ? { heldOut: pickHeldOut(sweep.heldOut, pick) } : {}),
  };
}

/** The training shape of a sparsity sweep: one instance per sparsity. */
export function sweepShape(c: Pick<SparsitySweepConfig, 'sparsities' | 'features' | 'hidden' | 'batchSize'>): TrainingShape {
  return { instances: c.sparsities.length, features: c.features, hidden: c.hidden, batchSize: c.batchSize };
}

/** The shape among `shapes` that needs the most memory. */
export function largestShape(...shapes: TrainingShape[]): TrainingShape {
  return shapes.reduce((a, b) => (trainingBytes(b) > trainingBytes(a) ? b : a));
}
