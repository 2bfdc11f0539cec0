import { dims, type BatchedWeights } from './weights.js';

/** How many features one hidden neuron responds to. */
export interface NeuronStats {
  /** The neuron's index. */
  neuron: number;
  /** The feature with the largest squared weight into this neuron (-1 for a dead neuron). */
  dominantFeature: number;
  /** Its share of the neuron's squared input weights: 1 = monosemantic. */
  maxShare: number;
  /** Participation ratio 1/Σ shareᵢ²: ≈ 1 monosemantic, ≈ k for k equal features. */
  effectiveFeatures: number;
  /** Total squared input weight ‖W_{:,neuron}‖². */
  weight: number;
}

/**
 * Polysemanticity of each hidden neuron from the feature→neuron weights
 * `[instances, features, neurons]` (W of a ReLU-hidden model, W₁ of the abs
 * model). Neurons with total squared weight below `deadThreshold` are dead.
 */
export function neuronPolysemanticity(W: BatchedWeights, deadThreshold = 1e-3): NeuronStats[][] {
  const [I, n, m] = dims(W);
  const out: NeuronStats[][] = [];
  for (let k = 0; k < I; k++) {
    const row: NeuronStats[] = [];
    for (let h = 0; h < m; h++) {
      let total = 0;
      let best = -1;
      let bestV = 0;
      const sq: number[] = [];
      for (let i = 0; i < n; i++) {
        const w = W.data[(k * n + i) * m + h];
        const v = w * w;
        sq.push(v);
        total += v;
        if (v > bestV) {
          bestV = v;
          best = i;
        }
      }
      if (total < deadThreshold) {
        row.push({ neuron: h, dominantFeature: -1, maxShare: 0, effectiveFeatures: 0, weight: total });
        continue;
      }
      const pr = 1 / sq.reduce((s, v) => s + (v / total) ** 2, 0);
      row.push({ neuron: h, dominantFeature: best, maxShare: bestV / total, effectiveFeatures: pr, weight: total });
    }
    out.push(row);
  }
  return out;
}
