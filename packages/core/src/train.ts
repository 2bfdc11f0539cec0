import { ConfigError, ShapeError, checkInt, expandPerFeature, type BatchSource, type PerFeature } from '@tms/data';
import { chooseEngine, now, yieldEvery, type Engine, type EngineSession, type EngineSkip, type TrainPlan } from './engine.js';
import { tf } from './tf.js';
import type { ToyModel } from './models.js';
import { lossPerInstance } from './loss.js';
import {
  AdamOptimizer,
  learningRateAt,
  validateOptimizerConfig,
  validateScheduleConfig,
  type OptimizerConfig,
  type ScheduleConfig,
} from './optim.js';

/** Progress report passed to {@link TrainOptions.onProgress} every `logEvery` steps and at the end. */
export interface TrainProgress {
  /** Steps completed so far. */
  step: number;
  /** Total steps requested. */
  totalSteps: number;
  /** Per-instance loss at this step. */
  loss: Float32Array;
  /** Learning rate used at this step. */
  lr: number;
  /** Training throughput since the start, steps per second. */
  stepsPerSecond: number;
  /** Seconds elapsed since the start. */
  elapsedSeconds: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** The batched model to train (modified in place). */
  model: ToyModel;
  /** Source of input batches; its `instances` and `features` must match the model. */
  data: BatchSource;
  /** Feature importance per instance and feature (see `PerFeature`). Default 1. */
  importance?: PerFeature;
  /** Number of optimisation steps. */
  steps: number;
  /** Samples per instance per step. Default 1024. */
  batchSize?: number;
  /** Optimizer. Default `{ name: 'adam', lr: 1e-3 }`. */
  optimizer?: OptimizerConfig;
  /** Learning-rate schedule. Default constant. */
  schedule?: ScheduleConfig;
  /** Record the loss (and call `onProgress`) every this many steps. Default 100. */
  logEvery?: number;
  /** Called every `logEvery` steps and after the last step. May be async. */
  onProgress?: (p: TrainProgress) => void | Promise<void>;
  /**
   * Abort training early; the result then has `aborted: true` and the model keeps its current weights.
   * Checked between segments, and inside one by engines that can stop there (autodiff between
   * steps, worker threads at once), so `steps` is the last whole segment.
   */
  signal?: AbortSignal;
  /** Yield to the event loop every this many steps so pages stay responsive. Default: every logged step. */
  yieldEvery?: number;
  /**
   * Engines to try, in order of preference: the first whose `unsupported(plan)`
   * is null trains the model. When none applies, {@link autodiffEngine} trains
   * it through the model's own `forward()`. Default `[autodiffEngine]`.
   *
   * @example
   * ```ts
   * import { fusedEngine } from '@tms/engine-fused';
   * await train({ model, data, steps: 1000, engines: [fusedEngine] });
   * ```
   */
  engines?: readonly Engine[];
  /**
   * L1 penalty on the hidden activations, λ·mean_batch ‖h‖₁ added to each
   * instance's loss (the paper's way to train models without superposition,
   * "Approach 1"): one λ for all instances or one per instance, ≥ 0. Default 0.
   * Engines that have no such penalty decline the plan; the recorded loss
   * includes the penalty.
   */
  activationL1?: number | number[];
}

/** One recorded point of the loss history. */
export interface LossRecord {
  /** The training step it was recorded at (1-based: after that many steps). */
  step: number;
  /** Per-instance loss, one number per instance. */
  loss: number[];
}

/** An instance whose loss or parameters stopped being finite. */
export interface Divergence {
  /** Index of the instance in the batch. */
  instance: number;
  /**
   * The logged step at which a NaN or ±Infinity was first seen: in its loss
   * (checked at every logged step) or its parameters (checked whenever they
   * are copied into the model: at each progress report and at the end).
   */
  step: number;
}

/**
 * Instances (of `instances`) with a non-finite value in any of `params`, each
 * laid out `[instances, …]`: how {@link train} finds diverged instances, for
 * engines that need the same test on weights they hold.
 */
export function nonFiniteRows(params: Iterable<ArrayLike<number>>, instances: number): Set<number> {
  const bad = new Set<number>();
  for (const data of params) {
    const size = data.length / instances;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad.add(Math.floor(i / size));
  }
  return bad;
}

/** {@link nonFiniteRows} of the weights an engine's `sync()` returned, else of the model's variables. */
async function nonFiniteInstances(model: ToyModel, instances: number, synced?: void | Record<string, Float32Array>): Promise<Set<number>> {
  if (synced) return nonFiniteRows(Object.values(synced), instances);
  return nonFiniteRows(await Promise.all(Object.values(model.params).map(async (v) => (await v.data()) as Float32Array)), instances);
}

