import { DrawAhead, Rng, gapTable } from './rng.js';
import { philoxFeatures } from './philox.js';
import { ConfigError, checkBoolean, checkInt, checkNumber, checkOneOf, expandPerFeature, type PerFeature } from './spec.js';

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
  /**
   * If true, every sample is rescaled to unit Euclidean norm ‖x‖₂ = 1 (an
   * all-zero sample stays zero), as in the memorisation / double-descent
   * follow-up (Henighan et al. 2023). Default false.
   */
  unitNorm?: boolean;
  /** Seed of the generator. Default 0. */
  seed?: number;
  /**
   * Global index of this source's first instance (default 0). Each instance draws
   * from its own random stream `(seed, firstInstance + i)`, so a source split into
   * instance ranges (e.g. across worker threads) produces exactly the same data.
   */
  firstInstance?: number;
  /**
   * Per instance, the key of its random stream, in place of `(seed,
   * firstInstance + i)`: instance `i` draws from `(streams.seeds[i],
   * streams.indices[i])`. Batches that join instances of several runs (e.g.
   * replicate seeds trained together) give each instance exactly the data it
   * draws in its own run. Not with `firstInstance`.
   */
  streams?: InstanceStreams;
  /**
   * Groups of features that are not independent (same for every instance):
   * `correlated` features are all present or all absent together (with the
   * probability of the set's first feature); at most one feature of an
   * `anticorrelated` set is present (the set fires with probability k·p and then
   * picks one of its k features), so each keeps its marginal probability p.
   * Features in no set are independent.
   */
  sets?: FeatureSet[];
  /**
   * The random generator: `xoshiro` (default; per-instance xoshiro128** streams
   * with fast geometric gaps) or `philox` (counter-based Philox4x32-10: the
   * value of sample s, feature f of the d-th `sample()` call is a pure function
   * of (seed, firstInstance + i, s, d, f), so the WebGPU engine generates the
   * very same batches on the GPU; see `philoxFeatures`). `philox` takes no `sets`.
   */
  generator?: 'xoshiro' | 'philox';
}

/** One random-stream key per instance: see {@link SparseFeaturesConfig.streams}. */
export interface InstanceStreams {
  /** The seed of each instance's stream (integers in [0, 2³² − 1]). */
  seeds: ArrayLike<number>;
  /** The global index of each instance's stream (integers ≥ 0). */
  indices: ArrayLike<number>;
}

/** A group of features with a joint distribution; see {@link SparseFeaturesConfig.sets}. */
export interface FeatureSet {
  /** Feature indices, at least 2, each in at most one set. */
  features: number[];
  /** `correlated`: all present or all absent together; `anticorrelated`: at most one present. */
  mode: 'correlated' | 'anticorrelated';
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
  /** Values uniform on [−1, 1] instead of [0, 1]. */
  readonly signed: boolean;
  /** Whether samples are rescaled to unit norm (see {@link SparseFeaturesConfig.unitNorm}). */
  readonly unitNorm: boolean;
  /** The generator's seed (with `streams`, the first instance's). */
  readonly seed: number;
  /** The validated feature sets (empty when all features are independent). */
  readonly sets: readonly FeatureSet[];
  private readonly rngs: Rng[];
  /** With feature sets: per instance, its generator's draws taken ahead (see `aheadOf`). */
  private readonly ahead: DrawAhead[] = [];
  /** The sets laid out for sampling (with no sets: every feature free). */
  private readonly setPlan: SetPlan;
  /** Per instance: the probability shared by all its features, or NaN when they differ. */
  private readonly commonP: Float64Array;
  /** Global index of the first instance's stream. */
  readonly firstInstance: number;
  /** Per instance, the seed of its random stream (see {@link SparseFeaturesConfig.streams}). */
  readonly streamSeeds: Uint32Array;
  /** Per instance, the global index of its random stream. */
  readonly streamIndices: Uint32Array;
  /** The random generator (see {@link SparseFeaturesConfig.generator}). */
  readonly generator: 'xoshiro' | 'philox';
  /**
   * Calls of `sample()` so far: with the `philox` generator, the counter of the
   * next batch (an engine that generates batches itself advances it with {@link SparseFeatures.skip}).
   */
  get draws(): number {
    return this.drawn;
  }
  private drawn = 0;

