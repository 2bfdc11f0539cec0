import { checkInt, checkNumber, checkOneOf, ConfigError } from '@tms/data';
import { tf } from './tf.js';

/** Optimizer families. `adamw` applies decoupled weight decay (Loshchilov & Hutter). */
export const OPTIMIZERS = ['adam', 'adamw'] as const;

/** Optimizer configuration. */
export interface OptimizerConfig {
  /** `adam` (weight decay added to the gradient, as PyTorch's Adam) or `adamw` (decoupled). */
  name: (typeof OPTIMIZERS)[number];
  /** Base learning rate. Default 1e-3. */
  lr?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  epsilon?: number;
  /** Weight decay. Default 0 for adam, 0.01 for adamw (PyTorch's defaults). */
  weightDecay?: number;
}

/** Refuse fields a config does not have (a typo would otherwise be ignored). */
function checkKnownKeys(c: object, prefix: string, known: string[]): void {
  for (const key of Object.keys(c)) {
    if (!known.includes(key)) throw new ConfigError(`${prefix}.${key}`, `a known field: ${known.join(', ')}`, (c as Record<string, unknown>)[key]);
  }
}

/** Validate an optimizer config and fill defaults. */
export function validateOptimizerConfig(c: OptimizerConfig, prefix = 'optimizer'): Required<OptimizerConfig> {
  if (c == null || typeof c !== 'object') throw new ConfigError(prefix, 'an object like {"name": "adam"}', c);
  checkKnownKeys(c, prefix, ['name', 'lr', 'beta1', 'beta2', 'epsilon', 'weightDecay']);
  const name = checkOneOf(c.name, `${prefix}.name`, OPTIMIZERS);
  return {
    name,
    lr: c.lr === undefined ? 1e-3 : checkNumber(c.lr, `${prefix}.lr`, 0, 10),
    beta1: c.beta1 === undefined ? 0.9 : checkNumber(c.beta1, `${prefix}.beta1`, 0, 0.999999),
    beta2: c.beta2 === undefined ? 0.999 : checkNumber(c.beta2, `${prefix}.beta2`, 0, 0.999999999),
    epsilon: c.epsilon === undefined ? 1e-8 : checkNumber(c.epsilon, `${prefix}.epsilon`, 0, 1),
    weightDecay:
      c.weightDecay === undefined ? (name === 'adamw' ? 0.01 : 0) : checkNumber(c.weightDecay, `${prefix}.weightDecay`, 0, 10),
  };
}

/**
 * Adam / AdamW over tfjs variables, with an explicit learning rate per step so
 * that schedules can drive it. Bias-corrected moments, like PyTorch.
 *
 * Update for parameter p with gradient g at step t (1-based):
 * - adam: g ← g + wd·p
 * - adamw: p ← p·(1 − lr·wd)
 * - m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 */
export class AdamOptimizer {
  /** The validated config, defaults filled in. */
  readonly config: Readonly<Required<OptimizerConfig>>;
  private t = 0;
  private readonly m = new Map<tf.Variable, tf.Variable>();
  private readonly v = new Map<tf.Variable, tf.Variable>();

  constructor(config: OptimizerConfig) {
    this.config = Object.freeze(validateOptimizerConfig(config));
  }

  /** Number of steps applied so far. */
  get step(): number {
    return this.t;
  }

  /**
   * Apply one update.
   * @param grads - gradient for each variable (as returned by `tf.variableGrads`, keyed by variable name)
   * @param vars - the variables, in any order
   * @param lr - learning rate for this step (defaults to the configured one)
   */
  apply(grads: Record<string, tf.Tensor>, vars: tf.Variable[], lr = this.config.lr): void {
    this.t += 1;
    const { beta1, beta2, epsilon, weightDecay, name } = this.config;
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    const stepSize = lr / bc1;
    tf.tidy(() => {
      for (const p of vars) {
        let g = grads[p.name];
        if (!g) continue;
        let m = this.m.get(p);
        let v = this.v.get(p);
        if (!m || !v) {
          m = tf.variable(tf.zerosLike(p), false);
          v = tf.variable(tf.zerosLike(p), false);
          this.m.set(p, m);
          this.v.set(p, v);
        }
        let param: tf.Tensor = p;
        if (weightDecay > 0) {
          if (name === 'adamw') param = tf.mul(p, 1 - lr * weightDecay);
          else g = tf.add(g, tf.mul(p, weightDecay));
        }
        const mNew = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(mNew);
        v.assign(vNew);
        const denom = tf.add(tf.sqrt(tf.div(vNew, bc2)), epsilon);
        p.assign(tf.sub(param, tf.mul(tf.div(mNew, denom), stepSize)));
      }
    });
  }

