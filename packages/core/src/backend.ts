import { checkOneOf } from '@tms/data';
import { tf } from './tf.js';

/**
 * The candidates to try for a preference, fastest first: all of `names` for
 * `auto`; `prefer` and the slower ones after it; or only `prefer` when `strict`.
 * Shared by `@tms/backend-node` and `@tms/backend-web`.
 *
 * @throws ConfigError when `prefer` is neither `auto` nor one of `names`
 */
export function candidateOrder<N extends string>(names: readonly N[], prefer: 'auto' | N = 'auto', strict = false): N[] {
  const p = checkOneOf(prefer, 'prefer', ['auto', ...names] as const);
  if (p === 'auto') return [...names];
  if (strict) return [p as N];
  return names.slice(names.indexOf(p as N));
}

/**
 * One backend to try: `load` makes it available (imports and registers it) and
 * returns the tfjs backend name to activate; it throws when the backend cannot be used.
 */
export interface BackendCandidate {
  /** Name shown to users, e.g. `"tfjs-node-gpu"`, `"wasm"`. */
  name: string;
  /** Import/register the backend; resolve to the tfjs backend name (e.g. `"tensorflow"`, `"wasm"`). */
  load: () => Promise<string>;
  /** Turn a load error into a short reason for the user. Default: the error message. */
  explain?: (error: unknown) => string;
}

/** Why a candidate was not used. */
export interface BackendSkip {
  /** The backend that was not used, e.g. `tfjs-node`. */
  name: string;
  /** Why, e.g. "not installed (…)". */
  reason: string;
}

/** The outcome of {@link selectBackend}. */
export interface BackendChoice {
  /** The candidate that runs. */
  name: string;
  /** The tfjs backend name now active (`tf.getBackend()`). */
  tfBackend: string;
  /** Candidates tried before it and why each was skipped. */
  skipped: BackendSkip[];
  /** One-line human-readable summary, e.g. "using wasm (tfjs-node-gpu: not installed; ...)". */
  message: string;
}

/**
 * Try backend candidates in order and activate the first that loads and
 * initialises. Shared by `@tms/backend-node` and `@tms/backend-web`; usable for
 * custom candidate lists.
 *
 * @throws Error listing every reason when no candidate works.
 */
export async function selectBackend(candidates: BackendCandidate[]): Promise<BackendChoice> {
  const skipped: BackendSkip[] = [];
  for (const c of candidates) {
    let tfName: string;
    try {
      tfName = await c.load();
    } catch (e) {
      skipped.push({ name: c.name, reason: c.explain ? c.explain(e) : errorMessage(e) });
      continue;
    }
    let ok = false;
    try {
      ok = await tf.setBackend(tfName);
      if (ok) await tf.ready();
    } catch (e) {
      skipped.push({ name: c.name, reason: `initialisation failed: ${errorMessage(e)}` });
      continue;
    }
    if (!ok || tf.getBackend() !== tfName) {
      skipped.push({ name: c.name, reason: `tfjs could not initialise backend "${tfName}"` });
      continue;
    }
    const why = skipped.length ? ` (skipped ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : '';
    return { name: c.name, tfBackend: tfName, skipped, message: `tms: using backend ${c.name}${why}` };
  }
  throw new Error(
    `no usable tfjs backend: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ') || 'no candidates given'}`,
  );
}

/** Message of any thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
