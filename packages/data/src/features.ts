import { Rng } from './rng.js';
import { ConfigError, checkBoolean, checkInt, expandPerFeature, type PerFeature } from './spec.js';

/** Configuration of a {@link SparseFeatures} distribution. */
export interface SparseFeaturesConfig {
  /** Number of independent model instances the batches are for (≥ 1). */
  instances: number;
  /** Number of features n (≥ 1). */
  features: number;
  /**
   * Probability that a feature is non-zero, `1 - S` in the paper's notation.
   * Give either this or `sparsity`.
   */
  featureProbability?: PerFeature;
  /** Sparsity S: the probability that a feature is zero. Give either this or `featureProbability`. */
  sparsity?: PerFeature;
  /** If true, non-zero values are uniform in [-1, 1] instead of [0, 1]. Default false. */
  signed?: boolean;
  /** Seed of the generator. Default 0. */
  seed?: number;
}

/**
 * A batch of features laid out as a row-major `[instances, batch, features]` array,
 * the layout the batched models in `@tms/core` consume.
 */
export interface FeatureBatch {
  /** The values, length `instances * batchSize * features`. */
  data: Float32Array;
  /** `[instances, batchSize, features]`. */
  shape: [number, number, number];
}

/** Anything that produces batches of features: the interface the training loop consumes. */
export interface BatchSource {
  /** Number of instances each batch covers. */
  readonly instances: number;
  /** Number of features per sample. */
  readonly features: number;
  /** Draw a batch of `batchSize` samples per instance. `out` is reused when given and large enough. */
  sample(batchSize: number, out?: Float32Array): FeatureBatch;
}

/**
 * The paper's synthetic data: each feature is independently zero with probability
 * `S_i` (its sparsity) and otherwise uniform on [0, 1] (or [-1, 1] when `signed`).
 * Sparsity may differ per instance and per feature. Samples are generated in JS
 * typed arrays, which is faster than `tf.randomUniform` on the wasm backend.
 *
 * @example
 * ```ts
 * const gen = new SparseFeatures({ instances: 7, features: 20, sparsity: [[0], ...], seed: 1 });
 * const { data, shape } = gen.sample(1024); // shape [7, 1024, 20]
 * ```
 */
export class SparseFeatures implements BatchSource {
  readonly instances: number;
  readonly features: number;
  /** Per-instance, per-feature probability of being non-zero, `[instances * features]`. */
  readonly probability: Float32Array;
  readonly signed: boolean;
  readonly seed: number;
  private readonly rng: Rng;

  constructor(config: SparseFeaturesConfig) {
    this.instances = checkInt(config.instances, 'instances', 1);
    this.features = checkInt(config.features, 'features', 1);
    this.signed = config.signed === undefined ? false : checkBoolean(config.signed, 'signed');
    this.seed = config.seed === undefined ? 0 : checkInt(config.seed, 'seed', 0, 0xffffffff);
    this.probability = resolveProbability(config, this.instances, this.features);
    this.rng = new Rng(this.seed, 1);
  }

  sample(batchSize: number, out?: Float32Array): FeatureBatch {
    checkInt(batchSize, 'batchSize', 1);
    const { instances: I, features: n } = this;
    const len = I * batchSize * n;
    const data = out && out.length >= len ? out.subarray(0, len) : new Float32Array(len);
    const rng = this.rng;
    const p = this.probability;
    const signed = this.signed;
    let k = 0;
    for (let i = 0; i < I; i++) {
      const pOff = i * n;
      for (let b = 0; b < batchSize; b++) {
        for (let f = 0; f < n; f++, k++) {
          if (rng.float() < p[pOff + f]) {
            const u = rng.float();
            data[k] = signed ? 2 * u - 1 : u;
          } else {
            data[k] = 0;
          }
        }
      }
    }
    return { data, shape: [I, batchSize, n] };
  }
}

/** Resolve `featureProbability` / `sparsity` of a config into a dense `[instances * features]` array. */
export function resolveProbability(
  config: { featureProbability?: PerFeature; sparsity?: PerFeature },
  instances: number,
  features: number,
): Float32Array {
  if (config.featureProbability !== undefined && config.sparsity !== undefined) {
    throw new ConfigError('sparsity', 'either sparsity or featureProbability, not both', config.sparsity);
  }
  if (config.sparsity !== undefined) {
    const s = expandPerFeature(config.sparsity, instances, features, 'sparsity', 0, 1);
    return s.map((v) => 1 - v);
  }
  if (config.featureProbability !== undefined) {
    return expandPerFeature(config.featureProbability, instances, features, 'featureProbability', 0, 1);
  }
  return new Float32Array(instances * features).fill(1);
}

/**
 * Importance that decays geometrically with the feature index: `base^i`.
 * The paper uses `0.7^i` for its intro figure and `0.9^i` in the notebook.
 */
export function geometricImportance(features: number, base: number): number[] {
  checkInt(features, 'features', 1);
  return Array.from({ length: features }, (_, i) => Math.pow(base, i));
}
