import { Rng, checkInt, checkOneOf } from '@tms/data';
import { tf } from './tf.js';

/** The model families of the paper. */
export const MODEL_KINDS = ['linear', 'relu-output', 'relu-hidden', 'abs'] as const;

/**
 * - `linear`: x' = WᵀW x + b
 * - `relu-output`: x' = ReLU(WᵀW x + b)
 * - `relu-hidden`: h = ReLU(W x), x' = ReLU(Wᵀ h + b) (privileged hidden basis)
 * - `abs`: h = ReLU(W₁ x), y' = ReLU(W₂ h + b), trained to compute y = |x|
 */
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Configuration shared by every toy model. */
export interface ModelConfig {
  /** Which model family. */
  kind: ModelKind;
  /** Number of independent models trained together in one batched tensor. */
  instances: number;
  /** Number of features n. */
  features: number;
  /** Number of hidden dimensions (or neurons) m. */
  hidden: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
}

/** Plain-array copy of a parameter: row-major data and its shape. */
export interface ParamArray {
  data: Float32Array;
  shape: number[];
}

/**
 * A batch of independent toy models ("instances") sharing one set of batched
 * tensors. Inputs are `[instances, batch, features]`.
 */
export interface ToyModel {
  readonly config: Readonly<Required<ModelConfig>>;
  /** Trainable variables by name, e.g. `W` `[I, n, m]` and `b` `[I, n]`. */
  readonly params: Readonly<Record<string, tf.Variable>>;
  /** Forward pass: `[I, B, n]` → `[I, B, n]`. */
  forward(x: tf.Tensor3D): tf.Tensor3D;
  /** Hidden activations `[I, B, m]`. */
  hiddenActivations(x: tf.Tensor3D): tf.Tensor3D;
  /** The target the model is trained to reproduce: `x` itself, or `|x|` for the abs model. */
  target(x: tf.Tensor3D): tf.Tensor3D;
  /** Copy every parameter to plain arrays. */
  getParams(): Promise<Record<string, ParamArray>>;
  /** Overwrite parameters from plain arrays (shapes must match). */
  setParams(values: Record<string, ParamArray | Float32Array>): void;
  /** Free the variables. */
  dispose(): void;
}

/** Validate a model config, filling defaults. Throws `ConfigError` naming the bad field. */
export function validateModelConfig(config: ModelConfig, prefix = 'model'): Required<ModelConfig> {
  if (config == null || typeof config !== 'object') {
    throw new TypeError(`${prefix} must be an object`);
  }
  return {
    kind: checkOneOf(config.kind, `${prefix}.kind`, MODEL_KINDS),
    instances: checkInt(config.instances, `${prefix}.instances`, 1),
    features: checkInt(config.features, `${prefix}.features`, 1),
    hidden: checkInt(config.hidden, `${prefix}.hidden`, 1),
    seed: config.seed === undefined ? 0 : checkInt(config.seed, `${prefix}.seed`, 0, 0xffffffff),
  };
}

/**
 * Xavier-normal initialisation of `instances` matrices of shape `[rows, cols]`,
 * std = sqrt(2 / (rows + cols)), seeded.
 */