  constructor(config: SparseFeaturesConfig) {
    this.instances = checkInt(config.instances, 'instances', 1);
    this.features = checkInt(config.features, 'features', 1);
    this.signed = config.signed === undefined ? false : checkBoolean(config.signed, 'signed');
    this.unitNorm = config.unitNorm === undefined ? false : checkBoolean(config.unitNorm, 'unitNorm');
    this.seed = config.seed === undefined ? 0 : checkInt(config.seed, 'seed', 0, 0xffffffff);
    this.probability = resolveProbability(config, this.instances, this.features);
    const setOf = new Int32Array(this.features).fill(-1);
    this.sets = validateSets(config.sets ?? [], this.features, setOf);
    this.setPlan = planSets(this.sets, setOf);
    // an anticorrelated set fires with probability k·p (then picks one of its k features): it must be ≤ 1
    this.sets.forEach((set, s) => {
      if (set.mode !== 'anticorrelated') return;
      const k = set.features.length;
      for (let i = 0; i < this.instances; i++) {
        const p = this.probability[i * this.features + set.features[0]];
        // (probabilities are stored as float32: 1/3 rounds up)
        if (k * p > 1 + 1e-6) {
          throw new ConfigError(
            `sets[${s}]`,
            `an anticorrelated set whose ${k} features are each present with probability ≤ 1/${k} (at most one of them is present at a time)`,
            `probability ${p} in instance ${i}, so k·p = ${k * p}`,
          );
        }
      }
    });
    const streams = config.streams === undefined ? undefined : checkStreams(config.streams, this.instances);
    if (streams && config.firstInstance !== undefined) throw new ConfigError('firstInstance', 'unset when streams are given (they name each instance\'s stream)', config.firstInstance);
    if (streams && config.seed !== undefined) throw new ConfigError('seed', 'unset when streams are given (they name each instance\'s stream)', config.seed);
    const first = config.firstInstance === undefined ? 0 : checkInt(config.firstInstance, 'firstInstance', 0);
    this.streamSeeds = streams ? streams.seeds : new Uint32Array(this.instances).fill(this.seed);
    this.streamIndices = streams ? streams.indices : Uint32Array.from({ length: this.instances }, (_, i) => first + i);
    if (streams) this.seed = streams.seeds[0];
    this.firstInstance = this.streamIndices[0];
    this.generator = config.generator === undefined ? 'xoshiro' : checkOneOf(config.generator, 'generator', ['xoshiro', 'philox'] as const);
    if (this.generator === 'philox' && this.sets.length > 0) {
      throw new ConfigError('generator', "'xoshiro' when feature sets are given (the philox generator draws independent features only)", 'philox');
    }
    this.rngs = Array.from({ length: this.instances }, (_, i) => new Rng(this.streamSeeds[i], 1 + this.streamIndices[i]));
    this.commonP = new Float64Array(this.instances).map((_, i) => {
      const row = this.probability.subarray(i * this.features, (i + 1) * this.features);
      return row.every((v) => v === row[0]) ? row[0] : NaN;
    });
  }

  sample(batchSize: number, out?: Float32Array): FeatureBatch {
    const batch = this.sampleRaw(batchSize, out);
    if (this.unitNorm) normalizeRows(batch.data, this.features);
    return batch;
  }

  /**
   * Advance the draw counter by `count` batches without drawing them (for
   * engines that generated those batches themselves); `philox` only.
   */
  skip(count: number): void {
    checkInt(count, 'count', 0);
    if (this.generator !== 'philox') throw new ConfigError('generator', "'philox' (only a counter-based stream can skip batches)", this.generator);
    this.drawn += count;
  }

