import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * Shared vitest settings: long timeouts for training tests and a JSON report
 * per package that `scripts/test.mjs` sums into one closing line.
 */
export function vitestConfig(test: NonNullable<ViteUserConfig['test']> = {}) {
  return defineConfig({
    test: {
      testTimeout: 300_000,
      hookTimeout: 300_000,
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest-report.json' },
      ...test,
    },
  });
}