  /** Moment state, for checkpoints: `{t, m: {name: data}, v: {name: data}}`. */
  async getState(): Promise<{ t: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> }> {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [p, t] of this.m) m[p.name] = (await t.data()) as Float32Array;
    for (const [p, t] of this.v) v[p.name] = (await t.data()) as Float32Array;
    return { t: this.t, m, v };
  }

  /** Free the moment tensors. */
  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/** Learning-rate schedule shapes. */
export const SCHEDULES = ['constant', 'linear', 'cosine', 'quarter-cosine'] as const;

/** Learning-rate schedule: a shape, plus an optional linear warm-up from 0. */
export interface ScheduleConfig {
  /**
   * `constant`, `linear` (decays to `finalFraction·lr`), `cosine` (half a cosine
   * period down to `finalFraction·lr`) or `quarter-cosine` (the official
   * notebook's `cosine_decay_lr`, lr·cos(½π·t/(T−1)): a quarter period, so the
   * rate stays high longer; down to `finalFraction·lr`).
   */
  name: (typeof SCHEDULES)[number];
  /** Steps of linear warm-up from 0 to the base lr. Default 0. */
  warmupSteps?: number;
  /** Fraction of the base lr reached at the last step (linear/cosine). Default 0. */
  finalFraction?: number;
}

/** Schedules returned by validateScheduleConfig (no need to check them again on every step). */
const validated = new WeakSet<object>();

/** Validate a schedule config and fill defaults. */
export function validateScheduleConfig(c: ScheduleConfig, prefix = 'schedule'): Required<ScheduleConfig> {
  if (c == null || typeof c !== 'object') throw new ConfigError(prefix, 'an object like {"name": "constant"}', c);
  if (validated.has(c)) return c as Required<ScheduleConfig>;
  checkKnownKeys(c, prefix, ['name', 'warmupSteps', 'finalFraction']);
  const out: Required<ScheduleConfig> = {
    name: checkOneOf(c.name, `${prefix}.name`, SCHEDULES),
    warmupSteps: c.warmupSteps === undefined ? 0 : checkInt(c.warmupSteps, `${prefix}.warmupSteps`, 0),
    finalFraction: c.finalFraction === undefined ? 0 : checkNumber(c.finalFraction, `${prefix}.finalFraction`, 0, 1),
  };
  validated.add(out);
  return out;
}

/**
 * Learning rate at `step` (0-based) of `totalSteps` for base rate `lr`.
 *
 * @example
 * ```ts
 * learningRateAt({ name: 'cosine', warmupSteps: 100 }, 1e-3, 500, 10_000);
 * ```
 */
export function learningRateAt(schedule: ScheduleConfig, lr: number, step: number, totalSteps: number): number {
  const s = validated.has(schedule) ? (schedule as Required<ScheduleConfig>) : validateScheduleConfig(schedule);
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (lr * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, totalSteps - s.warmupSteps - 1);
  const frac = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  const lo = lr * s.finalFraction;
  switch (s.name) {
    case 'constant':
      return lr;
    case 'linear':
      return lr + (lo - lr) * frac;
    case 'cosine':
      return lo + (lr - lo) * 0.5 * (1 + Math.cos(Math.PI * frac));
    case 'quarter-cosine':
      return lo + (lr - lo) * Math.cos(0.5 * Math.PI * frac);
  }
}
