import { ConfigError, checkInt, checkOneOf, expandPerFeature, type BatchSource, type FeatureBatch, type PerFeature } from '@tms/data';
import { FUSED_KINDS, FusedTiedTrainer, fusedSupported } from './fused.js';
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
  /** Abort training early; the result then has `aborted: true` and the model keeps its current weights. */
  signal?: AbortSignal;
  /** Yield to the event loop every this many steps so pages stay responsive. Default: every logged step. */
  yieldEvery?: number;
  /**
   * How gradients are computed: `autodiff` (tfjs ops on the active backend, any
   * model), `fused` (the hand-fused CPU engine, linear and ReLU-output models
   * only) or `auto` (default: fused when the model supports it and the backend is
   * `cpu` or `wasm`, autodiff otherwise, e.g. on GPU backends).
   */
  engine?: 'auto' | 'fused' | 'autodiff';
  /**
   * L1 penalty on the hidden activations, λ·mean_batch ‖h‖₁ added to each
   * instance's loss (the paper's way to train models without superposition,
   * "Approach 1"): one λ for all instances or one per instance, ≥ 0. Default 0.
   * Needs the autodiff engine (`auto` picks it); the recorded loss includes the
   * penalty.
   */
  activationL1?: number | number[];
}

/**
 * Which engine {@link train} uses for a model on the current backend.
 *
 * @param needsAutodiff - the training options need autodiff (e.g. an activation L1 penalty)
 */
export function resolveEngine(engine: 'auto' | 'fused' | 'autodiff', model: ToyModel, needsAutodiff = false): 'fused' | 'autodiff' {
  const e = checkOneOf(engine, 'engine', ['auto', 'fused', 'autodiff'] as const);
  const supported = fusedSupported(model.config.kind);
  if (e === 'fused') {
    if (!supported) throw new ConfigError('engine', `"autodiff" or "auto" for model kind "${model.config.kind}" (fused supports ${FUSED_KINDS.join(', ')})`, e);
    if (needsAutodiff) throw new ConfigError('engine', '"autodiff" or "auto" when activationL1 is set (the fused engine has no activation penalty)', e);
    return 'fused';
  }
  if (needsAutodiff) return 'autodiff';
  if (e === 'autodiff') return 'autodiff';
  return supported && ['cpu', 'wasm'].includes(tf.getBackend()) ? 'fused' : 'autodiff';
}

