import { MAX_TENSOR_VALUES, largestTensorValues, trainingBytes } from '@tms/core';
import { togetherKey, trainToyModelsTogether, type TrainedToyModels, type TrainToyOptions } from './common.js';
import type { RunContext } from './types.js';

/** Options of {@link ReplicateBatcher}. */
export interface ReplicateBatcherOptions {
  /**
   * Largest joint batch, in bytes as `trainingBytes` of `@tms/core` estimates
   * it: replicates beyond it train in further batches (as do those whose
   * joint tensors would outgrow one array). Default: no limit.
   */
  maxBytes?: number;
}

interface Call {
  run: number;
  options: TrainToyOptions;
  label: string;
  ctx: RunContext;
  resolve(value: TrainedToyModels): void;
  reject(reason: unknown): void;
}

/**
 * Trains replicate runs of one experiment (the same config, another seed) as
 * extra instances of one batch: `K` runs go at once, each with its context's
 * `trainToy` set to {@link ReplicateBatcher.hook}. When no run is busy (each
 * is waiting on a training call or done), the calls that differ in their
 * seed only are trained together by `trainToyModelsTogether`; the rest alone.
 * Every run gets exactly the models it gets alone (timings aside), and a
 * joint batch uses the engine's threads or GPU as a bigger batch would; it
 * trains with the engines, progress sink and abort signal of its lowest
 * run's context (give every run the same ones). Pure
 * (no Node imports): the CLI's `--seeds` uses it, and a page can.
 *
 * @example
 * ```ts
 * const batcher = new ReplicateBatcher(3);
 * const runs = [0, 1, 2].map(async (k) => {
 *   const ctx = { ...createRunContext({ engines }), trainToy: batcher.hook(k) };
 *   try {
 *     return await experiments.intro.run(resolveConfig(experiments.intro, { seed: k }), ctx);
 *   } finally {
 *     batcher.done(k);
 *   }
 * });
 * const outputs = await Promise.all(runs);
 * ```
 */
export class ReplicateBatcher {
  /** Runs taking part. */
  readonly runs: number;
  /** Joint batches trained so far, and the calls they held. */
  readonly stats = { batches: 0, calls: 0 };
  private readonly state: ('busy' | 'waiting' | 'done')[];
  private readonly maxBytes: number;
  private pending: Call[] = [];
  private flushing = false;

  /** @param runs - how many runs call in (run indices 0 … runs − 1) */
  constructor(runs: number, options: ReplicateBatcherOptions = {}) {
    if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`ReplicateBatcher: runs is ${runs}; it must be an integer ≥ 1`);
    this.runs = runs;
    this.state = new Array(runs).fill('busy');
    this.maxBytes = options.maxBytes ?? Infinity;
  }

  /** The `trainToy` hook of run `k`: set it in that run's context. */
  hook(k: number): NonNullable<RunContext['trainToy']> {
    this.checkRun(k);
    return (options, label, ctx) =>
      new Promise<TrainedToyModels>((resolve, reject) => {
        if (this.state[k] === 'done') return reject(new Error(`ReplicateBatcher: run ${k} called after done(${k})`));
        this.state[k] = 'waiting';
        this.pending.push({ run: k, options, label, ctx, resolve, reject });
        this.flush();
      });
  }

  /** Run `k` has finished or failed: it calls no more (call it in a `finally`, or the other runs wait for it). */
  done(k: number): void {
    this.checkRun(k);
    this.state[k] = 'done';
    this.flush();
  }

  private checkRun(k: number): void {
    if (!Number.isInteger(k) || k < 0 || k >= this.runs) throw new RangeError(`ReplicateBatcher: run ${k} is not one of 0 … ${this.runs - 1}`);
  }

  /** Once no run is busy: train the waiting calls, joined where they can be. */
  private flush(): void {
    if (this.flushing || !this.pending.length || this.state.includes('busy')) return;
    this.flushing = true;
    const calls = this.pending.sort((a, b) => a.run - b.run);
    this.pending = [];
    // each run computes again once its call is answered
    for (const c of calls) this.state[c.run] = 'busy';
    const groups = new Map<string, Call[]>();
    calls.forEach((c, i) => {
      const key = togetherKey(c.options) ?? `alone ${i}`;
      groups.set(key, [...(groups.get(key) ?? []), c]);
    });
    void (async () => {
      for (const group of groups.values()) {
        for (const batch of this.split(group)) await this.train(batch);
      }
      this.flushing = false;
      this.flush();
    })();
  }

  /** `group` in batches within {@link ReplicateBatcherOptions.maxBytes}. */
  private split(group: Call[]): Call[][] {
    const o = group[0].options;
    // within the memory budget, and every joint tensor an array (as checkTrainingMemory asks)
    const fits = (count: number) => {
      const shape = { instances: count * o.instances, features: o.features, hidden: o.hidden, batchSize: o.batchSize };
      return trainingBytes(shape) <= this.maxBytes && largestTensorValues(shape) <= MAX_TENSOR_VALUES;
    };
    let per = group.length;
    while (per > 1 && !fits(per)) per--;
    return Array.from({ length: Math.ceil(group.length / per) }, (_, b) => group.slice(b * per, (b + 1) * per));
  }

  private async train(batch: Call[]): Promise<void> {
    try {
      const settled = await trainToyModelsTogether(
        batch.map((c) => c.options),
        batch[0].ctx,
        batch[0].label,
      );
      if (batch.length > 1) {
        this.stats.batches++;
        this.stats.calls += batch.length;
      }
      settled.forEach((r, i) => (r.status === 'fulfilled' ? batch[i].resolve(r.value) : batch[i].reject(r.reason)));
    } catch (e) {
      for (const c of batch) c.reject(e);
    }
  }
}
