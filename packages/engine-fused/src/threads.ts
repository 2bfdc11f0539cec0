// The fused engine on several threads, whatever they are: Node worker threads
// (./node) or Web Workers (./web). Each thread owns a contiguous range of
// instances and rebuilds its data from the SparseFeatures config (and, for a
// FiniteDataset drawn from one, its size and replicas), so results are
// bit-identical for any number of threads. No Node or DOM imports here.
import { FiniteDataset, SparseFeatures, type SparseFeaturesConfig } from '@tms/data';
import { fullBatchData } from './fullbatch.js';
import { learningRateAt, type EngineSession, type OptimizerConfig, type ScheduleConfig, type TrainPlan } from '@tms/core';
import { boundTrainer, fusedModelOf, fusedUnsupported, paramCopies, type FusedEngineOptions, type FusedModel, type TrainerData } from './engine.js';

/** @internal What a thread receives first: its instances, weights, data and optimizer. */
export interface ThreadInit {
  model: FusedModel;
  kernel: NonNullable<FusedEngineOptions['kernel']>;
  /** Instances `start` to `end − 1` of the model. */
  start: number;
  end: number;
  /** The key of each data stream this range uses (its instances', or for a FiniteDataset its datasets'), as `SparseFeaturesConfig.streams`. */
  streams: { seeds: number[]; indices: number[] };
  features: number;
  hidden: number;
  /** This range's parameters by the model's names, each `[(end − start), …]`. */
  params: Record<string, Float32Array>;
  importance: Float32Array;
  optimizer: Required<OptimizerConfig>;
  schedule: Required<ScheduleConfig>;
  steps: number;
  batchSize: number;
  data: Pick<SparseFeaturesConfig, 'featureProbability' | 'signed' | 'unitNorm' | 'sets' | 'generator'>;
  /**
   * Set when the plan trains full batches of a FiniteDataset drawn from that
   * SparseFeatures: its size and replicas. `data.featureProbability` then has a
   * row per dataset of the range's datasets, and the thread's instances
   * begin `offset` instances into the first of them.
   */
  finite?: { size: number; replicas: number; offset: number };
}

/** @internal What the driver asks a thread: a segment of steps `from` to `to − 1`, or its weights. */
export type ThreadRequest = { type: 'run'; from: number; to: number } | { type: 'weights' };

/** @internal What a thread answers. */
export type ThreadReply = { type: 'loss'; loss: number[] } | { type: 'weights'; params: Record<string, Float32Array> } | { type: 'error'; message: string };

/**
 * @internal The thread side: builds the trainer for `init` and returns the
 * handler of each later request, with the buffers to transfer in its reply.
 */
export function threadWorker(init: ThreadInit): (request: ThreadRequest) => { reply: ThreadReply; transfer: ArrayBuffer[] } {
  const { start, end, features: n, hidden: m } = init;
  const shape = { kernel: init.kernel, instances: end - start, features: n, hidden: m, importance: init.importance, optimizer: init.optimizer };
  const lrAt = (t: number) => learningRateAt(init.schedule, init.optimizer.lr, t, init.steps);
  let data: TrainerData;
  if (init.finite) {
    const { size, replicas, offset } = init.finite;
    const datasets = init.data.featureProbability as number[][];
    const source = new SparseFeatures({ ...init.data, instances: datasets.length, features: n, streams: init.streams });
    const all = new FiniteDataset(source, size, { replicas }).data;
    data = { type: 'full', data: all.subarray(offset * size * n, (offset + end - start) * size * n), size };
  } else {
    const source = new SparseFeatures({ ...init.data, instances: end - start, features: n, streams: init.streams });
    data = { type: 'sample', batchSize: init.batchSize, sample: (B, buffer) => source.sample(B, buffer).data };
  }
  const trainer = boundTrainer(init.model, init.params, shape, data);
  return (request) => {
    try {
      if (request.type === 'weights') {
        const params = trainer.params();
        return { reply: { type: 'weights', params }, transfer: Object.values(params).map((p) => p.buffer as ArrayBuffer) };
      }
      for (let t = request.from; t < request.to; t++) trainer.step(lrAt(t));
      return { reply: { type: 'loss', loss: Array.from(trainer.loss) }, transfer: [] };
    } catch (e) {
      return { reply: { type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }, transfer: [] };
    }
  };
}

