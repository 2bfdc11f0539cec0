import { MAX_TENSOR_VALUES } from './memory.js';
import { ConfigError, Rng, ShapeError, WEIGHT_STREAM, checkInt, checkLength, checkNumber, checkOneOf } from '@tms/data';
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
  /**
   * Global index of this batch's first instance (default 0). Instance `i` draws
   * its initial weights from its own stream `(seed, WEIGHT_STREAM + firstInstance + i)`,
   * so a sweep cut into chunks, shards or worker ranges starts every instance
   * from the same weights as one batch of all of them.
   */
  firstInstance?: number;
  /**
   * Multiplies the standard deviation of the Xavier-normal initial weights
   * (default 1). Small values (e.g. 0.1) start training near the origin, where
   * features are learned in stages (saddle to saddle), as in studies of
   * learning dynamics.
   */
  initScale?: number;
  /**
   * Take the Xavier fans as torch's `xavier_normal_` does for one 3-D
   * `[xavierInstances, rows, cols]` tensor, the way the official notebook and ARENA
   * initialise their batched weights: fan_in = rows·cols, fan_out = xavierInstances·cols,
   * so std = sqrt(2 / (cols · (rows + xavierInstances))), far smaller than one matrix's
   * (0.18× for W₁ and 0.17× for W₂ at n = 100, m = 40, 7 instances). Unset (the default): each instance's
   * matrix alone, std = sqrt(2 / (rows + cols)). It is a number rather than the batch's
   * own instance count, so restarts or seeds trained as extra instances start from the
   * same weights as alone. A model's resolved `config` holds 0 when it is unset.
   */
  xavierInstances?: number;
  /**
   * `abs` model only: the signs of the initial W₂ (default `'normal'`, as drawn).
   * With zero biases an output whose W₂ row meets its feature's neurons with
   * negative weight cannot fire for that feature alone (W₂ᵢ·ReLU(±W₁ᵢ) ≤ 0), gets
   * no gradient from it and, when features are sparse, never recovers: from normal
   * W₂ a quarter of the outputs start so for both signs and half for one
   * (n = 100, m = 40). `'positive'` takes |W₂| from the same draws (half-normal;
   * W₁ unchanged), so every output starts live for both signs.
   */
  w2Signs?: W2Signs;
}

/** Plain-array copy of a parameter: row-major data and its shape. */
export interface ParamArray {
  /** The values, row-major. */
  data: Float32Array;
  /** The shape, e.g. `[instances, features, hidden]`. */
  shape: number[];
}

/**
 * The size of a batched model, as every {@link ToyModel} declares it. `kind` is
 * a label: one of {@link MODEL_KINDS} for the built-in models, any string for
 * yours (engines never route a model by its kind).
 */
export interface ModelShape {
  /** A label of the model family, e.g. `"relu-output"` or `"tanh-output"`. */
  kind: ModelKind | (string & {});
  /** Number of independent models trained together in one batched tensor. */
  instances: number;
  /** Number of features n. */
  features: number;
  /** Number of hidden dimensions (or neurons) m. */
  hidden: number;
}

/**
 * A batch of independent toy models ("instances") sharing one set of batched
 * tensors. Inputs are `[instances, batch, features]`. Implement it to train
 * your own model with `train()`: the autodiff engine differentiates your
 * `forward()`.
 */
export interface ToyModel<P extends string = string> {
  /** Size and family label. */
  readonly config: Readonly<ModelShape>;
  /** Trainable variables by name, e.g. `W` `[I, n, m]` and `b` `[I, n]`. */
  readonly params: Readonly<Record<P, tf.Variable>>;
  /** Forward pass: `[I, B, n]` → `[I, B, n]`. */
  forward(x: tf.Tensor3D): tf.Tensor3D;
  /** Hidden activations `[I, B, m]`. */
  hiddenActivations(x: tf.Tensor3D): tf.Tensor3D;
  /** The target the model is trained to reproduce: `x` itself, or `|x|` for the abs model. */
  target(x: tf.Tensor3D): tf.Tensor3D;
  /** Copy every parameter to plain arrays (keyed by the names in {@link ParamNames} for the built-in kinds). */
  getParams(): Promise<Record<P, ParamArray>>;
  /** Overwrite parameters from plain arrays (shapes must match). */
  setParams(values: Record<string, ParamArray | Float32Array>): void;
  /** Free the variables. */
  dispose(): void;
}