/** Result of {@link train}. */
export interface TrainResult {
  /** Loss per instance recorded every `logEvery` steps (and at the last step). */
  history: LossRecord[];
  /** Per-instance loss at the last step run; empty when no step ran. */
  finalLoss: number[];
  /** Steps actually run. */
  steps: number;
  /** True when stopped by the abort signal. */
  aborted: boolean;
  /** Wall-clock seconds. */
  seconds: number;
  /** Name of the engine that trained the model (e.g. `"autodiff"`, `"fused"`). */
  engine: string;
  /** Engines passed over before it, with their reasons. */
  skipped: EngineSkip[];
  /**
   * Instances whose loss became non-finite, at the first logged step where it
   * did (empty when training stayed finite). Other instances train on: they
   * are independent.
   */
  diverged: Divergence[];
}


/** Validate `activationL1` into one λ per instance, or null when all are 0. */
function resolveActivationL1(value: number | number[] | undefined, instances: number): Float32Array | null {
  if (value === undefined) return null;
  const arr = typeof value === 'number' ? new Array<number>(instances).fill(value) : value;
  if (!Array.isArray(arr) || arr.length !== instances || arr.some((v) => typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))) {
    throw new ConfigError('activationL1', `a number ≥ 0 or an array of ${instances} numbers ≥ 0 (one per instance)`, value);
  }
  return arr.some((v) => v > 0) ? Float32Array.from(arr) : null;
}

/**
 * Validate the options of {@link train} into a {@link TrainPlan}: the one place
 * where training options are checked, for every engine.
 *
 * @throws ConfigError naming the bad option and the allowed values
 */
export function resolveTrainPlan(options: Omit<TrainOptions, 'onProgress' | 'signal' | 'yieldEvery' | 'engines'>): TrainPlan {
  const { model, data } = options;
  if (model == null || typeof model !== 'object' || typeof model.forward !== 'function' || model.config == null) {
    throw new ConfigError('model', 'a ToyModel (createModel(...) or an object with config, params and forward)', model);
  }
  if (data == null || typeof data !== 'object' || typeof data.sample !== 'function') {
    throw new ConfigError('data', 'a BatchSource (an object with instances, features and sample())', data);
  }
  if (Object.values(model.params ?? {}).some((v) => v == null || v.isDisposed)) {
    throw new ConfigError('model', 'a model whose parameters are not disposed (create a new one after dispose())', model.config?.kind);
  }
  const { instances: I, features: n } = model.config;
  if (data.instances !== I || data.features !== n) {
    throw new ConfigError(
      'data',
      `a source with ${I} instances and ${n} features (matching the model)`,
      `${data.instances} instances × ${data.features} features`,
    );
  }
  return {
    model,
    data,
    steps: checkInt(options.steps, 'steps', 0),
    batchSize: options.batchSize === undefined ? 1024 : checkInt(options.batchSize, 'batchSize', 1),
    logEvery: options.logEvery === undefined ? 100 : checkInt(options.logEvery, 'logEvery', 1),
    optimizer: validateOptimizerConfig(options.optimizer ?? { name: 'adam' }),
    schedule: validateScheduleConfig(options.schedule ?? { name: 'constant' }),
    importance: expandPerFeature(options.importance ?? 1, I, n, 'importance', 0),
    activationL1: resolveActivationL1(options.activationL1, I),
  };
}

/**
 * The autodiff engine: tfjs gradients of the importance-weighted MSE through
 * the model's own `forward()`, on the active tfjs backend. It trains any
 * {@link ToyModel} (built-in or user-written), with Adam/AdamW and the
 * activation-L1 penalty, in Node and in browsers.
 */
export const autodiffEngine: Engine = {
  name: 'autodiff',
  unsupported: () => null,
  async start(plan: TrainPlan): Promise<EngineSession> {
    const { model, data, batchSize, optimizer: opt } = plan;
    const { instances: I, features: n } = model.config;
    const imp = tf.tensor3d(plan.importance, [I, 1, n]);
    const lambda = plan.activationL1 ? tf.tensor1d(plan.activationL1) : null;
    const optimizer = new AdamOptimizer(opt);
    const vars = Object.values(model.params);
    const buffer = new Float32Array(I * batchSize * n);
    const step = (t: number, record: boolean): tf.Tensor1D | null => {
      const lr = learningRateAt(plan.schedule, opt.lr, t, plan.steps);
      let kept: tf.Tensor1D | null = null;
      tf.tidy(() => {
        const batch = data.sample(batchSize, buffer);
        const [bi, bb, bn] = batch.shape;
        if (bi !== I || bb !== batchSize || bn !== n || batch.data.length !== I * batchSize * n) {
          throw new ShapeError('batch', `[${I}, ${batchSize}, ${n}] (${I * batchSize * n} values) from data.sample(${batchSize})`, `[${batch.shape.join(', ')}] with ${batch.data.length} values`);
        }
        const x = tf.tensor3d(batch.data, batch.shape);
        const { grads } = tf.variableGrads(() => {
          let per = lossPerInstance(model, x, imp);
          if (lambda) {
            // λ_k · mean over the batch of ‖h‖₁
            const h = model.hiddenActivations(x);
            const l1norm = tf.mean(tf.sum(tf.abs(h), 2), 1) as tf.Tensor1D;
            per = tf.add(per, tf.mul(lambda, l1norm)) as tf.Tensor1D;
          }
          if (record) kept = tf.keep(per);
          return tf.sum(per) as tf.Scalar;
        }, vars);
        optimizer.apply(grads, vars, lr);
      });
      return kept;
    };
    return {
      async run(from, to, signal) {
        const pause = yieldEvery();
        for (let t = from; t < to - 1; t++) {
          // each step is one synchronous chain of tfjs calls: stop between steps
          if (signal?.aborted) throw new Error('aborted');
          step(t, false);
          await pause();
        }
        const kept = step(to - 1, true)!;
        const out = (await kept.data()) as Float32Array;
        kept.dispose();
        return out;
      },
      async sync() {},
      dispose() {
        imp.dispose();
        lambda?.dispose();
        optimizer.dispose();
      },
    };
  },
};