export function xavierNormal(instances: number, rows: number, cols: number, rng: Rng): Float32Array {
  const std = Math.sqrt(2 / (rows + cols));
  const out = new Float32Array(instances * rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal() * std;
  return out;
}

abstract class BaseModel implements ToyModel {
  readonly config: Readonly<Required<ModelConfig>>;
  readonly params: Record<string, tf.Variable>;

  constructor(config: ModelConfig) {
    this.config = Object.freeze(validateModelConfig(config));
    this.params = this.init(new Rng(this.config.seed, 0));
  }

  protected abstract init(rng: Rng): Record<string, tf.Variable>;
  abstract forward(x: tf.Tensor3D): tf.Tensor3D;
  abstract hiddenActivations(x: tf.Tensor3D): tf.Tensor3D;

  target(x: tf.Tensor3D): tf.Tensor3D {
    return x;
  }

  async getParams(): Promise<Record<string, ParamArray>> {
    const out: Record<string, ParamArray> = {};
    for (const [name, v] of Object.entries(this.params)) {
      out[name] = { data: (await v.data()) as Float32Array, shape: v.shape.slice() };
    }
    return out;
  }

  setParams(values: Record<string, ParamArray | Float32Array>): void {
    for (const [name, value] of Object.entries(values)) {
      const v = this.params[name];
      if (!v) throw new Error(`unknown parameter "${name}"; known: ${Object.keys(this.params).join(', ')}`);
      const data = value instanceof Float32Array ? value : value.data;
      if (data.length !== v.size) throw new Error(`parameter "${name}" needs ${v.size} values, got ${data.length}`);
      if (!(value instanceof Float32Array) && value.shape.join(',') !== v.shape.join(',')) {
        throw new Error(`parameter "${name}" has shape [${v.shape}], got [${value.shape}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
    }
  }

  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
  }

  /** `[I, n]` bias reshaped to broadcast over the batch: `[I, 1, n]`. */
  protected bias3(name = 'b'): tf.Tensor3D {
    const b = this.params[name];
    return tf.reshape(b, [b.shape[0] as number, 1, b.shape[1] as number]) as tf.Tensor3D;
  }

  protected variable(name: string, data: Float32Array, shape: number[]): tf.Variable {
    return tf.variable(tf.tensor(data, shape), true, `${name}_${uid++}`);
  }
}

let uid = 0;

/** Tied-weight autoencoder x' = act(WᵀW x + b), with W stored as `[I, n, m]`. */
abstract class TiedModel extends BaseModel {
  protected init(rng: Rng): Record<string, tf.Variable> {
    const { instances: I, features: n, hidden: m } = this.config;
    return {
      W: this.variable('W', xavierNormal(I, n, m, rng), [I, n, m]),
      b: this.variable('b', new Float32Array(I * n), [I, n]),
    };
  }

  hiddenActivations(x: tf.Tensor3D): tf.Tensor3D {
    return tf.matMul(x, this.params.W as tf.Tensor3D) as tf.Tensor3D;
  }

  /** WᵀW x + b before the output nonlinearity, `[I, B, n]`. */
  protected preActivation(h: tf.Tensor3D): tf.Tensor3D {
    return tf.add(tf.matMul(h, this.params.W as tf.Tensor3D, false, true), this.bias3()) as tf.Tensor3D;
  }
}

/** Linear model x' = WᵀW x + b. Learns the top principal components (no superposition). */
export class LinearModel extends TiedModel {
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.preActivation(this.hiddenActivations(x)));
  }
}

/** ReLU-output model x' = ReLU(WᵀW x + b): the paper's main toy model. */
export class ReluOutputModel extends TiedModel {
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => tf.relu(this.preActivation(this.hiddenActivations(x))) as tf.Tensor3D);
  }
}

/** Privileged-basis model: h = ReLU(W x), x' = ReLU(Wᵀ h + b). */
export class ReluHiddenModel extends TiedModel {
  hiddenActivations(x: tf.Tensor3D): tf.Tensor3D {
    return tf.relu(tf.matMul(x, this.params.W as tf.Tensor3D)) as tf.Tensor3D;
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => tf.relu(this.preActivation(this.hiddenActivations(x))) as tf.Tensor3D);
  }
}

/**
 * Absolute-value computation model: h = ReLU(W₁ x), y' = ReLU(W₂ h + b),
 * trained on signed sparse inputs to output |x|. `W1` is `[I, n, m]`, `W2` is `[I, m, n]`.
 */
export class AbsModel extends BaseModel {
  protected init(rng: Rng): Record<string, tf.Variable> {
    const { instances: I, features: n, hidden: m } = this.config;
    return {
      W1: this.variable('W1', xavierNormal(I, n, m, rng), [I, n, m]),
      W2: this.variable('W2', xavierNormal(I, m, n, rng), [I, m, n]),
      b: this.variable('b', new Float32Array(I * n), [I, n]),
    };
  }

  hiddenActivations(x: tf.Tensor3D): tf.Tensor3D {
    return tf.relu(tf.matMul(x, this.params.W1 as tf.Tensor3D)) as tf.Tensor3D;
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() =>
      tf.relu(tf.add(tf.matMul(this.hiddenActivations(x), this.params.W2 as tf.Tensor3D), this.bias3())) as tf.Tensor3D,
    );
  }

  target(x: tf.Tensor3D): tf.Tensor3D {
    return tf.abs(x) as tf.Tensor3D;
  }
}

/**
 * Create a toy model of the given kind.
 *
 * @example
 * ```ts
 * const model = createModel({ kind: 'relu-output', instances: 7, features: 20, hidden: 5, seed: 0 });
 * ```
 */
export function createModel(config: ModelConfig): ToyModel {
  const kind = checkOneOf(config?.kind, 'model.kind', MODEL_KINDS);
  switch (kind) {
    case 'linear':
      return new LinearModel(config);
    case 'relu-output':
      return new ReluOutputModel(config);
    case 'relu-hidden':
      return new ReluHiddenModel(config);
    case 'abs':
      return new AbsModel(config);
  }
}
