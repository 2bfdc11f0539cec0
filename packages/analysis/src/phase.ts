import { featureNorms, REPRESENTED_THRESHOLD, superposition } from './metrics.js';
import type { BatchedWeights } from './weights.js';

/** How a model treats one feature: ignored, given its own dimension, or stored in superposition. */
export type Phase = 'not-represented' | 'dedicated' | 'superposition';

/** The three phases, in the order figures use. */
export const PHASES: readonly Phase[] = ['not-represented', 'dedicated', 'superposition'];

/**
 * Classify how each instance represents `feature`: `not-represented` when
 * ‖W_f‖ ≤ normThreshold (default 0.5), `superposition` when other features
 * project onto it, Σ_{j≠f} (Ŵ_f·W_j)² > superpositionThreshold (default 1/4,
 * between an orthogonal feature's 0 and a triangle vertex's 1/2; an antipodal
 * pair gives 1), else `dedicated`.
 */
export function classifyFeature(
  W: BatchedWeights,
  feature: number,
  options: { normThreshold?: number; superpositionThreshold?: number } = {},
): Phase[] {
  const normT = options.normThreshold ?? REPRESENTED_THRESHOLD;
  const supT = options.superpositionThreshold ?? 0.25;
  const norms = featureNorms(W);
  const sup = superposition(W);
  return norms.map((row, k) => {
    if (!(row[feature] > normT)) return 'not-represented';
    return sup[k][feature] > supT ? 'superposition' : 'dedicated';
  });
}

/** Expected loss of each candidate solution and the best one. */
export interface TheoreticalPhase {
  /** The phase of the lowest-loss candidate. */
  phase: Phase;
  /** The lowest expected loss of a candidate in each phase (Infinity where none is). */
  losses: Record<Phase, number>;
}

/**
 * Theoretical phase of the extra feature for the n = 2, m = 1 ReLU-output model,
 * from the expected loss Σᵢ Iᵢ E[(xᵢ − x′ᵢ)²] of the three candidate solutions
 * (features are zero with probability S, else uniform on [0, 1]; p = 1 − S;
 * feature 1 has importance 1, the extra feature importance r):
 *
 * - not represented, W = (1, 0), b₂ = E[x₂]: r·Var(x₂) = r(p/3 − p²/4)
 * - dedicated dimension, W = (0, 1): Var(x₁) = p/3 − p²/4
 * - superposition, W = (1, −1), b = 0: errors only when both are present
 *   (probability p²), each then losing E[min(x₁,x₂)²] = 1/6: p²(1 + r)/6
 *
 * @param relativeImportance - r, importance of the extra feature relative to the other
 * @param density - p = 1 − S, the probability a feature is non-zero
 */
export function theoreticalPhaseN2M1(relativeImportance: number, density: number): TheoreticalPhase {
  const r = relativeImportance;
  const p = density;
  const variance = p / 3 - (p * p) / 4;
  const losses: Record<Phase, number> = {
    'not-represented': r * variance,
    dedicated: variance,
    superposition: (p * p * (1 + r)) / 6,
  };
  let phase: Phase = 'not-represented';
  for (const ph of PHASES) if (losses[ph] < losses[phase]) phase = ph;
  return { phase, losses };
}

/** Log-spaced values from `lo` to `hi` inclusive. */
export function logspace(lo: number, hi: number, count: number): number[] {
  if (count === 1) return [lo];
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: count }, (_, i) => Math.exp(a + ((b - a) * i) / (count - 1)));
}
