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

/** The neurons of one model as the paper draws them ({@link displayNeurons}). */
export interface NeuronDisplay {
  /** Neuron indices in display order: by their dominant feature (most important first), dead neurons last. */
  order: number[];
  /** Input weights `[features][neurons in display order]`, each neuron scaled so its largest |weight| is 1. */
  W1: number[][];
  /** Output weights `[neurons in display order][features]`, scaled inversely (so every path W₁·W₂ is unchanged), or null without W₂. */
  W2: number[][] | null;
}

/**
 * The paper's view of a hidden layer ("Computation in Superposition", footnote
 * 15): each neuron rescaled so its largest input weight is ±1 (the output
 * weights scaled by the inverse, which leaves a ReLU network's function
 * unchanged), and the neurons sorted by the importance of their largest
 * feature: by its index, features being in order of decreasing importance.
 *
 * @param W1 - input weights `[features][neurons]`
 * @param W2 - output weights `[neurons][features]` (omit for a tied model)
 * @example
 * ```ts
 * displayNeurons([[0, 2], [-0.5, 0]]).order; // [1, 0]: neuron 1 reads feature 0
 * ```
 */
export function displayNeurons(W1: number[][], W2?: number[][]): NeuronDisplay {
  const n = W1.length;
  const m = W1[0]?.length ?? 0;
  const peak = Array.from({ length: m }, (_, c) => W1.reduce((a, row) => Math.max(a, Math.abs(row[c])), 0));
  const dominant = Array.from({ length: m }, (_, c) => (peak[c] > 0 ? W1.findIndex((row) => Math.abs(row[c]) === peak[c]) : n));
  const order = Array.from({ length: m }, (_, c) => c).sort((a, b) => dominant[a] - dominant[b] || a - b);
  const scale = (c: number) => (peak[c] > 0 ? peak[c] : 1);
  return {
    order,
    W1: W1.map((row) => order.map((c) => row[c] / scale(c))),
    W2: W2 ? order.map((c) => W2[c].map((w) => w * scale(c))) : null,
  };
}

/**
 * Features computed by the absolute-value circuit of "Computation in
 * Superposition": exactly two monosemantic neurons (dominant share > `minShare`)
 * read the feature, with input weights of opposite signs (ReLU(x) and ReLU(−x)),
 * and both write to it with a positive output weight, so their sum is |x|.
 *
 * @param W1 - input weights `[features][neurons]`
 * @param W2 - output weights `[neurons][features]`
 * @returns the features with such a pair, in increasing order
 */
export function absolutePairs(W1: number[][], W2: number[][], minShare = 0.9): number[] {
  const m = W1[0]?.length ?? 0;
  const byFeature = new Map<number, number[]>();
  for (let c = 0; c < m; c++) {
    let total = 0;
    let best = -1;
    let bestV = 0;
    W1.forEach((row, i) => {
      const v = row[c] * row[c];
      total += v;
      if (v > bestV) [best, bestV] = [i, v];
    });
    if (best < 0 || bestV / total <= minShare) continue;
    byFeature.set(best, [...(byFeature.get(best) ?? []), c]);
  }
  const out: number[] = [];
  for (const [i, neurons] of byFeature) {
    if (neurons.length !== 2) continue;
    const [a, b] = neurons;
    if (Math.sign(W1[i][a]) * Math.sign(W1[i][b]) < 0 && W2[a][i] > 0 && W2[b][i] > 0) out.push(i);
  }
  return out.sort((x, y) => x - y);
}