  private sampleRaw(batchSize: number, out?: Float32Array): FeatureBatch {
    checkInt(batchSize, 'batchSize', 1);
    const { instances: I, features: n } = this;
    const len = I * batchSize * n;
    const data = out && out.length >= len ? out.subarray(0, len) : new Float32Array(len);
    const draw = this.drawn++;
    if (this.generator === 'philox') {
      for (let i = 0; i < I; i++) {
        philoxFeatures(this.streamSeeds[i], this.streamIndices[i], draw, batchSize, this.probability.subarray(i * n, (i + 1) * n), this.signed, data, i * batchSize * n);
      }
      return { data, shape: [I, batchSize, n] };
    }
    const p = this.probability;
    const signed = this.signed;
    if (this.sets.length > 0) {
      this.sampleWithSets(batchSize, data);
      return { data, shape: [I, batchSize, n] };
    }
    for (let i = 0; i < I; i++) {
      const rng = this.rngs[i];
      const start = i * batchSize * n;
      const len = batchSize * n;
      const q = this.commonP[i];
      if (q >= 1) {
        // every feature present: just values
        rng.fillFloats(data, start, start + len, signed);
      } else if (q < 0.6) {
        // sparse with one probability: jump from one non-zero to the next (geometric gaps)
        data.fill(0, start, start + len);
        if (q <= 0) continue;
        const logq = Math.log1p(-q);
        const table = gapTable(logq);
        if (table) {
          rng.scatterGaps(data, start, start + len, table, signed ? 'signed' : 'uniform');
          continue;
        }
        let pos = -1;
        for (;;) {
          pos += 1 + Math.floor(Math.log(1 - rng.float()) / logq);
          if (pos >= len) break;
          const u = rng.float();
          data[start + pos] = signed ? 2 * u - 1 : u;
        }
      } else if (q === q) {
        // dense with one probability: values everywhere, then zeros at geometric gaps
        rng.fillFloats(data, start, start + len, signed);
        const logz = Math.log(q);
        const table = gapTable(logz);
        if (table) {
          rng.scatterGaps(data, start, start + len, table, 'zero');
          continue;
        }
        let pos = -1;
        for (;;) {
          pos += 1 + Math.floor(Math.log(1 - rng.float()) / logz);
          if (pos >= len) break;
          data[start + pos] = 0;
        }
      } else {
        // a probability per feature: a draw for presence, then one for the value, feature by feature
        rng.fillBernoulli(data, start, batchSize, p.subarray(i * n, (i + 1) * n), signed);
      }
    }
    return { data, shape: [I, batchSize, n] };
  }

  private sampleWithSets(batchSize: number, data: Float32Array): void {
    const { instances: I, features: n, probability: p, signed } = this;
    const plan = this.setPlan;
    for (let i = 0; i < I; i++) sampleSetRows(data, i * batchSize * n, batchSize, n, p, i * n, signed, plan, this.aheadOf(i, plan.perRow));
  }

  /**
   * Instance i's draws taken ahead, for samplers that consume a varying number
   * per row (at most `perRow`): the sequence `float()` would give one by one. Such
   * an instance (with feature sets, all of them) draws through it from its first
   * batch on, so its samples are those of the one-by-one loop.
   */
  private aheadOf(i: number, perRow: number): DrawAhead {
    return (this.ahead[i] ??= new DrawAhead(this.rngs[i], Math.max(4096, 4 * perRow)));
  }
}

/**
 * `rows` rows of samples with feature sets from `data[start]` on, drawing from
 * `ahead`: per row, the free features in order (a draw for presence, then one for
 * the value), then each set (a draw for presence; correlated: a value per member;
 * anticorrelated: a draw picking the member, then its value).
 */
