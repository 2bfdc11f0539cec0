import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  fusedSupported,
  validateOptimizerConfig,
  validateScheduleConfig,
  type LossRecord,
  type ModelKind,
  type OptimizerConfig,
  type ScheduleConfig,
  type TrainOptions,
  type TrainResult,
} from '@tms/core';
import { ConfigError, checkInt, expandPerFeature, resolveProbability, type SparseFeaturesConfig } from '@tms/data';

/** Options of {@link trainParallel}: those of `train()`, with the data given as a config. */
export interface ParallelTrainOptions extends Omit<TrainOptions, 'data' | 'engine' | 'yieldEvery' | 'activationL1'> {
  /** The sparse-feature distribution (its instances and features must match the model). */
  data: SparseFeaturesConfig;
  /** Worker threads (default: the machine's available parallelism, at most one per instance). */
  workers?: number;
}

/** @internal What a worker receives. */
export interface WorkerInit {
  kind: ModelKind;
  start: number;
  end: number;
  features: number;
  hidden: number;
  W: SharedArrayBuffer;
  b: SharedArrayBuffer;
  importance: Float32Array;
  optimizer: Required<OptimizerConfig>;
  schedule: Required<ScheduleConfig>;
  steps: number;
  batchSize: number;
  logEvery: number;
  data: Omit<SparseFeaturesConfig, 'instances' | 'features' | 'firstInstance'>;
}

/** @internal What a worker sends back. */
export type WorkerReply = { type: 'loss'; step: number; loss: number[] } | { type: 'done' } | { type: 'error'; message: string };

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

/**
 * Train a linear or ReLU-output model with the fused CPU engine on several worker
 * threads, each owning a range of instances (Node only). Every instance draws its
 * data from its own random stream, so the result is the same for any number of
 * workers, and equals `train({ engine: 'fused' })` with a `SparseFeatures` of the
 * same config.
 *
 * @example
 * ```ts
 * const model = createModel({ kind: 'relu-output', instances: 16, features: 100, hidden: 20 });
 * await trainParallel({ model, data: { instances: 16, features: 100, sparsity: 0.9, seed: 1 }, steps: 10_000 });
 * ```
 */
export async function trainParallel(o: ParallelTrainOptions): Promise<TrainResult> {
  const { model } = o;
  const { kind, instances: I, features: n, hidden: m } = model.config;
  if (!fusedSupported(kind)) throw new ConfigError('model.kind', '"linear" or "relu-output" (the fused engine)', kind);
  const l1 = (o as { activationL1?: unknown }).activationL1;
  if (l1 !== undefined && l1 !== 0) throw new ConfigError('activationL1', 'unset: the fused engine of trainParallel has no activation penalty (use train())', l1);
  if (o.data.instances !== I || o.data.features !== n) {
    throw new ConfigError('data', `a config with ${I} instances and ${n} features (matching the model)`, `${o.data.instances} × ${o.data.features}`);
  }
  const steps = checkInt(o.steps, 'steps', 0);
  const batchSize = o.batchSize === undefined ? 1024 : checkInt(o.batchSize, 'batchSize', 1);
  const logEvery = o.logEvery === undefined ? 100 : checkInt(o.logEvery, 'logEvery', 1);
  const optimizer = validateOptimizerConfig(o.optimizer ?? { name: 'adam' });
  const schedule = validateScheduleConfig(o.schedule ?? { name: 'constant' });
  const importance = expandPerFeature(o.importance ?? 1, I, n, 'importance', 0);
  const workers = Math.min(I, o.workers === undefined ? availableParallelism() : checkInt(o.workers, 'workers', 1, 256));
  const probability = resolveProbability(o.data, I, n);
  const density = Array.from({ length: I }, (_, k) => probability.subarray(k * n, (k + 1) * n).reduce((a, v) => a + v, 0) / n);
  const ranges = balanceRanges(density.map((d) => fusedCost(d, n, m)), workers);

  const params = await model.getParams();
  const Wsab = new SharedArrayBuffer(I * n * m * 4);
  const bsab = new SharedArrayBuffer(I * n * 4);
  const W = new Float32Array(Wsab);
  const b = new Float32Array(bsab);
  W.set(params.W.data);
  b.set(params.b.data);
  const sync = () => model.setParams({ W: W.slice(), b: b.slice() });

  const start = performance.now();
  const history: LossRecord[] = [];
  let lastLoss = new Float32Array(I);
  let aborted = false;
  let stepsDone = 0;
  const threads = ranges.map(([s, e]) => {
    const rows = (v: Float32Array) => Array.from({ length: e - s }, (_, k) => Array.from(v.subarray((s + k) * n, (s + k + 1) * n)));
    const init: WorkerInit = {
      kind,
      start: s,
      end: e,
      features: n,
      hidden: m,
      W: Wsab,
      b: bsab,
      importance: importance.slice(s * n, e * n),
      optimizer,
      schedule,
      steps,
      batchSize,
      logEvery,
      data: { featureProbability: rows(probability), signed: o.data.signed, sets: o.data.sets, seed: o.data.seed },
    };
    return new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const pending = new Map<number, { losses: Map<number, number[]>; count: number }>();
      let finished = 0;
      threads.forEach((t, w) => {
        t.on('error', reject);
        t.on('message', async (msg: WorkerReply) => {
          if (msg.type === 'error') return reject(new Error(`training worker ${w}: ${msg.message}`));
          if (msg.type === 'done') {
            if (++finished === threads.length) resolve();
            return;
          }
          const entry = pending.get(msg.step) ?? { losses: new Map(), count: 0 };
          entry.losses.set(w, msg.loss);
          entry.count++;
          pending.set(msg.step, entry);
          if (entry.count < threads.length) return;
          pending.delete(msg.step);
          try {
            lastLoss = Float32Array.from(ranges.flatMap((_, k) => entry.losses.get(k)!));
            stepsDone = msg.step;
            history.push({ step: msg.step, loss: Array.from(lastLoss) });
            if (o.onProgress) {
              sync();
              const elapsed = (performance.now() - start) / 1000;
              await o.onProgress({ step: msg.step, totalSteps: steps, loss: lastLoss, lr: 0, stepsPerSecond: msg.step / elapsed, elapsedSeconds: elapsed });
            }
            const go = !o.signal?.aborted;
            if (!go && msg.step < steps) aborted = true;
            for (const th of threads) th.postMessage(go ? 'go' : 'stop');
          } catch (e) {
            reject(e);
          }
        });
      });
      if (steps === 0) resolve();
    });
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
    sync();
  }
  return {
    history,
    finalLoss: Array.from(lastLoss),
    steps: stepsDone,
    aborted,
    seconds: (performance.now() - start) / 1000,
    engine: 'fused',
  };
}
