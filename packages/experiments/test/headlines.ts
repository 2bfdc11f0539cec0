// The headline claims of every experiment (CLAIMS in src/claims.ts, the list `tms check`
// evaluates), asserted on `experiment.headline(results)` of its quick variant: by the CLI
// tests (Node, worker threads) and by the docs' browser tests (the live run in Chromium),
// so both check the same numbers.
import { expect } from 'vitest';
import { evaluateClaims, experiments, resolveConfig, type ExperimentName } from '../src/index.js';

/** Assert every claim of `name` on its headline numbers (config: the quick variant unless given). */
function assertClaims(name: ExperimentName, headline: Record<string, number>, config?: Record<string, unknown>): void {
  const c = config ?? (resolveConfig(experiments[name] as never, {}, 'quick') as Record<string, unknown>);
  const results = evaluateClaims(name, headline, c);
  expect(results.length, `claims of ${name}`).toBeGreaterThan(0);
  for (const r of results) if (!r.skipped) expect(r.pass, `${r.id}: ${r.statement}; measured ${r.value}, expected ${r.expected}`).toBe(true);
}

/** One check per experiment of the catalogue. */
export const HEADLINE_CLAIMS = Object.fromEntries(
  (Object.keys(experiments) as ExperimentName[]).map((name) => [name, (h: Record<string, number>, config?: Record<string, unknown>) => assertClaims(name, h, config)]),
) as Record<ExperimentName, (h: Record<string, number>, config?: Record<string, unknown>) => void>;