/** @internal A started thread, as the driver sees it. */
export interface ThreadPort {
  post(request: ThreadRequest): void;
  /** Register the handlers of replies and of failures (the thread crashed or exited). */
  listen(onReply: (reply: ThreadReply) => void, onFailure: (error: Error) => void): void;
  terminate(): unknown;
}

/**
 * Estimated work per sample of the fused engine (wasm kernel plus data generation)
 * for one instance with feature density d, n features and m hidden dimensions, in
 * multiply-adds: about 10 per feature for drawing and scanning the sample; for a sample
 * with any non-zero, the m × n output layer forward and backward plus the pre-activations
 * (m × n, or nnz × n through the Gram matrix when nnz < m); and 2 · nnz · m for the
 * hidden layer forward and its gradient. Measured on one core (2 × AMD EPYC, both kernels,
 * n = 20 … 400, d = 1 … 0.001) it tracks the time per sample within about 20 %: near
 * 0.17 ns per unit.
 */
export function fusedCost(density: number, n: number, m: number): number {
  const nnz = n * density;
  const nonZero = 1 - (1 - Math.min(1, Math.max(0, density))) ** n;
  const perNonZeroSample = nonZero > 0 ? Math.min(m, nnz / nonZero) : 0;
  return 10 * n + nonZero * (2 * m * n + perNonZeroSample * n) + 2 * nnz * m;
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

/** Segments above this much work (about a second on one core) run on a thread even when it is the only one. */
const HEAVY_SEGMENT = 6e9;

/**
 * @internal Why the threaded fused engine declines a plan, or null: wherever
 * the fused engine does, for data that is not a `SparseFeatures` (threads
 * rebuild it from its config), and for one thread or one instance unless a
 * segment is long (then one thread keeps the calling thread free, and an abort
 * stops training at once) or `offMainThread` asks for threads whatever the plan.
 */
export function threadedUnsupported(plan: TrainPlan, threads: number, offMainThread = false): string | null {
  const why = fusedUnsupported(plan);
  if (why) return why;
  if (!(plan.data instanceof SparseFeatures) && !fullBatchOfSparse(plan)) {
    return 'worker threads rebuild the data from a SparseFeatures config (or full batches of a FiniteDataset drawn from one), and this data source is neither';
  }
  if (!offMainThread && (threads < 2 || plan.model.config.instances < 2) && segmentWork(plan) < HEAVY_SEGMENT) {
    return 'one worker thread for a short segment (the fused engine on the calling thread does the same)';
  }
  return null;
}

/** The plan's data when it is full batches of a FiniteDataset drawn from a SparseFeatures. */
function fullBatchOfSparse(plan: TrainPlan): (FiniteDataset & { source: SparseFeatures }) | null {
  const d = fullBatchData(plan);
  return d && d.source instanceof SparseFeatures ? (d as FiniteDataset & { source: SparseFeatures }) : null;
}

/**
 * @internal Start a session on up to `threads` threads made by `spawn`, each
 * owning a range of instances balanced by estimated cost.
 */
export async function startThreaded(
  plan: TrainPlan,
  threads: number,
  kernel: ThreadInit['kernel'],
  spawn: (init: ThreadInit) => ThreadPort,
): Promise<EngineSession> {
  const model = fusedModelOf(plan.model)!;
  const finite = fullBatchOfSparse(plan);
  const data = finite ? finite.source : (plan.data as SparseFeatures);
  const replicas = finite ? finite.replicas : 1;
  const { instances: I, features: n, hidden: m } = plan.model.config;
  const probability = data.probability;
  // instance k draws from data stream ⌊k / replicas⌋ (one per dataset of a FiniteDataset)
  const density = Array.from({ length: I }, (_, k) => {
    const d = Math.floor(k / replicas);
    return probability.subarray(d * n, (d + 1) * n).reduce((a, v) => a + v, 0) / n;
  });
  const ranges = balanceRanges(density.map((d) => fusedCost(d, n, m)), Math.min(I, threads));
  const params = await paramCopies(plan.model);
  // each parameter's values per instance
  const per = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, p.length / I]));

  const ports = ranges.map(([s, e]) => {
    // the data streams this range needs: its instances', or the datasets its instances train on
    const d0 = Math.floor(s / replicas);
    const d1 = Math.floor((e - 1) / replicas) + 1;
    const rows = (v: Float32Array) => Array.from({ length: d1 - d0 }, (_, k) => Array.from(v.subarray((d0 + k) * n, (d0 + k + 1) * n)));
    return spawn({
      model,
      kernel,
      start: s,
      end: e,
      streams: { seeds: Array.from(data.streamSeeds.subarray(d0, d1)), indices: Array.from(data.streamIndices.subarray(d0, d1)) },
      features: n,
      hidden: m,
      params: Object.fromEntries(Object.entries(params).map(([name, p]) => [name, p.slice(s * per[name], e * per[name])])),
      importance: plan.importance.slice(s * n, e * n),
      optimizer: plan.optimizer,
      schedule: plan.schedule,
      steps: plan.steps,
      batchSize: plan.batchSize,
      data: { featureProbability: rows(probability), signed: data.signed, unitNorm: data.unitNorm, sets: data.sets.map((set) => ({ ...set })), generator: data.generator },
      ...(finite ? { finite: { size: finite.size, replicas, offset: s - d0 * replicas } } : {}),
    });
  });

  // one pending reply per thread; a failure with none pending fails the next request
  let failure: Error | null = null;
  const waiting: ((r: ThreadReply | Error) => void)[] = [];
  ports.forEach((port, w) => {
    const deliver = (r: ThreadReply | Error) => {
      const cb = waiting[w];
      delete waiting[w];
      if (cb) cb(r);
      else if (r instanceof Error) failure ??= r;
    };
    port.listen(deliver, (e) => deliver(new Error(`training worker ${w}: ${e.message}`)));
  });
  const ask = (w: number, request: ThreadRequest) =>
    new Promise<ThreadReply>((resolve, reject) => {
      waiting[w] = (r) => {
        if (r instanceof Error) reject(r);
        else if (r.type === 'error') reject(new Error(`training worker ${w}: ${r.message}`));
        else resolve(r);
      };
      ports[w].post(request);
    });
  const askAll = (request: ThreadRequest) => {
    if (failure) return Promise.reject(failure);
    return Promise.all(ports.map((_, w) => ask(w, request)));
  };

  let terminated = false;
  return {
    async run(from, to, signal) {
      const replies = askAll({ type: 'run', from, to });
      const losses = (r: ThreadReply[]) => Float32Array.from(r.flatMap((x) => (x as { loss: number[] }).loss));
      if (!signal) return losses(await replies);
      // an abort stops the threads at once (the session is over: train() disposes it)
      let onAbort = () => {};
      const stopped = new Promise<never>((_, reject) => {
        onAbort = () => {
          replies.catch(() => {});
          terminated = true;
          for (const p of ports) p.terminate();
          reject(new Error('aborted'));
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return losses(await Promise.race([replies, stopped]));
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    async sync() {
      // stopped by an abort: the model keeps the weights of its last sync
      if (terminated) return;
      const replies = (await askAll({ type: 'weights' })) as Extract<ThreadReply, { type: 'weights' }>[];
      const all = Object.fromEntries(Object.keys(params).map((name) => [name, new Float32Array(I * per[name])]));
      replies.forEach((r, w) => {
        for (const name of Object.keys(all)) all[name].set(r.params[name], ranges[w][0] * per[name]);
      });
      plan.model.setParams(all);
      return all;
    },
    async dispose() {
      await Promise.all(ports.map((p) => p.terminate()));
    },
  };
}