/**
 * The parameter names of a built-in model kind: `W` and `b` for the tied
 * models, `W1`, `W2` and `b` for `abs`; any string for a union of kinds.
 */
export type ParamNames<K extends ModelKind> = [K] extends ['abs'] ? 'W1' | 'W2' | 'b' : [K] extends ['linear' | 'relu-output' | 'relu-hidden'] ? 'W' | 'b' : string;

/** Validate a model config, filling defaults. Throws `ConfigError` naming the bad field. */
export function validateModelConfig(config: ModelConfig, prefix = 'model'): Required<ModelConfig> {
  if (config == null || typeof config !== 'object') {
    throw new ConfigError(prefix, 'an object like {"kind": "relu-output", "instances": 1, "features": 20, "hidden": 5}', config);
  }
  const valid = {
    kind: checkOneOf(config.kind, `${prefix}.kind`, MODEL_KINDS),
    instances: checkInt(config.instances, `${prefix}.instances`, 1),
    features: checkInt(config.features, `${prefix}.features`, 1),
    hidden: checkInt(config.hidden, `${prefix}.hidden`, 1),
    seed: config.seed === undefined ? 0 : checkInt(config.seed, `${prefix}.seed`, 0, 0xffffffff),
    firstInstance: config.firstInstance === undefined ? 0 : checkInt(config.firstInstance, `${prefix}.firstInstance`, 0, WEIGHT_STREAM - 1),
    initScale: config.initScale === undefined ? 1 : checkNumber(config.initScale, `${prefix}.initScale`, Number.MIN_VALUE, 1e3),
    xavierInstances: config.xavierInstances === undefined ? 0 : checkInt(config.xavierInstances, `${prefix}.xavierInstances`, 1, 1e6),
    w2Signs: checkW2Signs(config, prefix),
  };
  // refuse before allocating: W holds instances × features × hidden floats in one array
  const values = valid.instances * valid.features * valid.hidden;
  if (values > MAX_TENSOR_VALUES) {
    throw new ConfigError(
      `${prefix}.hidden`,
      `sizes whose weights fit one array: instances × features × hidden ≤ ${MAX_TENSOR_VALUES} (got ${valid.instances} × ${valid.features} × ${valid.hidden} = ${values})`,
      valid.hidden,
    );
  }
  return valid;
}

/** The signs of the `abs` model's initial W₂: see {@link ModelConfig.w2Signs}. */
export const W2_SIGNS = ['normal', 'positive'] as const;

/** One of {@link W2_SIGNS}. */
export type W2Signs = (typeof W2_SIGNS)[number];

/** `w2Signs`: one of {@link W2_SIGNS}, and other than `'normal'` only for the `abs` model (the only one with a W₂). */
function checkW2Signs(config: ModelConfig, prefix: string): W2Signs {
  if (config.w2Signs === undefined) return 'normal';
  const value = checkOneOf(config.w2Signs, `${prefix}.w2Signs`, W2_SIGNS);
  if (value !== 'normal' && config.kind !== 'abs') throw new ConfigError(`${prefix}.w2Signs`, `"normal" or unset for kind "${config.kind}" (only "abs" has a W₂)`, value);
  return value;
}

/**
 * Xavier-normal initialisation of `instances` matrices of shape `[rows, cols]`,
 * std = scale · sqrt(2 / (rows + cols)); with `fanInstances`, the fans torch's
 * `xavier_normal_` takes for a `[fanInstances, rows, cols]` tensor (the official
 * notebook's), std = scale · sqrt(2 / (cols · (rows + fanInstances))). Matrix `i` is
 * drawn from `rngs[i]` (one generator per instance), or every matrix from one
 * generator in turn.
 */
export function xavierNormal(instances: number, rows: number, cols: number, rng: Rng | readonly Rng[], scale = 1, fanInstances?: number): Float32Array {
  const std = scale * Math.sqrt(2 / (fanInstances ? cols * (rows + fanInstances) : rows + cols));
  const size = rows * cols;
  const out = new Float32Array(instances * size);
  for (let k = 0; k < instances; k++) {
    const r = Array.isArray(rng) ? (rng as readonly Rng[])[k] : (rng as Rng);
    for (let i = k * size; i < (k + 1) * size; i++) out[i] = r.normal() * std;
  }
  return out;
}

