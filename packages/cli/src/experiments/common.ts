import { createModel, train, type ModelKind, type OptimizerConfig, type ParamArray, type TrainResult } from '@tms/core';
import { SparseFeatures, type PerFeature } from '@tms/data';
import type { RunContext } from './types.js';

/** Round to 9 significant digits: exact for float32 values, and short in JSON. */
export function round9(v: number): number {
  return Number(v.toPrecision(9));
}

/** Nested number arrays of one instance's parameter, `[rows][cols]` (or `[cols]` for rank 2). */
export function paramInstance(p: ParamArray, instance: number): number[] | number[][] {
  const [, ...rest] = p.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  const flat = Array.from(p.data.subarray(instance * size, (instance + 1) * size), round9);
  if (rest.length === 1) return flat;
  const cols = rest[rest.length - 1];
  const out: number[][] = [];
  for (let r = 0; r < flat.length; r += cols) out.push(flat.slice(r, r + cols));
  return out;
}

/** Settings for {@link trainToyModels}. */
export interface TrainToyOptions {
  kind: ModelKind;
  instances: number;
  features: number;
  hidden: number;
  sparsity: PerFeature;
  importance: PerFeature;
  signed?: boolean;
  steps: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule?: 'constant' | 'linear' | 'cosine';
  warmupSteps?: number;
  seed: number;
  logEvery: number;
}

/** A trained batch of models as plain data. */
export interface TrainedToyModels {
  params: Record<string, ParamArray>;
  result: TrainResult;
}

/**
 * Create, train and read back a batch of toy models, reporting progress to the
 * run context. The model seed is `seed`, the data seed `seed + 1`.
 */
export async function trainToyModels(o: TrainToyOptions, ctx: RunContext, label: string): Promise<TrainedToyModels> {
  const model = createModel({ kind: o.kind, instances: o.instances, features: o.features, hidden: o.hidden, seed: o.seed });
  try {
    const data = new SparseFeatures({
      instances: o.instances,
      features: o.features,
      sparsity: o.sparsity,
      signed: o.signed,
      seed: o.seed + 1,
    });
    ctx.progress.reset(label);
    const result = await train({
      model,
      data,
      importance: o.importance,
      steps: o.steps,
      batchSize: o.batchSize,
      optimizer: o.optimizer,
      schedule: { name: o.schedule ?? 'constant', warmupSteps: o.warmupSteps ?? 0 },
      logEvery: o.logEvery,
      signal: ctx.signal,
      onProgress: (p) => {
        const mean = p.loss.reduce((a, b) => a + b, 0) / p.loss.length;
        ctx.progress.update(p.step, p.totalSteps, `loss ${mean.toExponential(3)} | ${p.stepsPerSecond.toFixed(0)} steps/s`, p.elapsedSeconds);
      },
    });
    if (result.aborted) throw new Error(`${label}: training aborted at step ${result.steps}`);
    return { params: await model.getParams(), result };
  } finally {
    model.dispose();
  }
}