function sampleSetRows(data: Float32Array, start: number, rows: number, n: number, p: Float32Array, pOff: number, signed: boolean, plan: SetPlan, ahead: DrawAhead): void {
  const { free, members, setStart, correlated, perRow } = plan;
  const S = 2.3283064365386963e-10;
  const lo = signed ? -1 : 0;
  const span = signed ? 2 * S : S;
  const sets = setStart.length - 1;
  const nFree = free.length;
  const r = ahead.draws;
  const size = r.length;
  let j = ahead.pos;
  for (let row = start, end = start + rows * n; row < end; row += n) {
    if (j + perRow > size) {
      ahead.pos = j;
      ahead.ensure(perRow);
      j = ahead.pos;
    }
    for (let q = 0; q < nFree; q++) {
      const f = free[q];
      data[row + f] = r[j++] * S < p[pOff + f] ? lo + r[j++] * span : 0;
    }
    for (let s = 0; s < sets; s++) {
      const a = setStart[s];
      const e = setStart[s + 1];
      const p0 = p[pOff + members[a]];
      if (correlated[s] === 1) {
        if (r[j++] * S < p0) for (let q = a; q < e; q++) data[row + members[q]] = lo + r[j++] * span;
        else for (let q = a; q < e; q++) data[row + members[q]] = 0;
      } else {
        for (let q = a; q < e; q++) data[row + members[q]] = 0;
        if (r[j++] * S < Math.min(1, (e - a) * p0)) {
          const pick = Math.floor(r[j++] * S * (e - a));
          data[row + members[a + pick]] = lo + r[j++] * span;
        }
      }
    }
  }
  ahead.pos = j;
}

/** The feature sets laid out for sampling. */
interface SetPlan {
  /** Features in no set, in order. */
  free: Int32Array;
  /** The sets' features, set after set; set s is `members[setStart[s] … setStart[s + 1])`. */
  members: Int32Array;
  setStart: Int32Array;
  /** 1 where set s is correlated, 0 where anticorrelated. */
  correlated: Uint8Array;
  /** The most draws one row takes. */
  perRow: number;
}

function planSets(sets: readonly FeatureSet[], setOf: Int32Array): SetPlan {
  const free = Int32Array.from(Array.from(setOf.keys()).filter((f) => setOf[f] < 0));
  const members = Int32Array.from(sets.flatMap((s) => s.features));
  const setStart = new Int32Array(sets.length + 1);
  sets.forEach((s, k) => (setStart[k + 1] = setStart[k] + s.features.length));
  const correlated = Uint8Array.from(sets, (s) => (s.mode === 'correlated' ? 1 : 0));
  const perRow = 2 * free.length + sets.reduce((t, s) => t + 1 + (s.mode === 'correlated' ? s.features.length : 2), 0);
  return { free, members, setStart, correlated, perRow };
}

/** Validate {@link SparseFeaturesConfig.streams} into two arrays of `instances` keys. */
function checkStreams(streams: InstanceStreams, instances: number): { seeds: Uint32Array; indices: Uint32Array } {
  const allowed = `{ seeds, indices }: two arrays of ${instances} integers (one stream key per instance)`;
  if (streams == null || typeof streams !== 'object') throw new ConfigError('streams', allowed, streams);
  const { seeds, indices } = streams;
  if (seeds == null || indices == null || seeds.length !== instances || indices.length !== instances) throw new ConfigError('streams', allowed, streams);
  return {
    seeds: Uint32Array.from({ length: instances }, (_, i) => checkInt(seeds[i], `streams.seeds[${i}]`, 0, 0xffffffff)),
    indices: Uint32Array.from({ length: instances }, (_, i) => checkInt(indices[i], `streams.indices[${i}]`, 0, 0xfffffffe)),
  };
}

/** Rescale every row of `n` values to unit Euclidean norm (all-zero rows stay zero). */
function normalizeRows(data: Float32Array, n: number): void {
  for (let row = 0; row < data.length; row += n) {
    let q = 0;
    for (let j = row; j < row + n; j++) if (data[j] !== 0) q += data[j] * data[j];
    if (q === 0) continue;
    const inv = 1 / Math.sqrt(q);
    for (let j = row; j < row + n; j++) if (data[j] !== 0) data[j] *= inv;
  }
}

