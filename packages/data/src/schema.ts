/**
 * Config schemas: one declaration per field (type, bounds, documentation), and
 * the validator that turns user input into a checked config with `ConfigError`s
 * that name the field and the allowed values.
 */
import { ConfigError, checkBoolean, checkInt, checkNumber, checkOneOf } from './spec.js';

/**
 * Schema of one config field: its type, bounds, a line of documentation and
 * its default. A schema whose fields all carry defaults is the one declaration
 * of a config: {@link ConfigFromSchema} gives its type, {@link defaultsOf} its
 * defaults.
 */
export type FieldSpec =
  | { type: 'int'; min: number; max?: number; doc: string; default?: number }
  | { type: 'number'; min?: number; max?: number; doc: string; default?: number }
  | { type: 'boolean'; doc: string; default?: boolean }
  | { type: 'enum'; options: readonly string[]; doc: string; default?: string }
  | { type: 'numbers'; min?: number; max?: number; minLength?: number; doc: string; default?: readonly number[] }
  | { type: 'enums'; options: readonly string[]; minLength?: number; doc: string; default?: readonly string[] };

/** A config schema: one {@link FieldSpec} per field. */
export type ConfigSchema<C> = { [K in keyof C]: FieldSpec };

/** The value type of a field: `int`/`number` → number, `enum` → the union of its options, … */
export type FieldValue<F extends FieldSpec> = F extends { type: 'int' | 'number' }
  ? number
  : F extends { type: 'boolean' }
    ? boolean
    : F extends { type: 'enum'; options: readonly (infer O)[] }
      ? O
      : F extends { type: 'numbers' }
        ? number[]
        : F extends { type: 'enums'; options: readonly (infer O)[] }
          ? O[]
          : never;

/**
 * The config type a schema declares, e.g. `{ steps: { type: 'int', … } }` →
 * `{ steps: number }` (field docs carry over to the properties).
 *
 * @example
 * ```ts
 * const schema = { steps: { type: 'int', min: 1, doc: 'training steps', default: 1000 } } as const;
 * type Config = ConfigFromSchema<typeof schema>; // { steps: number }
 * ```
 */
export type ConfigFromSchema<S extends Record<string, FieldSpec>> = { -readonly [K in keyof S]: FieldValue<S[K]> };

/**
 * The defaults a schema declares, as a config (arrays copied).
 *
 * @throws ConfigError naming a field that has no default
 */
export function defaultsOf<S extends Record<string, FieldSpec>>(schema: S): ConfigFromSchema<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.default === undefined) throw new ConfigError(`${key}.default`, 'a default value in the schema', undefined);
    out[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  return out as ConfigFromSchema<S>;
}

/** Describe what a field accepts, for help text and error messages. */
export function describeField(spec: FieldSpec): string {
  switch (spec.type) {
    case 'int':
      return `integer in [${spec.min}, ${spec.max ?? '∞'}]`;
    case 'number':
      return `number in [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`;
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.options.map((o) => JSON.stringify(o)).join(', ')}`;
    case 'numbers':
      return `array of ≥ ${spec.minLength ?? 1} numbers in [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`;
    case 'enums':
      return `array of ≥ ${spec.minLength ?? 1} of ${spec.options.map((o) => JSON.stringify(o)).join(', ')}`;
  }
}

function checkField(spec: FieldSpec, value: unknown, field: string): unknown {
  switch (spec.type) {
    case 'int':
      return checkInt(value, field, spec.min, spec.max);
    case 'number':
      return checkNumber(value, field, spec.min, spec.max);
    case 'boolean':
      return checkBoolean(value, field);
    case 'enum':
      return checkOneOf(value, field, spec.options);
    case 'numbers':
    case 'enums': {
      const min = spec.minLength ?? 1;
      if (!Array.isArray(value) || value.length < min) throw new ConfigError(field, describeField(spec), value);
      return value.map((v, i) =>
        spec.type === 'numbers' ? checkNumber(v, `${field}[${i}]`, spec.min, spec.max) : checkOneOf(v, `${field}[${i}]`, spec.options),
      );
    }
  }
}

/**
 * Validate a (partial) config against a schema, merging it over `defaults`.
 * Unknown fields are rejected with the list of known ones; every bad value
 * raises a `ConfigError` naming the field and the allowed values.
 */
export function validateConfig<C extends object>(schema: ConfigSchema<C>, defaults: C, input: unknown): C {
  if (input == null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError('(config)', 'a JSON object', input);
  }
  const known = Object.keys(schema);
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) throw new ConfigError(key, `a known field: ${known.join(', ')}`, (input as Record<string, unknown>)[key]);
  }
  const merged = { ...defaults, ...(input as Partial<C>) } as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of known) out[key] = checkField((schema as Record<string, FieldSpec>)[key], merged[key], key);
  return out as C;
}