/**
 * How many signs of each feature reach its own output in the absolute-value
 * model y′ = ReLU(W₂ ReLU(W₁x) + b): for x with only feature i non-zero,
 * |xᵢ| ≤ 1, output i can turn positive for xᵢ > 0, for xᵢ < 0, both (2) or
 * neither (0: a silent output). A silent output gets no gradient from its own
 * feature, only from inputs where other features lift it, which sparse inputs
 * rarely hold: with zero biases about a quarter of the outputs start silent
 * (W₂ᵢ·ReLU(±W₁ᵢ) ≤ 0 for both signs) and most stay so when 1 − S ≤ 0.003.
 *
 * @param W1 - input weights `[features][neurons]`
 * @param W2 - output weights `[neurons][features]`
 * @param b - output biases `[features]`
 * @returns per feature 0, 1 or 2
 * @example
 * ```ts
 * // feature 0: ReLU(x) and ReLU(−x) both write +1; feature 1 only reaches a neuron writing 0 to it
 * outputSides([[1, -1], [0.5, 0]], [[1, 0], [1, -1]], [0, 0]); // [2, 0]
 * ```
 */
export function outputSides(W1: number[][], W2: number[][], b: number[]): number[] {
  return W1.map((row, i) => {
    // the output's slope in |xᵢ| on each side: Σ over the neurons that side turns on of |W₁| · W₂
    let up = 0;
    let down = 0;
    row.forEach((w, c) => {
      if (w > 0) up += w * W2[c][i];
      else if (w < 0) down -= w * W2[c][i];
    });
    return Number(b[i] + Math.max(0, up) > 0) + Number(b[i] + Math.max(0, down) > 0);
  });
}

/** One neuron holding two features asymmetrically ({@link asymmetricMotifs}). */
export interface AsymmetricMotif {
  /** The neuron. */
  neuron: number;
  /** The feature with the larger input weight into it. */
  strong: number;
  /** The feature with the smaller input weight. */
  weak: number;
  /** |W₁[strong]| / |W₁[weak]|. */
  inputRatio: number;
  /** W₂[weak] / W₂[strong]: reciprocal when close to `inputRatio`. */
  outputRatio: number;
  /** Another neuron that reads the strong feature with the same sign and writes negatively to the weak one (cancelling the interference), or -1. */
  inhibitor: number;
}

/**
 * The asymmetric-superposition motif of "Computation in Superposition": a
 * neuron whose two largest input weights differ by a factor of `minRatio` to
 * `maxRatio` (e.g. 2 and −½) and whose output weights to the same two features
 * are reciprocal (e.g. ½ and 2, within a factor `tolerance`), so each feature
 * passes through the neuron with the same gain. With it, the neuron that
 * inhibits the interference on the weak feature, where there is one.
 *
 * @param W1 - input weights `[features][neurons]`
 * @param W2 - output weights `[neurons][features]`
 */
export function asymmetricMotifs(W1: number[][], W2: number[][], options: { minRatio?: number; maxRatio?: number; tolerance?: number } = {}): AsymmetricMotif[] {
  const { minRatio = 3, maxRatio = 20, tolerance = 2 } = options;
  const m = W1[0]?.length ?? 0;
  const out: AsymmetricMotif[] = [];
  for (let c = 0; c < m; c++) {
    const ranked = W1.map((row, i) => ({ i, a: Math.abs(row[c]) })).sort((x, y) => y.a - x.a);
    if (ranked.length < 2 || ranked[1].a === 0) continue;
    const strong = ranked[0].i;
    const weak = ranked[1].i;
    const inputRatio = ranked[0].a / ranked[1].a;
    if (inputRatio < minRatio || inputRatio > maxRatio) continue;
    if (!(W2[c][strong] > 0 && W2[c][weak] > 0)) continue;
    const outputRatio = W2[c][weak] / W2[c][strong];
    if (outputRatio < inputRatio / tolerance || outputRatio > inputRatio * tolerance) continue;
    const inhibitor = W1[0].findIndex((_, d) => d !== c && W1[strong][d] * W1[strong][c] > 0 && Math.abs(W1[strong][d]) >= 0.2 * ranked[0].a && W2[d][weak] < 0);
    out.push({ neuron: c, strong, weak, inputRatio, outputRatio, inhibitor });
  }
  return out;
}
