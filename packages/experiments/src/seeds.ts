import { evaluateClaims } from './claims.js';
import type { Experiment } from './types.js';

/** The spread of one number over replicate seeds. */
export interface SeedSpread {
  /** One value per seed, in the order of {@link SeedSummary.seeds} (NaN where a run lacks it). */
  values: number[];
  /** The smallest finite value (NaN when there is none). */
  min: number;
  /** The median of the finite values (the mean of the middle two for an even count). */
  median: number;
  /** The largest finite value. */
  max: number;
}

/** One claim over replicate seeds. */
export interface SeedClaim {
  /** The claim's id, e.g. `intro.relu-dense-top5`. */
  id: string;
  /** The claim in words. */
  statement: string;
  /** The paper section it comes from. */
  section: string;
  /** The condition on the measured value, e.g. `= 5` (from the first seed's config). */
  expected: string;
  /** The measured value per seed (NaN where skipped or missing). */
  values: number[];
  /** Seeds on which it holds, of those it applies to. */
  passed: number;
  /** Seeds the claim applies to (skipped ones left out). */
  of: number;
}

/** Replicate runs of one experiment, summarised: what `tms run --seeds K` writes to `seeds.json`. */
export interface SeedSummary {
  /** The experiment's name. */
  experiment: string;
  /** The seeds, in the order of every `values` array. */
  seeds: number[];
  /** Each headline number (`experiment.headline`) over the seeds. */
  headline: Record<string, SeedSpread>;
  /** Each of the experiment's claims (`CLAIMS`) over the seeds. */
  claims: SeedClaim[];
}

/** Min, median and max of the finite values (NaN when there are none). */
export function spread(values: readonly number[]): Omit<SeedSpread, 'values'> {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { min: NaN, median: NaN, max: NaN };
  const mid = v.length >> 1;
  return { min: v[0], median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, max: v[v.length - 1] };
}

/**
 * Summarise replicate runs of `exp` (one per seed, same config otherwise):
 * every headline number with its min / median / max, and every claim with
 * the seeds it holds on. Pure: the CLI writes it as `seeds.json`, a page can
 * compute it from runs in memory.
 *
 * @param runs - per seed, the run's results and config (as in `results.json`)
 * @throws Error when `exp` has no headline numbers
 * @example
 * ```ts
 * const runs = [];
 * for (const seed of [0, 1, 2]) {
 *   const config = resolveConfig(experiments.intro, { seed }, 'quick');
 *   runs.push({ seed, config, results: (await experiments.intro.run(config, ctx)).results });
 * }
 * summarizeSeeds(experiments.intro, runs).headline.reluSparsestRepresented; // { values, min, median, max }
 * ```
 */
export function summarizeSeeds<C extends object>(
  exp: Experiment<C>,
  runs: readonly { seed: number; results: Record<string, unknown>; config: C }[],
): SeedSummary {
  if (!exp.headline) throw new Error(`${exp.name} has no headline numbers to summarise over seeds`);
  const headlines = runs.map((r) => exp.headline!(r.results as never));
  const keys = [...new Set(headlines.flatMap((h) => Object.keys(h)))];
  const headline: Record<string, SeedSpread> = {};
  for (const k of keys) {
    const values = headlines.map((h) => (k in h ? Number(h[k]) : NaN));
    headline[k] = { values, ...spread(values) };
  }
  const perSeed = runs.map((r, i) => evaluateClaims(exp.name, headlines[i], r.config as Record<string, unknown>));
  const claims: SeedClaim[] = (perSeed[0] ?? []).map((c, j) => {
    const rows = perSeed.map((rs) => rs[j]);
    const applied = rows.filter((r) => !r.skipped);
    return {
      id: c.id,
      statement: c.statement,
      section: c.section,
      expected: c.expected,
      values: rows.map((r) => (r.skipped ? NaN : r.value)),
      passed: applied.filter((r) => r.pass).length,
      of: applied.length,
    };
  });
  return { experiment: exp.name, seeds: runs.map((r) => r.seed), headline, claims };
}
