import { hiddenLayout, learningRateAt, tiedLayout, yieldEvery, type Engine, type EngineSession, type HiddenLayout, type ModelShape, type OptimizerConfig, type TiedLayout, type ToyModel, type TrainPlan } from '@tms/core';
import { FullBatchTiedTrainer, fullBatchData } from './fullbatch.js';
import { FusedHiddenTrainer } from './hidden.js';
import { FusedTiedTrainer } from './trainer.js';

/** Options of {@link createFusedEngine}. */
export interface FusedEngineOptions {
  /**
   * Gradient kernel: `wasm` (WebAssembly SIMD), `js` (plain JavaScript) or
   * `auto` (default: wasm where WebAssembly SIMD is available).
   */
  kernel?: 'auto' | 'wasm' | 'js';
}

/** Options of the fused engine on threads (`parallelFusedEngine`, `webWorkerFusedEngine`). */
export interface ThreadedFusedEngineOptions extends FusedEngineOptions {
  /**
   * Train on the workers even where one thread and short segments would run as fast on the
   * calling thread (which the engine then leaves to the next one): keeps that thread free,
   * e.g. a page's UI while a demo trains (default false).
   */
  offMainThread?: boolean;
}

/**
 * @internal What the fused trainers need to know of a model, from the layout it
 * declares: tied x′ = act(WᵀW x + b), or a ReLU hidden layer.
 */
export type FusedModel = { layout: 'tied'; activation: TiedLayout['activation'] } | { layout: 'hidden'; tied: boolean; target: HiddenLayout['target'] };

/** @internal The fused description of a model, or null when it declares no layout the fused engine trains. */
export function fusedModelOf(model: ToyModel): FusedModel | null {
  const tied = tiedLayout(model);
  if (tied) return { layout: 'tied', activation: tied.activation };
  const hidden = hiddenLayout(model);
  if (hidden) return { layout: 'hidden', tied: hidden.W2 === null, target: hidden.target };
  return null;
}

/**
 * Why the fused engine cannot train a plan, or null when it can: it needs a
 * model that declares a tied layout (exactly `LinearModel` or
 * `ReluOutputModel`) or a ReLU-hidden-layer layout (exactly `ReluHiddenModel`
 * or `AbsModel`), never a subclass or a look-alike, and no activation penalty.
 */
export function fusedUnsupported(plan: TrainPlan): string | null {
  if (!fusedModelOf(plan.model)) {
    return 'the model declares no layout the fused engine trains (only LinearModel, ReluOutputModel, ReluHiddenModel and AbsModel instances do; subclasses and custom models train by autodiff)';
  }
  if (plan.activationL1) return 'it has no activation-L1 penalty';
  return null;
}

/** @internal A fused trainer bound to its data: `step(lr)` is one optimisation step. */
export interface BoundTrainer {
  /** Per-instance loss of the last step. */
  readonly loss: Float64Array;
  step(lr: number): void;
  /** Copies of the parameters, by the model's parameter names, each `[instances, …]`. */
  params(): Record<string, Float32Array>;
}

/** @internal Where a bound trainer's batches come from. */
export type TrainerData =
  /** The same full batch `[I, size, n]` at every step. */
  | { type: 'full'; data: Float32Array; size: number }
  /** A fresh batch per step, drawn into the buffer it is given. */
  | { type: 'sample'; batchSize: number; sample: (batchSize: number, out: Float32Array) => Float32Array };

/**
 * @internal The fused trainer for a model and its data: full batches of a tied
 * model on {@link FullBatchTiedTrainer}, other tied batches on
 * {@link FusedTiedTrainer}, models with a ReLU hidden layer on
 * {@link FusedHiddenTrainer}. `params` holds the model's parameters by name
 * (the trainer takes them over).
 */
