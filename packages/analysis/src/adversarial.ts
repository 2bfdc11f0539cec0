import { spectralNorm } from './linalg.js';
import { REPRESENTED_THRESHOLD, featureNorms, interference } from './metrics.js';
import { dims, type BatchedWeights } from './weights.js';

/** Vulnerability of one instance. */
export interface Vulnerability {
  /** Per feature: the worst-case gain of an L2 attack at x = eᵢ (0 for unrepresented features). */
  perFeature: number[];
  /** Mean gain over represented features. */
  mean: number;
}

/**
 * Adversarial vulnerability of tied ReLU-output models x′ = ReLU(WᵀW x + b).
 *
 * For each represented feature i the input is the single active feature x = eᵢ;
 * the most damaging small perturbation δ (‖δ‖ = ε) moves the output by
 * σ_max(J)·ε, where J = diag(1[WᵀWeᵢ + b > 0]) WᵀW is the model's Jacobian there,
 * so σ_max(J) is the optimal attack's gain. A model without superposition has
 * gain ≈ 1 (it copies its input); superposition raises it, because a perturbation
 * along feature directions leaks into every feature that shares them.
 *
 * @param b - biases `[instances * features]`
 */
export function adversarialVulnerability(
  W: BatchedWeights,
  b: ArrayLike<number>,
  normThreshold = REPRESENTED_THRESHOLD,
): Vulnerability[] {
  const [I, n] = dims(W);
  if (b.length !== I * n) throw new Error(`bias needs ${I * n} values, got ${b.length}`);
  const G = interference(W);
  const norms = featureNorms(W);
  return G.map((g, k) => {
    const perFeature = norms[k].map((norm, i) => {
      if (!(norm > normThreshold)) return 0;
      const J = g.map((row, j) => (row[i] + b[k * n + j] > 0 ? row : row.map(() => 0)));
      return spectralNorm(J);
    });
    const rep = perFeature.filter((_, i) => norms[k][i] > normThreshold);
    return { perFeature, mean: rep.length ? rep.reduce((a, v) => a + v, 0) / rep.length : 0 };
  });
}