/** One weight-initialisation generator per instance, keyed by (seed, global instance index). */
function instanceRngs(config: Required<ModelConfig>): Rng[] {
  return Array.from({ length: config.instances }, (_, i) => new Rng(config.seed, WEIGHT_STREAM + config.firstInstance + i));
}

abstract class BaseModel<P extends string = string> implements ToyModel<P> {
  readonly config: Readonly<Required<ModelConfig>>;
  readonly params: Record<P, tf.Variable>;

  constructor(config: ModelConfig) {
    this.config = Object.freeze(validateModelConfig(config));
    this.params = this.init(instanceRngs(this.config));
  }

  /** Create the variables; `rngs[i]` initialises instance `i`. */
  protected abstract init(rngs: Rng[]): Record<P, tf.Variable>;
  abstract forward(x: tf.Tensor3D): tf.Tensor3D;
  abstract hiddenActivations(x: tf.Tensor3D): tf.Tensor3D;

  target(x: tf.Tensor3D): tf.Tensor3D {
    return x;
  }

  async getParams(): Promise<Record<P, ParamArray>> {
    const out: Record<string, ParamArray> = {};
    for (const [name, v] of Object.entries<tf.Variable>(this.params)) {
      out[name] = { data: (await v.data()) as Float32Array, shape: v.shape.slice() };
    }
    return out as Record<P, ParamArray>;
  }

  setParams(values: Record<string, ParamArray | Float32Array>): void {
    for (const [name, value] of Object.entries(values)) {
      const v = (this.params as Record<string, tf.Variable | undefined>)[name];
      if (!v) throw new ConfigError(`params.${name}`, `a parameter of this model: ${Object.keys(this.params).join(', ')}`, name);
      const data = value instanceof Float32Array ? value : value?.data;
      checkLength(data, v.size, name);
      if (!(value instanceof Float32Array) && value.shape.join(',') !== v.shape.join(',')) {
        throw new ShapeError(name, `shape [${v.shape.join(', ')}]`, value.shape);
      }
      tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
    }
  }

  dispose(): void {
    for (const v of Object.values<tf.Variable>(this.params)) v.dispose();
  }

  /** `[I, n]` bias reshaped to broadcast over the batch: `[I, 1, n]`. */
  protected bias3(name = 'b'): tf.Tensor3D {
    const b = (this.params as Record<string, tf.Variable>)[name];
    return tf.reshape(b, [b.shape[0] as number, 1, b.shape[1] as number]) as tf.Tensor3D;
  }

  protected variable(name: string, data: Float32Array, shape: number[]): tf.Variable {
    // the variable copies its initial value; free that tensor so dispose() leaves nothing behind
    const init = tf.tensor(data, shape);
    const v = tf.variable(init, true, `${name}_${uid++}`);
    init.dispose();
    return v;
  }
}

let uid = 0;

/**
 * What the library's tied-weight models declare about themselves, so that an
 * engine can train them without calling `forward()`: x′ = act(WᵀW x + b) with
 * `W` `[I, n, m]` and `b` `[I, n]`.
 */
export interface TiedLayout {
  /** The output nonlinearity: `identity` (LinearModel) or `relu` (ReluOutputModel). */
  activation: 'identity' | 'relu';
  /** Weights `[I, n, m]`. */
  W: tf.Variable;
  /** Biases `[I, n]`. */
  b: tf.Variable;
}

const tiedLayouts = new WeakMap<object, TiedLayout>();

/**
 * The tied layout a model declares, or undefined. Only instances of exactly
 * {@link LinearModel} or {@link ReluOutputModel} declare one: a subclass (which
 * may override `forward`) or a look-alike object never does, so engines that
 * rely on the layout never train a model that computes something else.
 */
export function tiedLayout(model: ToyModel): TiedLayout | undefined {
  return model != null && typeof model === 'object' ? tiedLayouts.get(model) : undefined;
}