export function boundTrainer(
  model: FusedModel,
  params: Record<string, Float32Array>,
  shape: Pick<ModelShape, 'instances' | 'features' | 'hidden'> & { importance: Float32Array; optimizer: Required<OptimizerConfig>; kernel: NonNullable<FusedEngineOptions['kernel']> },
  data: TrainerData,
): BoundTrainer {
  if (model.layout === 'hidden') {
    const trainer = new FusedHiddenTrainer({ ...shape, W1: model.tied ? params.W : params.W1, W2: model.tied ? null : params.W2, b: params.b, target: model.target });
    const current = () => trainer.params();
    if (data.type === 'full') return { loss: trainer.loss, step: (lr) => trainer.train(data.data, data.size, lr), params: current };
    const buffer = trainer.batchBuffer(data.batchSize);
    return { loss: trainer.loss, step: (lr) => trainer.train(data.sample(data.batchSize, buffer), data.batchSize, lr), params: current };
  }
  const common = { ...shape, activation: model.activation, W: params.W, b: params.b };
  const tiedParams = (t: { W: Float32Array; b: Float32Array }) => () => ({ W: t.W.slice(), b: t.b.slice() });
  if (data.type === 'full') {
    const full = new FullBatchTiedTrainer({ ...common, data: data.data, size: data.size });
    return { loss: full.loss, step: (lr) => full.train(lr), params: tiedParams(full) };
  }
  const trainer = new FusedTiedTrainer(common);
  const buffer = trainer.batchBuffer(data.batchSize);
  return { loss: trainer.loss, step: (lr) => trainer.train(data.sample(data.batchSize, buffer), data.batchSize, lr), params: tiedParams(trainer) };
}

/** @internal Copies of a model's parameters by name, each `[instances, …]`. */
export async function paramCopies(model: ToyModel): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [name, p] of Object.entries(await model.getParams())) out[name] = p.data.slice();
  return out;
}

/**
 * The fused CPU engine: forward pass, analytic backward pass and Adam/AdamW in
 * one loop over typed arrays (WebAssembly SIMD or JS), on the calling thread.
 * Trains the library's tied models (x′ = act(WᵀW x + b)) and its models with a
 * ReLU hidden layer (`ReluHiddenModel`, `AbsModel`); `train()` falls back to
 * autodiff for anything else. Full-batch training of a tied model on a
 * `FiniteDataset` (`batchSize` equal to its `size`) runs on
 * {@link FullBatchTiedTrainer}, which keeps the training set as its non-zeros
 * and skips outputs that are off for every sample.
 *
 * @example
 * ```ts
 * import { train } from '@tms/core';
 * import { createFusedEngine } from '@tms/engine-fused';
 * await train({ model, data, steps: 5000, engines: [createFusedEngine({ kernel: 'js' })] });
 * ```
 */
export function createFusedEngine(options: FusedEngineOptions = {}): Engine {
  const kernel = options.kernel ?? 'auto';
  return {
    name: 'fused',
    unsupported: fusedUnsupported,
    async start(plan: TrainPlan): Promise<EngineSession> {
      const { instances, features, hidden } = plan.model.config;
      const shape = { instances, features, hidden, importance: plan.importance, optimizer: plan.optimizer, kernel };
      const finite = fullBatchData(plan);
      const data: TrainerData = finite
        ? { type: 'full', data: finite.data, size: finite.size }
        : { type: 'sample', batchSize: plan.batchSize, sample: (B, buffer) => plan.data.sample(B, buffer).data };
      const trainer = boundTrainer(fusedModelOf(plan.model)!, await paramCopies(plan.model), shape, data);
      return callingThreadSession(plan, trainer);
    },
  };
}

/** A session that runs the trainer's steps on the calling thread, yielding to the event loop now and then. */
function callingThreadSession(plan: TrainPlan, trainer: BoundTrainer): EngineSession {
  return {
    async run(from, to, signal) {
      const pause = yieldEvery();
      for (let t = from; t < to; t++) {
        if (signal?.aborted) throw new Error('aborted');
        trainer.step(learningRateAt(plan.schedule, plan.optimizer.lr, t, plan.steps));
        await pause();
      }
      return Float32Array.from(trainer.loss);
    },
    async sync() {
      const params = trainer.params();
      plan.model.setParams(params);
      return params;
    },
    dispose() {},
  };
}

/** The fused CPU engine with the best kernel available (see {@link createFusedEngine}). */
export const fusedEngine: Engine = createFusedEngine();
