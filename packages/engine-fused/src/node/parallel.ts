import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConfigError, FiniteDataset, SparseFeatures, checkInt, type SparseFeaturesConfig } from '@tms/data';
import { train, type Engine, type TrainOptions, type TrainResult } from '@tms/core';
import { fusedEngine, fusedModelOf, type ThreadedFusedEngineOptions } from '../engine.js';
import { startThreaded, threadedUnsupported, type ThreadInit, type ThreadPort } from '../threads.js';

/** Options of {@link parallelFusedEngine}. */
export interface ParallelFusedEngineOptions extends ThreadedFusedEngineOptions {
  /** Worker threads (default: the machine's available parallelism; at most one per instance). */
  workers?: number;
}

/**
 * The fused CPU engine on Node worker threads, each owning a contiguous range
 * of instances balanced by estimated cost. Each worker rebuilds its instances'
 * data from the `SparseFeatures` config (every instance has its own random
 * stream), so results are bit-identical to {@link fusedEngine} for any number
 * of workers. It declines (and `train()` moves on to the next engine) for data
 * that is not a fresh `SparseFeatures`, wherever the fused engine does, and for
 * one worker or one instance unless a segment is long (then one worker thread
 * keeps the calling thread free, and an abort stops training at once).
 *
 * @example
 * ```ts
 * import { parallelFusedEngine } from '@tms/engine-fused/node';
 * await train({ model, data, steps: 10_000, engines: [parallelFusedEngine({ workers: 4 }), fusedEngine] });
 * ```
 */
export function parallelFusedEngine(options: ParallelFusedEngineOptions = {}): Engine {
  const workers = options.workers === undefined ? availableParallelism() : checkInt(options.workers, 'workers', 1, 256);
  const kernel = options.kernel ?? 'auto';
  return {
    name: 'fused-threads',
    unsupported: (plan) => threadedUnsupported(plan, workers, options.offMainThread === true),
    start: (plan) => startThreaded(plan, workers, kernel, spawnNodeThread),
  };
}

/**
 * The worker script: `worker.js` beside this module in the build; the built one
 * when this module runs from source (tests), since a worker thread cannot load
 * TypeScript.
 */
function workerScript(): { url: URL; execArgv?: string[] } {
  const here = import.meta.url;
  if (!/\.ts$/.test(here)) return { url: new URL('./worker.js', here) };
  // the built worker must resolve @tms/* to their builds too: drop the source condition it would inherit
  const execArgv: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    if ((args[i] === '--conditions' || args[i] === '-C') && args[i + 1] === '@tms/source') i++;
    else if (args[i] !== '--conditions=@tms/source') execArgv.push(args[i]);
  }
  return { url: new URL('../../dist/node/worker.js', here), execArgv };
}

function spawnNodeThread(init: ThreadInit): ThreadPort {
  const script = workerScript();
  const worker = new Worker(script.url, { workerData: init, execArgv: script.execArgv, transferList: Object.values(init.params).map((p) => p.buffer as ArrayBuffer) });
  return {
    post: (request) => worker.postMessage(request),
    listen(onReply, onFailure) {
      worker.on('message', onReply);
      worker.on('error', (e) => onFailure(e instanceof Error ? e : new Error(String(e))));
      worker.on('exit', (code) => {
        if (code !== 0) onFailure(new Error(`exited with code ${code}`));
      });
    },
    terminate: () => worker.terminate(),
  };
}

/** Options of {@link trainParallel}: those of `train()`, with data the worker threads can rebuild. */
export interface ParallelTrainOptions extends Omit<TrainOptions, 'data' | 'engines' | 'activationL1'> {
  /**
   * The data, as the worker threads can rebuild it: a sparse-feature
   * distribution (a `SparseFeatures` or its config), or a `FiniteDataset`
   * drawn from one and trained on full batches (`batchSize` = its size). Its
   * instances and features must match the model.
   */
  data: SparseFeaturesConfig | SparseFeatures | FiniteDataset;
  /** Worker threads (default: the machine's available parallelism, at most one per instance). */
  workers?: number;
}

/**
 * Train one of the library's models with the fused CPU engine on several
 * worker threads (Node only): `train()` with `[parallelFusedEngine({ workers }),
 * fusedEngine]` on `data` (a config becomes a `SparseFeatures`). The result is
 * the same for any number of workers.
 *
 * @throws ConfigError for models the fused engine cannot train, and for data the threads cannot rebuild
 * @example
 * ```ts
 * const model = createModel({ kind: 'relu-output', instances: 16, features: 100, hidden: 20 });
 * await trainParallel({ model, data: { instances: 16, features: 100, sparsity: 0.9, seed: 1 }, steps: 10_000 });
 * ```
 */
export async function trainParallel(o: ParallelTrainOptions): Promise<TrainResult> {
  const { workers, data, ...rest } = o;
  if (!fusedModelOf(o.model)) {
    throw new ConfigError('model', 'a LinearModel, ReluOutputModel, ReluHiddenModel or AbsModel (the models the fused engine trains)', o.model?.config?.kind);
  }
  const l1 = (o as { activationL1?: unknown }).activationL1;
  if (l1 !== undefined && l1 !== 0) throw new ConfigError('activationL1', 'unset: the fused engine has no activation penalty (use train())', l1);
  const source = data instanceof SparseFeatures || data instanceof FiniteDataset ? data : new SparseFeatures(data);
  if (source instanceof FiniteDataset && (!(source.source instanceof SparseFeatures) || (o.batchSize ?? 1024) !== source.size)) {
    throw new ConfigError(
      'data',
      `a FiniteDataset drawn from a SparseFeatures and trained on full batches (batchSize ${source.size}), which worker threads rebuild`,
      source.source instanceof SparseFeatures ? `batchSize ${o.batchSize ?? 1024}` : 'another data source',
    );
  }
  return train({ ...rest, data: source, engines: [parallelFusedEngine({ workers }), fusedEngine] });
}
