import { learningRateAt, tiedLayout, tiedPlanUnsupported, yieldEvery, type Engine, type EngineSession, type TrainPlan } from '@tms/core';
import { FullBatchTiedTrainer, fullBatchData } from './fullbatch.js';
import { FusedTiedTrainer } from './trainer.js';

/** Options of {@link createFusedEngine}. */
export interface FusedEngineOptions {
  /**
   * Gradient kernel: `wasm` (WebAssembly SIMD), `js` (plain JavaScript) or
   * `auto` (default: wasm where WebAssembly SIMD is available).
   */
  kernel?: 'auto' | 'wasm' | 'js';
}

/**
 * Why the fused engine cannot train a plan, or null when it can: it needs a
 * model that declares a tied layout (exactly `LinearModel` or `ReluOutputModel`,
 * never a subclass or a look-alike) and no activation penalty
 * (`tiedPlanUnsupported` of `@tms/core`).
 */
export const fusedUnsupported: (plan: TrainPlan) => string | null = tiedPlanUnsupported;

/**
 * The fused CPU engine: forward pass, analytic backward pass and Adam/AdamW in
 * one loop over typed arrays (WebAssembly SIMD or JS), on the calling thread.
 * Trains the library's tied models (x′ = act(WᵀW x + b)); `train()` falls back
 * to autodiff for anything else. Full-batch training on a `FiniteDataset`
 * (`batchSize` equal to its `size`) runs on {@link FullBatchTiedTrainer}, which
 * keeps the training set as its non-zeros and skips outputs that are off for
 * every sample.
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
      const layout = tiedLayout(plan.model)!;
      const { instances, features, hidden } = plan.model.config;
      const W = ((await layout.W.data()) as Float32Array).slice();
      const b = ((await layout.b.data()) as Float32Array).slice();
      const common = { activation: layout.activation, instances, features, hidden, W, b, importance: plan.importance, optimizer: plan.optimizer, kernel };
      const finite = fullBatchData(plan);
      if (finite) {
        // full batch on a fixed training set: every step sees the same samples
        const full = new FullBatchTiedTrainer({ ...common, data: finite.data, size: finite.size });
        return callingThreadSession(plan, full, (lr) => full.train(lr));
      }
      const trainer = new FusedTiedTrainer(common);
      const B = plan.batchSize;
      const buffer = trainer.batchBuffer(B);
      return callingThreadSession(plan, trainer, (lr) => trainer.train(plan.data.sample(B, buffer).data, B, lr));
    },
  };
}

/** A session that runs `step(lr)` on the calling thread, yielding to the event loop now and then. */
function callingThreadSession(plan: TrainPlan, trainer: { W: Float32Array; b: Float32Array; loss: Float64Array }, step: (lr: number) => void): EngineSession {
  return {
    async run(from, to, signal) {
      const pause = yieldEvery();
      for (let t = from; t < to; t++) {
        if (signal?.aborted) throw new Error('aborted');
        step(learningRateAt(plan.schedule, plan.optimizer.lr, t, plan.steps));
        await pause();
      }
      return Float32Array.from(trainer.loss);
    },
    async sync() {
      const params = { W: trainer.W.slice(), b: trainer.b.slice() };
      plan.model.setParams(params);
      return params;
    },
    dispose() {},
  };
}

/** The fused CPU engine with the best kernel available (see {@link createFusedEngine}). */
export const fusedEngine: Engine = createFusedEngine();