/**
 * Train a batch of toy-model instances with importance-weighted MSE.
 *
 * Each step draws a fresh batch from `data` and applies Adam/AdamW. The first of
 * `engines` that supports the model computes the steps; by default (and for any
 * model no engine recognises) {@link autodiffEngine} does, through the model's
 * own `forward()`, on the active tfjs backend. Non-finite losses are reported
 * per instance in `diverged`.
 *
 * @example
 * ```ts
 * const model = createModel({ kind: 'relu-output', instances: 2, features: 20, hidden: 5 });
 * const data = new SparseFeatures({ instances: 2, features: 20, sparsity: [0, 0.9], seed: 1 });
 * const result = await train({ model, data, importance: geometricImportance(20, 0.7), steps: 10_000 });
 * ```
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const plan = resolveTrainPlan(options);
  const { signal, onProgress } = options;
  const { steps, logEvery, model } = plan;
  const yieldEvery = options.yieldEvery === undefined ? logEvery : checkInt(options.yieldEvery, 'yieldEvery', 1);
  const engines = options.engines ?? [autodiffEngine];
  if (!Array.isArray(engines) || engines.some((e) => e == null || typeof e.unsupported !== 'function' || typeof e.start !== 'function')) {
    throw new ConfigError('engines', 'an array of Engine objects (e.g. [fusedEngine, autodiffEngine])', engines);
  }
  const { engine, skipped } = chooseEngine(engines, plan, autodiffEngine);
  const I = model.config.instances;
  const history: LossRecord[] = [];
  const diverged: Divergence[] = [];
  const isDiverged = new Uint8Array(I);
  const markDiverged = (k: number, at: number) => {
    if (isDiverged[k]) return;
    isDiverged[k] = 1;
    diverged.push({ instance: k, step: at });
  };
  let lastLoss: number[] = [];
  const start = now();
  let step = 0;
  let aborted = false;
  if (signal?.aborted) aborted = true;
  const session = aborted || steps === 0 ? null : await engine.start(plan);
  const next = (t: number, every: number) => (Math.floor(t / every) + 1) * every;
  let synced: void | Record<string, Float32Array> = undefined;
  try {
    while (session && step < steps) {
      // a segment ends at the next logged step or the next yield, whichever comes first
      const to = Math.min(steps, next(step, logEvery), next(step, yieldEvery));
      let loss: Float32Array;
      try {
        loss = await session.run(step, to, signal);
      } catch (e) {
        // stopped inside the segment: the run is aborted at its last whole segment
        if (signal?.aborted) {
          aborted = true;
          break;
        }
        throw e;
      }
      step = to;
      const record = step % logEvery === 0 || step === steps;
      if (record) {
        lastLoss = Array.from(loss);
        history.push({ step, loss: lastLoss });
        for (let k = 0; k < I; k++) if (!Number.isFinite(loss[k])) markDiverged(k, step);
        if (onProgress) {
          synced = await session.sync();
          for (const k of await nonFiniteInstances(model, I, synced)) markDiverged(k, step);
          const elapsed = (now() - start) / 1000;
          await onProgress({
            step,
            totalSteps: steps,
            loss,
            lr: learningRateAt(plan.schedule, plan.optimizer.lr, step - 1, steps),
            stepsPerSecond: step / Math.max(elapsed, 1e-9),
            elapsedSeconds: elapsed,
          });
        }
      }
      if (step % yieldEvery === 0) await new Promise<void>((r) => setTimeout(r, 0));
      if (step < steps && signal?.aborted) {
        aborted = true;
        break;
      }
    }
  } finally {
    if (session) {
      try {
        synced = await session.sync();
      } finally {
        await session.dispose();
      }
    }
  }
  if (session) {
    for (const k of await nonFiniteInstances(model, I, synced)) markDiverged(k, step);
    diverged.sort((a, b) => a.step - b.step || a.instance - b.instance);
  }
  return {
    history,
    finalLoss: lastLoss,
    steps: step,
    aborted,
    seconds: (now() - start) / 1000,
    engine: engine.name,
    skipped,
    diverged,
  };
}
