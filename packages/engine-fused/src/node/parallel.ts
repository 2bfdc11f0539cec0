import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConfigError, SparseFeatures, checkInt, type SparseFeaturesConfig } from '@tms/data';
import { tiedLayout, train, type Engine, type EngineSession, type OptimizerConfig, type ScheduleConfig, type TiedLayout, type TrainOptions, type TrainPlan, type TrainResult } from '@tms/core';
import { fusedEngine, fusedUnsupported, type FusedEngineOptions } from '../engine.js';

/** @internal What a worker receives. */
export interface WorkerInit {
  activation: TiedLayout['activation'];
  kernel: NonNullable<FusedEngineOptions['kernel']>;
  start: number;
  end: number;
  /** Global index of instance `start` in the data streams (`data.firstInstance + start`). */
  firstInstance: number;
  features: number;
  hidden: number;
  W: SharedArrayBuffer;
  b: SharedArrayBuffer;
  importance: Float32Array;
  optimizer: Required<OptimizerConfig>;
  schedule: Required<ScheduleConfig>;
  steps: number;
  batchSize: number;
  data: Pick<SparseFeaturesConfig, 'featureProbability' | 'signed' | 'sets' | 'seed'>;
}

/** @internal A segment of steps to run: `from` to `to − 1`. */
export interface WorkerRun {
  from: number;
  to: number;
}

/** @internal What a worker sends back after each segment. */
export type WorkerReply = { type: 'loss'; loss: number[] } | { type: 'error'; message: string };

/**
 * Estimated work per sample of the fused engine (wasm kernel plus data generation)
 * for one instance with feature density d, n features and m hidden dimensions;
 * fitted to timings of both on the benchmark configs.
 */
export function fusedCost(density: number, n: number, m: number): number {
  return n * m * (1 + density) + 4 * n * (0.5 + density);
}

/** Split instances into `parts` contiguous ranges whose total `cost`s are as equal as a greedy cut makes them. */
export function balanceRanges(cost: number[], parts: number): [number, number][] {
  const k = Math.max(1, Math.min(parts, cost.length));
  const prefix = [0];
  for (const c of cost) prefix.push(prefix[prefix.length - 1] + c);
  const total = prefix[cost.length];
  const cuts = [0];
  for (let j = 1; j < k; j++) {
    const target = (total * j) / k;
    // the cut closest to the target that leaves at least one instance for every later part
    let best = cuts[j - 1] + 1;
    for (let i = best; i <= cost.length - (k - j); i++) {
      if (Math.abs(prefix[i] - target) < Math.abs(prefix[best] - target)) best = i;
    }
    cuts.push(best);
  }
  cuts.push(cost.length);
  return cuts.slice(0, -1).map((c, j) => [c, cuts[j + 1]] as [number, number]);
}

/** Work of one segment (logged interval) of a plan, in {@link fusedCost} units. */
function segmentWork(plan: TrainPlan): number {
  const { instances: I, features: n, hidden: m } = plan.model.config;
  return I * fusedCost(1, n, m) * plan.batchSize * Math.min(plan.logEvery, plan.steps);
}

/** Segments above this much work (about a second on one core) run on a worker thread even when it is the only one. */
const HEAVY_SEGMENT = 2e9;

