/**
 * `@tms/engine-fused/node`: the fused CPU engine on Node worker threads.
 *
 * @example
 * ```ts
 * import { autodiffEngine, train } from '@tms/core';
 * import { fusedEngine } from '@tms/engine-fused';
 * import { parallelFusedEngine } from '@tms/engine-fused/node';
 * await train({ model, data, steps: 10_000, engines: [parallelFusedEngine({ workers: 4 }), fusedEngine, autodiffEngine] });
 * ```
 *
 * @packageDocumentation
 */
export {
  parallelFusedEngine,
  trainParallel,
  type ParallelFusedEngineOptions,
  type ParallelTrainOptions,
} from './parallel.js';
