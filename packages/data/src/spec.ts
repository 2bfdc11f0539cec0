/**
 * A value given per instance and per feature, in any of three forms:
 * a single number (same everywhere), an array over features (same for every
 * instance), or an array over instances of arrays over features.
 */
export type PerFeature = number | ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/** Error raised for an invalid configuration value; names the field and what is allowed. */
export class ConfigError extends Error {
  /** Dotted path of the offending field, e.g. `"model.kind"`. */
  readonly field: string;
  /** Human-readable description of the allowed values. */
  readonly allowed: string;
  /** The value that was given. */
  readonly value: unknown;

  constructor(field: string, allowed: string, value: unknown) {
    super(`invalid config field "${field}": got ${describe(value)}; allowed: ${allowed}`);
    this.name = 'ConfigError';
    this.field = field;
    this.allowed = allowed;
    this.value = value;
  }
}

/**
 * Error raised for an array or tensor of the wrong size or shape; names the
 * argument, what was expected and what was given.
 */
export class ShapeError extends Error {
  /** Name of the offending argument or parameter, e.g. `"W"`. */
  readonly argument: string;
  /** What was expected, e.g. `"12 values"` or `"shape [2, 3]"`. */
  readonly expected: string;
  /** What was given (a length, a shape). */
  readonly actual: unknown;

  constructor(argument: string, expected: string, actual: unknown) {
    super(`invalid shape of "${argument}": expected ${expected}, got ${typeof actual === 'number' ? `${actual} values` : describe(actual)}`);
    this.name = 'ShapeError';
    this.argument = argument;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Check that `array` holds exactly `expected` values.
 *
 * @throws ShapeError naming `name`, the expected and the actual length
 */
export function checkLength<T extends ArrayLike<unknown>>(array: T, expected: number, name: string): T {
  const length = array != null && typeof array === 'object' ? array.length : undefined;
  if (length !== expected) throw new ShapeError(name, `${expected} values`, length === undefined ? array : length);
  return array;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'undefined';
  // JSON would print NaN and ±Infinity as null
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
  } catch {
    return String(v);
  }
}

/**
 * Expand a {@link PerFeature} value to a dense `Float32Array` of shape
 * `[instances, features]` (row-major), checking every entry lies in `[min, max]`.
 *
 * @param field - field name used in error messages
 */
export function expandPerFeature(
  value: PerFeature,
  instances: number,
  features: number,
  field: string,
  min = -Infinity,
  max = Infinity,
): Float32Array {
  const out = new Float32Array(instances * features);
  const check = (v: number, path: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new ConfigError(path, `a finite number in [${min}, ${max}]`, v);
    }
    return v;
  };
  const allowed = `a number, an array of ${features} numbers, or ${instances} arrays of ${features} numbers`;
  if (typeof value === 'number') {
    out.fill(check(value, field));
    return out;
  }
  if (value == null || typeof (value as ArrayLike<unknown>).length !== 'number') {
    throw new ConfigError(field, allowed, value);
  }
  const arr = value as ArrayLike<number | ArrayLike<number>>;
  if (arr.length > 0 && typeof arr[0] === 'number') {
    if (arr.length !== features) throw new ConfigError(field, allowed, value);
    for (let i = 0; i < instances; i++) {
      for (let f = 0; f < features; f++) out[i * features + f] = check(arr[f] as number, `${field}[${f}]`);
    }
    return out;
  }
  if (arr.length !== instances) throw new ConfigError(field, allowed, value);
  for (let i = 0; i < instances; i++) {
    const row = arr[i] as ArrayLike<number>;
    if (row == null || typeof row === 'number' || row.length !== features) {
      throw new ConfigError(`${field}[${i}]`, `an array of ${features} numbers`, row);
    }
    for (let f = 0; f < features; f++) out[i * features + f] = check(row[f], `${field}[${i}][${f}]`);
  }
  return out;
}

/** Check that `value` is an integer in `[min, max]`, else throw a {@link ConfigError}. */
export function checkInt(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

/** Check that `value` is a finite number in `[min, max]`, else throw a {@link ConfigError}. */
export function checkNumber(value: unknown, field: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(field, `a finite number in [${min}, ${max}]`, value);
  }
  return value;
}

/** Check that `value` is one of `options`, else throw a {@link ConfigError}. */
export function checkOneOf<T extends string>(value: unknown, field: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    throw new ConfigError(field, `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`, value);
  }
  return value as T;
}

/** Check that `value` is a boolean, else throw a {@link ConfigError}. */
export function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(field, 'true or false', value);
  return value;
}