/** Options of {@link parallelFusedEngine}. */
export interface ParallelFusedEngineOptions extends FusedEngineOptions {
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
    unsupported(plan) {
      const why = fusedUnsupported(plan);
      if (why) return why;
      if (!(plan.data instanceof SparseFeatures)) return 'worker threads rebuild the data from a SparseFeatures config, and this data source is not one';
      // one thread pays off only when a segment is long: off the calling thread, an abort stops it at once
      if ((workers < 2 || plan.model.config.instances < 2) && segmentWork(plan) < HEAVY_SEGMENT) {
        return 'one worker thread for a short segment (the fused engine on the calling thread does the same)';
      }
      return null;
    },
    start: (plan) => startParallel(plan, workers, kernel),
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

async function startParallel(plan: TrainPlan, workers: number, kernel: WorkerInit['kernel']): Promise<EngineSession> {
  const layout = tiedLayout(plan.model)!;
  const data = plan.data as SparseFeatures;
  const { instances: I, features: n, hidden: m } = plan.model.config;
  const probability = data.probability;
  const density = Array.from({ length: I }, (_, k) => probability.subarray(k * n, (k + 1) * n).reduce((a, v) => a + v, 0) / n);
  const ranges = balanceRanges(density.map((d) => fusedCost(d, n, m)), Math.min(I, workers));
  const Wsab = new SharedArrayBuffer(I * n * m * 4);
  const bsab = new SharedArrayBuffer(I * n * 4);
  const W = new Float32Array(Wsab);
  const b = new Float32Array(bsab);
  W.set((await layout.W.data()) as Float32Array);
  b.set((await layout.b.data()) as Float32Array);

  const threads = ranges.map(([s, e]) => {
    const rows = (v: Float32Array) => Array.from({ length: e - s }, (_, k) => Array.from(v.subarray((s + k) * n, (s + k + 1) * n)));
    const init: WorkerInit = {
      activation: layout.activation,
      kernel,
      start: s,
      end: e,
      firstInstance: data.firstInstance + s,
      features: n,
      hidden: m,
      W: Wsab,
      b: bsab,
      importance: plan.importance.slice(s * n, e * n),
      optimizer: plan.optimizer,
      schedule: plan.schedule,
      steps: plan.steps,
      batchSize: plan.batchSize,
      data: { featureProbability: rows(probability), signed: data.signed, sets: data.sets.map((set) => ({ ...set })), seed: data.seed },
    };
    const script = workerScript();
    return new Worker(script.url, { workerData: init, execArgv: script.execArgv });
  });

  // one pending reply per worker; an error anywhere fails the segment
  let failure: Error | null = null;
  const waiting: ((r: WorkerReply | Error) => void)[] = [];
  threads.forEach((t, w) => {
    const deliver = (r: WorkerReply | Error) => {
      const cb = waiting[w];
      delete waiting[w];
      if (cb) cb(r);
      else if (r instanceof Error) failure ??= r;
    };
    t.on('message', (msg: WorkerReply) => deliver(msg));
    t.on('error', (e) => deliver(new Error(`training worker ${w}: ${e instanceof Error ? e.message : String(e)}`)));
    t.on('exit', (code) => {
      if (code !== 0) deliver(new Error(`training worker ${w} exited with code ${code}`));
    });
  });
  const reply = (w: number) =>
    new Promise<number[]>((resolve, reject) => {
      waiting[w] = (r) => {
        if (r instanceof Error) reject(r);
        else if (r.type === 'error') reject(new Error(`training worker ${w}: ${r.message}`));
        else resolve(r.loss);
      };
    });

  return {
    async run(from, to, signal) {
      if (failure) throw failure;
      const replies = Promise.all(threads.map((_, w) => reply(w)));
      for (const t of threads) t.postMessage({ from, to } satisfies WorkerRun);
      if (!signal) return Float32Array.from((await replies).flat());
      // an abort stops the workers at once (the session is over: train() disposes it)
      let onAbort = () => {};
      const stopped = new Promise<never>((_, reject) => {
        onAbort = () => {
          replies.catch(() => {});
          void Promise.all(threads.map((t) => t.terminate()));
          reject(new Error('aborted'));
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return Float32Array.from((await Promise.race([replies, stopped])).flat());
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    async sync() {
      plan.model.setParams({ W: W.slice(), b: b.slice() });
    },
    async dispose() {
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}

/** Options of {@link trainParallel}: those of `train()`, with the data given as a config. */
export interface ParallelTrainOptions extends Omit<TrainOptions, 'data' | 'engines' | 'activationL1'> {
  /** The sparse-feature distribution (its instances and features must match the model). */
  data: SparseFeaturesConfig;
  /** Worker threads (default: the machine's available parallelism, at most one per instance). */
  workers?: number;
}

/**
 * Train a linear or ReLU-output model with the fused CPU engine on several
 * worker threads (Node only): `train()` with `[parallelFusedEngine({ workers }),
 * fusedEngine]` and a `SparseFeatures` of `data`. The result is the same for any
 * number of workers.
 *
 * @throws ConfigError for models the fused engine cannot train
 * @example
 * ```ts
 * const model = createModel({ kind: 'relu-output', instances: 16, features: 100, hidden: 20 });
 * await trainParallel({ model, data: { instances: 16, features: 100, sparsity: 0.9, seed: 1 }, steps: 10_000 });
 * ```
 */
export async function trainParallel(o: ParallelTrainOptions): Promise<TrainResult> {
  const { workers, data, ...rest } = o;
  if (!tiedLayout(o.model)) throw new ConfigError('model', 'a LinearModel or ReluOutputModel (the fused engine trains tied models only)', o.model?.config?.kind);
  const l1 = (o as { activationL1?: unknown }).activationL1;
  if (l1 !== undefined && l1 !== 0) throw new ConfigError('activationL1', 'unset: the fused engine has no activation penalty (use train())', l1);
  return train({ ...rest, data: new SparseFeatures(data), engines: [parallelFusedEngine({ workers }), fusedEngine] });
}
