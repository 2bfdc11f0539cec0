/**
 * `@tms/engine-fused`: the fused CPU training engine for `@tms/core`'s
 * `train()`. Forward, analytic backward and Adam/AdamW for the library's toy
 * models run in one WebAssembly SIMD (or JS) loop over typed arrays, in Node and in
 * browsers. `@tms/engine-fused/node` adds worker threads, `@tms/engine-fused/web`
 * Web Workers (results are bit-identical for any number of either).
 *
 * @example
 * ```ts
 * import { autodiffEngine, createModel, train } from '@tms/core';
 * import { fusedEngine } from '@tms/engine-fused';
 * const result = await train({ model, data, steps: 10_000, engines: [fusedEngine, autodiffEngine] });
 * result.engine; // "fused" for the library's models, "autodiff" for subclasses and custom models
 * ```
 *
 * @packageDocumentation
 */
export { createFusedEngine, fusedEngine, fusedUnsupported, type FusedEngineOptions, type ThreadedFusedEngineOptions } from './engine.js';
export { FullBatchTiedTrainer, type FullBatchTrainerOptions } from './fullbatch.js';
export { FusedHiddenTrainer, type FusedHiddenTrainerOptions } from './hidden.js';
export { FusedTiedTrainer, fusedWasmAvailable, type FusedTrainerOptions } from './trainer.js';
export { balanceRanges, fusedCost } from './threads.js';