function validateSets(sets: FeatureSet[], features: number, setOf: Int32Array): FeatureSet[] {
  if (!Array.isArray(sets)) throw new ConfigError('sets', 'an array of {features: number[], mode}', sets);
  return sets.map((set, s) => {
    const mode = checkOneOf(set?.mode, `sets[${s}].mode`, ['correlated', 'anticorrelated'] as const);
    if (!Array.isArray(set.features) || set.features.length < 2) {
      throw new ConfigError(`sets[${s}].features`, 'an array of at least 2 feature indices', set?.features);
    }
    const fs = set.features.map((f, j) => {
      checkInt(f, `sets[${s}].features[${j}]`, 0, features - 1);
      if (setOf[f] >= 0) throw new ConfigError(`sets[${s}].features[${j}]`, 'a feature that is in no other set', f);
      setOf[f] = s;
      return f;
    });
    return { features: fs, mode };
  });
}

/** Options of {@link FiniteDataset}. */
export interface FiniteDatasetOptions {
  /**
   * Train each dataset on this many consecutive instances (default 1): the
   * source's instance d becomes instances d·replicas … d·replicas + replicas − 1,
   * which see the same samples. Use it for several initialisations per
   * dataset (best-of-k), with a source of `instances / replicas` instances.
   */
  replicas?: number;
}

/**
 * A fixed, finite dataset drawn once from another source: `size` samples per
 * instance. `sample(batchSize)` walks through it in order (wrapping around), so
 * `batchSize === size` gives full-batch training (which the fused engine runs
 * on the training set's non-zeros).
 *
 * @example
 * ```ts
 * // 4 datasets of 100 unit-norm points, each trained from 3 initialisations
 * const source = new SparseFeatures({ instances: 4, features: 1000, sparsity: 0.99, unitNorm: true, seed: 1 });
 * const data = new FiniteDataset(source, 100, { replicas: 3 }); // 12 instances
 * ```
 */
export class FiniteDataset implements BatchSource {
  readonly instances: number;
  readonly features: number;
  /** Samples per instance. */
  readonly size: number;
  /** Consecutive instances that share one dataset. */
  readonly replicas: number;
  /** The source the samples were drawn from (its state has moved on since). */
  readonly source: BatchSource;
  /** The samples, `[instances, size, features]` (replicated instances hold copies). */
  readonly data: Float32Array;
  private cursor = 0;

  constructor(source: BatchSource, size: number, options: FiniteDatasetOptions = {}) {
    this.size = checkInt(size, 'size', 1);
    this.replicas = options.replicas === undefined ? 1 : checkInt(options.replicas, 'replicas', 1);
    const k = this.replicas;
    this.source = source;
    this.instances = source.instances * k;
    this.features = source.features;
    const drawn = source.sample(this.size).data;
    const per = this.size * this.features;
    if (k === 1) this.data = Float32Array.from(drawn.subarray(0, source.instances * per));
    else {
      this.data = new Float32Array(this.instances * per);
      for (let i = 0; i < this.instances; i++) this.data.set(drawn.subarray(Math.floor(i / k) * per, (Math.floor(i / k) + 1) * per), i * per);
    }
  }

  sample(batchSize: number, out?: Float32Array): FeatureBatch {
    checkInt(batchSize, 'batchSize', 1);
    const { instances: I, features: n, size } = this;
    const len = I * batchSize * n;
    const data = out && out.length >= len ? out.subarray(0, len) : new Float32Array(len);
    for (let i = 0; i < I; i++) {
      // contiguous runs of samples, wrapping around the end of the set
      let b = 0;
      let src = this.cursor;
      while (b < batchSize) {
        const run = Math.min(batchSize - b, size - src);
        data.set(this.data.subarray((i * size + src) * n, (i * size + src + run) * n), (i * batchSize + b) * n);
        b += run;
        src = (src + run) % size;
      }
    }
    this.cursor = (this.cursor + batchSize) % size;
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
 *
 * @throws ConfigError for a non-integer `features` or a `base` that is not a finite number ≥ 0
 */
export function geometricImportance(features: number, base: number): number[] {
  checkInt(features, 'features', 1);
  checkNumber(base, 'base', 0);
  return Array.from({ length: features }, (_, i) => Math.pow(base, i));
}
