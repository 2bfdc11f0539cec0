/**
 * `@tms/engine-fused/web`: the fused CPU engine on Web Workers, so a page trains
 * on every core. The worker script is `@tms/engine-fused/web-worker`; pass a
 * function that starts it (bundlers each have their way of making a worker from
 * a package path), e.g. with Vite:
 *
 * @example
 * ```ts
 * import FusedWorker from '@tms/engine-fused/web-worker?worker';
 * import { webWorkerFusedEngine } from '@tms/engine-fused/web';
 * const engines = [webWorkerFusedEngine({ createWorker: () => new FusedWorker() }), fusedEngine, autodiffEngine];
 * await train({ model, data, steps: 10_000, engines });
 * ```
 *
 * @packageDocumentation
 */
import { ConfigError, checkInt } from '@tms/data';
import type { Engine } from '@tms/core';
import type { ThreadedFusedEngineOptions } from '../engine.js';
import { startThreaded, threadedUnsupported, type ThreadInit, type ThreadPort } from '../threads.js';

/** Options of {@link webWorkerFusedEngine}. */
export interface WebWorkerFusedEngineOptions extends ThreadedFusedEngineOptions {
  /** Start one worker running `@tms/engine-fused/web-worker`. */
  createWorker: () => Worker;
  /** Workers (default: `navigator.hardwareConcurrency`, else 4; at most one per instance). */
  workers?: number;
}

/**
 * The fused CPU engine on Web Workers, each owning a contiguous range of
 * instances balanced by estimated cost and rebuilding its data from the
 * `SparseFeatures` config, so results are bit-identical to `fusedEngine` for
 * any number of workers. It declines (and `train()` moves on to the next engine)
 * where `parallelFusedEngine` does: data that is not a `SparseFeatures`, models
 * the fused engine cannot train, and one worker or one instance unless a
 * segment is long. Works inside a worker too (nested workers).
 */
export function webWorkerFusedEngine(options: WebWorkerFusedEngineOptions): Engine {
  if (typeof options?.createWorker !== 'function') {
    throw new ConfigError('createWorker', 'a function that starts a Web Worker running @tms/engine-fused/web-worker', options?.createWorker);
  }
  const concurrency = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  const workers = options.workers === undefined ? Math.max(1, Math.min(256, concurrency ?? 4)) : checkInt(options.workers, 'workers', 1, 256);
  const kernel = options.kernel ?? 'auto';
  const spawn = (init: ThreadInit): ThreadPort => {
    const worker = options.createWorker();
    worker.postMessage({ type: 'init', init }, Object.values(init.params).map((p) => p.buffer as ArrayBuffer));
    return {
      post: (request) => worker.postMessage(request),
      listen(onReply, onFailure) {
        worker.onmessage = (e) => onReply(e.data);
        worker.onerror = (e) => {
          e.preventDefault?.();
          onFailure(new Error(e.message || 'the worker failed to start (is createWorker starting @tms/engine-fused/web-worker?)'));
        };
      },
      terminate: () => worker.terminate(),
    };
  };
  return {
    name: 'fused-web-workers',
    unsupported: (plan) => threadedUnsupported(plan, workers, options.offMainThread === true),
    start: (plan) => startThreaded(plan, workers, kernel, spawn),
  };
}
