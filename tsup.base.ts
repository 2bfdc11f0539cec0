import type { Options } from 'tsup';

/**
 * Shared tsup settings for every package: ESM + CJS + .d.ts, sourcemaps.
 * tfjs-core's deep imports (gradient registration) are bundled because plain
 * Node cannot resolve their extensionless ESM specifiers.
 */
export function tsupOptions(overrides: Partial<Options> = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
    ...overrides,
  };
}