/**
 * What the library's models with a ReLU hidden layer declare about themselves,
 * so that an engine can train them without calling `forward()`: with samples
 * as rows, h = ReLU(x W₁) and x′ = ReLU(h W₂ + b), the loss taken against
 * `target(x)`.
 */
export interface HiddenLayout {
  /** Input weights W₁ `[I, n, m]`: `W` of {@link ReluHiddenModel}, `W1` of {@link AbsModel}. */
  W1: tf.Variable;
  /** Output weights `[I, m, n]` (`W2` of {@link AbsModel}), or null when tied to the input weights (W₂ = W₁ᵀ, {@link ReluHiddenModel}). */
  W2: tf.Variable | null;
  /** Output biases `[I, n]`. */
  b: tf.Variable;
  /** What the output is trained to match: the input itself (`identity`) or its absolute value (`abs`). */
  target: 'identity' | 'abs';
}

const hiddenLayouts = new WeakMap<object, HiddenLayout>();

/**
 * The ReLU-hidden-layer layout a model declares, or undefined. Only instances
 * of exactly {@link ReluHiddenModel} or {@link AbsModel} declare one; like
 * {@link tiedLayout}, a subclass or a look-alike never does.
 *
 * @example
 * ```ts
 * hiddenLayout(createModel({ kind: 'abs', instances: 1, features: 3, hidden: 6 }))?.target; // 'abs'
 * ```
 */
export function hiddenLayout(model: ToyModel): HiddenLayout | undefined {
  return model != null && typeof model === 'object' ? hiddenLayouts.get(model) : undefined;
}

/** Tied-weight autoencoder x' = act(WᵀW x + b), with W stored as `[I, n, m]`. */
abstract class TiedModel extends BaseModel<'W' | 'b'> {
  protected init(rngs: Rng[]): Record<'W' | 'b', tf.Variable> {
    const { instances: I, features: n, hidden: m } = this.config;
    return {
      W: this.variable('W', xavierNormal(I, n, m, rngs, this.config.initScale, this.config.xavierInstances), [I, n, m]),
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
  constructor(config: ModelConfig) {
    super(config);
    if (new.target === LinearModel) tiedLayouts.set(this, { activation: 'identity', W: this.params.W, b: this.params.b });
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.preActivation(this.hiddenActivations(x)));
  }
}

/** ReLU-output model x' = ReLU(WᵀW x + b): the paper's main toy model. */
export class ReluOutputModel extends TiedModel {
  constructor(config: ModelConfig) {
    super(config);
    if (new.target === ReluOutputModel) tiedLayouts.set(this, { activation: 'relu', W: this.params.W, b: this.params.b });
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => tf.relu(this.preActivation(this.hiddenActivations(x))) as tf.Tensor3D);
  }
}

/** Privileged-basis model: h = ReLU(W x), x' = ReLU(Wᵀ h + b). */
export class ReluHiddenModel extends TiedModel {
  constructor(config: ModelConfig) {
    super(config);
    if (new.target === ReluHiddenModel) hiddenLayouts.set(this, { W1: this.params.W, W2: null, b: this.params.b, target: 'identity' });
  }

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
export class AbsModel extends BaseModel<'W1' | 'W2' | 'b'> {
  constructor(config: ModelConfig) {
    super(config);
    if (new.target === AbsModel) hiddenLayouts.set(this, { W1: this.params.W1, W2: this.params.W2, b: this.params.b, target: 'abs' });
  }

  protected init(rngs: Rng[]): Record<'W1' | 'W2' | 'b', tf.Variable> {
    const { instances: I, features: n, hidden: m } = this.config;
    // each instance's generator draws its W1, then its W2
    const W1 = xavierNormal(I, n, m, rngs, this.config.initScale, this.config.xavierInstances);
    const W2 = xavierNormal(I, m, n, rngs, this.config.initScale, this.config.xavierInstances);
    if (this.config.w2Signs === 'positive') for (let i = 0; i < W2.length; i++) W2[i] = Math.abs(W2[i]);
    return {
      W1: this.variable('W1', W1, [I, n, m]),
      W2: this.variable('W2', W2, [I, m, n]),
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
export function createModel<K extends ModelKind>(config: ModelConfig & { kind: K }): ToyModel<ParamNames<K>>;
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
