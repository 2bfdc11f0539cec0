import { dims, type BatchedWeights } from './weights.js';

/** Default norm above which a feature counts as represented (the paper's figures use ~0.5). */
export const REPRESENTED_THRESHOLD = 0.5;

/** Dot product of features i and j of instance k. */
function dot(d: ArrayLike<number>, base: number, m: number, i: number, j: number): number {
  let s = 0;
  const a = base + i * m;
  const b = base + j * m;
  for (let h = 0; h < m; h++) s += d[a + h] * d[b + h];
  return s;
}

/** Gram matrix per instance: `G[k][i][j] = W_i · W_j`, which is the paper's WᵀW. */
function gram(W: BatchedWeights): number[][][] {
  const [I, n, m] = dims(W);
  const out: number[][][] = [];
  for (let k = 0; k < I; k++) {
    const base = k * n * m;
    const G: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const v = dot(W.data, base, m, i, j);
        G[i][j] = v;
        G[j][i] = v;
      }
    }
    out.push(G);
  }
  return out;
}

/**
 * Interference matrix WᵀW of every instance, `[instances][features][features]`.
 * The diagonal holds squared feature norms; off-diagonal entries show how much
 * features interfere.
 */
export function interference(W: BatchedWeights): number[][][] {
  return gram(W);
}

/** Feature norms ‖W_i‖ per instance, `[instances][features]`. */
export function featureNorms(W: BatchedWeights): number[][] {
  const [I, n, m] = dims(W);
  const out: number[][] = [];
  for (let k = 0; k < I; k++) {
    const row: number[] = [];
    for (let i = 0; i < n; i++) row.push(Math.sqrt(dot(W.data, k * n * m, m, i, i)));
    out.push(row);
  }
  return out;
}

/**
 * For each instance and feature: `‖W_i‖²` and `Σ_{j≠i} (Ŵ_i · W_j)²`, the
 * projections of the other features on feature i's direction (null for a
 * feature that is not represented). Both metrics below derive from it.
 */
function projectionSums(W: BatchedWeights): ({ norm2: number; others: number } | null)[][] {
  const [I, n] = dims(W);
  const G = gram(W);
  return Array.from({ length: I }, (_, k) =>
    Array.from({ length: n }, (_, i) => {
      const nii = G[k][i][i];
      if (nii <= 1e-20) return null;
      let others = 0;
      for (let j = 0; j < n; j++) if (j !== i) others += (G[k][i][j] * G[k][i][j]) / nii;
      return { norm2: nii, others };
    }),
  );
}

/**
 * Superposition of each feature: `Σ_{j≠i} (Ŵ_i · W_j)²`, how much other features
 * project onto feature i's direction. 0 for a feature with a dedicated dimension
 * (and for features that are not represented).
 */
export function superposition(W: BatchedWeights): number[][] {
  return projectionSums(W).map((row) => row.map((p) => (p ? p.others : 0)));
}

/**
 * Feature dimensionality `D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)²` per instance: the
 * fraction of a dimension feature i gets (1 for a dedicated dimension, 1/2 for
 * an antipodal pair, 0 when not represented).
 */
export function featureDimensionality(W: BatchedWeights): number[][] {
  // the j = i term of the sum is ‖W_i‖²
  return projectionSums(W).map((row) => row.map((p) => (p ? p.norm2 / (p.norm2 + p.others) : 0)));
}

/** Which features are represented: `‖W_i‖ > threshold`, `[instances][features]`. */
export function representedFeatures(W: BatchedWeights, threshold = REPRESENTED_THRESHOLD): boolean[][] {
  return featureNorms(W).map((row) => row.map((v) => v > threshold));
}

/** Number of represented features per instance. */
export function representedCount(W: BatchedWeights, threshold = REPRESENTED_THRESHOLD): number[] {
  return representedFeatures(W, threshold).map((row) => row.filter(Boolean).length);
}

/**
 * Dimensions per feature `m / ‖W‖_F²` per instance: hidden dimensions divided by
 * the number of features "learned". 1 without superposition; below 1 with it.
 */
export function dimensionsPerFeature(W: BatchedWeights): number[] {
  const [I, n, m] = dims(W);
  const out: number[] = [];
  for (let k = 0; k < I; k++) {
    let f = 0;
    for (let t = k * n * m; t < (k + 1) * n * m; t++) f += W.data[t] * W.data[t];
    out.push(m / f);
  }
  return out;
}
