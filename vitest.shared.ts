import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * Shared vitest settings: long timeouts for training tests, a JSON report per
 * package that `scripts/test.mjs` sums into one closing line, and source-first
 * resolution: the `@tms/source` export condition points every `@tms/*` import
 * at `src/`, so tests need no build and every package is loaded once.
 */
export function vitestConfig(test: NonNullable<ViteUserConfig['test']> = {}) {
  // Vite's defaultServerConditions, after ours
  const conditions = ['@tms/source', 'module', 'node', 'development|production'];
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      testTimeout: 300_000,
      hookTimeout: 300_000,
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest-report.json' },
      ...test,
    },
  });
}
