import { ConfigError } from '@tms/data';

/** The sizes that decide how much memory training a toy model takes. */
export interface TrainingShape {
  /** Model instances trained together. */
  instances: number;
  /** Features n. */
  features: number;
  /** Hidden dimensions m. */
  hidden: number;
  /** Samples per instance per step. */
  batchSize: number;
}

/** The most values one typed array may hold in V8 (2³² − 1). */
export const MAX_TENSOR_VALUES = 2 ** 32 - 1;

/**
 * Values in the largest tensor of training one batch of toy models: the weights
 * (instances·n·m) or the batch (instances·batch·n), whichever is larger. More than
 * {@link MAX_TENSOR_VALUES} cannot be held in one array.
 */
export function largestTensorValues(s: TrainingShape): number {
  return Math.max(s.instances * s.features * s.hidden, s.instances * s.batchSize * s.features);
}

/**
 * Estimated peak bytes of training one batch of toy models: the weights with
 * their gradients and two Adam moments (4 copies of instances·(n·m + n) floats),
 * and the batch with its activations and their gradients (an allowance of 8
 * floats per sample value of instances·batch·(n + m)). It is an upper estimate
 * for the fused engine and a close one for autodiff, meant to refuse runs that
 * cannot fit before anything is allocated.
 *
 * @example
 * ```ts
 * trainingBytes({ instances: 7, features: 4096, hidden: 4096, batchSize: 1_000_000 }); // ≈ 1.2e15
 * ```
 */
export function trainingBytes(s: TrainingShape): number {
  const params = s.instances * (s.features * s.hidden + s.features);
  const perBatch = s.instances * s.batchSize * (s.features + s.hidden);
  return 4 * (4 * params + 8 * perBatch);
}

/** Bytes as a short human-readable string (`"1.2 GB"`). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toPrecision(3)} ${units[u]}`;
}

/**
 * Refuse training shapes that need more than `budget` bytes (see
 * {@link trainingBytes}), or a tensor larger than an array can hold, naming
 * the field that dominates: `batchSize` when the batch and its activations
 * take most of the memory, else `features`.
 *
 * @returns the estimate in bytes
 * @throws ConfigError with the estimate, the budget and what to lower
 */
export function checkTrainingMemory(s: TrainingShape, budget: number, budgetName = 'the memory budget'): number {
  const need = trainingBytes(s);
  const tensorValues = largestTensorValues(s);
  if (need > budget || tensorValues > MAX_TENSOR_VALUES) {
    const batchHeavy = s.batchSize * (s.features + s.hidden) * 2 > s.features * s.hidden + s.features;
    const field = batchHeavy ? 'batchSize' : 'features';
    const value = batchHeavy ? s.batchSize : s.features;
    const why =
      tensorValues > MAX_TENSOR_VALUES
        ? `one tensor of ${tensorValues} values, more than an array may hold (${MAX_TENSOR_VALUES})`
        : `about ${formatBytes(need)} for ${s.instances} instances × ${s.features} features × ${s.hidden} hidden at batch ${s.batchSize}, more than ${budgetName} (${formatBytes(budget)})`;
    throw new ConfigError(field, `a smaller value: training would need ${why}; lower batchSize, features or hidden, or train fewer instances at once`, value);
  }
  return need;
}
