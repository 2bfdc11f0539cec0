import { ConfigError, checkInt, expandPerFeature, type BatchSource, type PerFeature } from '@tms/data';
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
  const importance = tf.tensor3d(expandPerFeature(options.importance ?? 1, I, n, 'importance', 0), [I, 1, n]);
  const optimizer = new AdamOptimizer(optConfig);
  const vars = Object.values(model.params);
  const buffer = new Float32Array(I * batchSize * n);

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
      const batch = data.sample(batchSize, buffer);
      let kept: tf.Tensor1D | null = null;
      tf.tidy(() => {
        const x = tf.tensor3d(batch.data, batch.shape);
        const { grads } = tf.variableGrads(() => {
          const per = lossPerInstance(model, x, importance);
          if (record) kept = tf.keep(per);
          return tf.sum(per) as tf.Scalar;
        }, vars);
        optimizer.apply(grads, vars, lr);
      });
      step += 1;
      if (record && kept) {
        const k = kept as tf.Tensor1D;
        lastLoss = (await k.data()) as Float32Array;
        k.dispose();
        history.push({ step, loss: Array.from(lastLoss) });
        if (onProgress) {
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
      } else if (step % yieldEvery === 0) {
        await new Promise<void>((r) => setTimeout(r, 0));
      }
    }
  } finally {
    importance.dispose();
    optimizer.dispose();
  }
  return {
    history,
    finalLoss: Array.from(lastLoss),
    steps: step,
    aborted,
    seconds: (now() - start) / 1000,
  };
}