/** One way of taking training steps. */
interface Engine {
  /** Apply one step; return the per-instance loss when `record`. */
  step(batch: FeatureBatch, lr: number, record: boolean): Promise<Float32Array | null>;
  /** Make the model's variables reflect the current weights. */
  sync(): void;
  /** A batch buffer the engine reads without copying, when it has one. */
  batchBuffer?(batchSize: number): Float32Array;
  dispose(): void;
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

function autodiffEngine(model: ToyModel, importance: Float32Array, opt: Required<OptimizerConfig>, l1: Float32Array | null): Engine {
  const { instances: I, features: n } = model.config;
  const imp = tf.tensor3d(importance, [I, 1, n]);
  const lambda = l1 ? tf.tensor1d(l1) : null;
  const optimizer = new AdamOptimizer(opt);
  const vars = Object.values(model.params);
  return {
    async step(batch, lr, record) {
      let kept: tf.Tensor1D | null = null;
      tf.tidy(() => {
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
      if (!kept) return null;
      const k = kept as tf.Tensor1D;
      const out = (await k.data()) as Float32Array;
      k.dispose();
      return out;
    },
    sync() {},
    dispose() {
      imp.dispose();
      lambda?.dispose();
      optimizer.dispose();
    },
  };
}

async function fusedEngine(model: ToyModel, importance: Float32Array, opt: Required<OptimizerConfig>): Promise<Engine> {
  const { kind, instances, features, hidden } = model.config;
  const W = (await model.params.W.data()) as Float32Array;
  const b = (await model.params.b.data()) as Float32Array;
  const trainer = new FusedTiedTrainer({ kind, instances, features, hidden, W: W.slice(), b: b.slice(), importance, optimizer: opt });
  return {
    async step(batch, lr, record) {
      trainer.train(batch.data, batch.shape[1], lr);
      return record ? Float32Array.from(trainer.loss) : null;
    },
    sync() {
      model.setParams({ W: trainer.W.slice(), b: trainer.b.slice() });
    },
    batchBuffer: (batchSize) => trainer.batchBuffer(batchSize),
    dispose() {},
  };
}

/** One recorded point of the loss history. */
export interface LossRecord {
  step: number;
  /** Per-instance loss, one number per instance. */
  loss: number[];
}

/** Result of {@link train}. */
export interface TrainResult {
  /** Loss per instance recorded every `logEvery` steps (and at the last step). */
  history: LossRecord[];
  /** Per-instance loss at the last step. */
  finalLoss: number[];
  /** Steps actually run. */
  steps: number;
  /** True when stopped by the abort signal. */
  aborted: boolean;
  /** Wall-clock seconds. */
  seconds: number;
  /** The engine that computed the gradients. */
  engine: 'fused' | 'autodiff';
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Train a batch of toy-model instances with importance-weighted MSE.
 *
 * Every step draws a fresh batch from `data`, computes gradients by autodiff and
 * applies Adam/AdamW. Runs inside `tf.tidy` so the tensor count stays flat; works
 * on any tfjs backend, in Node and in browsers.
 *
 * @example
 * ```ts
 * const model = createModel({ kind: 'relu-output', instances: 2, features: 20, hidden: 5 });
 * const data = new SparseFeatures({ instances: 2, features: 20, sparsity: [[...]], seed: 1 });
 * const result = await train({ model, data, importance: geometricImportance(20, 0.7), steps: 10_000 });
 * ```
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { model, data, signal, onProgress } = options;
  const { instances: I, features: n } = model.config;
  if (data.instances !== I || data.features !== n) {
    throw new ConfigError(
      'data',
      `a source with ${I} instances and ${n} features (matching the model)`,
      `${data.instances} instances × ${data.features} features`,
    );
  }
  const steps = checkInt(options.steps, 'steps', 0);
  const batchSize = options.batchSize === undefined ? 1024 : checkInt(options.batchSize, 'batchSize', 1);
  const logEvery = options.logEvery === undefined ? 100 : checkInt(options.logEvery, 'logEvery', 1);
  const yieldEvery = options.yieldEvery === undefined ? logEvery : checkInt(options.yieldEvery, 'yieldEvery', 1);
  const optConfig = validateOptimizerConfig(options.optimizer ?? { name: 'adam' });
  const schedule = validateScheduleConfig(options.schedule ?? { name: 'constant' });
  const importance = expandPerFeature(options.importance ?? 1, I, n, 'importance', 0);
  const l1 = resolveActivationL1(options.activationL1, I);
  const engineName = resolveEngine(options.engine ?? 'auto', model, l1 !== null);
  const engine = engineName === 'fused' ? await fusedEngine(model, importance, optConfig) : autodiffEngine(model, importance, optConfig, l1);
  const buffer = engine.batchBuffer?.(batchSize) ?? new Float32Array(I * batchSize * n);

  const history: LossRecord[] = [];
  let lastLoss: Float32Array = new Float32Array(I);
  const start = now();
  let step = 0;
  let aborted = false;
  try {
    while (step < steps) {
      if (signal?.aborted) {
        aborted = true;
        break;
      }
      const lr = learningRateAt(schedule, optConfig.lr, step, steps);
      const record = (step + 1) % logEvery === 0 || step + 1 === steps;
      const loss = await engine.step(data.sample(batchSize, buffer), lr, record);
      step += 1;
      if (loss) {
        lastLoss = loss;
        history.push({ step, loss: Array.from(lastLoss) });
        if (onProgress) {
          engine.sync();
          const elapsed = (now() - start) / 1000;
          await onProgress({
            step,
            totalSteps: steps,
            loss: lastLoss,
            lr,
            stepsPerSecond: step / Math.max(elapsed, 1e-9),
            elapsedSeconds: elapsed,
          });
        }
      }
      if (step % yieldEvery === 0) await new Promise<void>((r) => setTimeout(r, 0));
    }
  } finally {
    engine.sync();
    engine.dispose();
  }
  return {
    history,
    finalLoss: Array.from(lastLoss),
    steps: step,
    aborted,
    seconds: (now() - start) / 1000,
    engine: engineName,
  };
}
