import { symmetricEigen } from './linalg.js';
import { featureDimensionality, featureNorms, REPRESENTED_THRESHOLD } from './metrics.js';
import { dims, type BatchedWeights } from './weights.js';
import { checkLength } from '@tms/data';

/** The "sticky" feature dimensionalities the paper observes: 1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3. */
export const STICKY_POINTS: readonly { value: number; label: string; polytope: string }[] = [
  { value: 1, label: '1', polytope: 'dedicated dimension' },
  { value: 3 / 4, label: '3/4', polytope: 'tetrahedron' },
  { value: 2 / 3, label: '2/3', polytope: 'triangle' },
  { value: 1 / 2, label: '1/2', polytope: 'digon' },
  { value: 2 / 5, label: '2/5', polytope: 'pentagon' },
  { value: 3 / 8, label: '3/8', polytope: 'square antiprism' },
  { value: 1 / 3, label: '1/3', polytope: '(3 features in 1D)' },
];

/** Uniform polytopes by (number of features, dimensions they span). */
const POLYTOPES: Record<string, string> = {
  '1,1': 'dedicated dimension',
  '2,1': 'digon',
  '3,2': 'triangle',
  '4,3': 'tetrahedron',
  '5,2': 'pentagon',
  '8,3': 'square antiprism',
};

/** A group of features that interfere with each other but not with other groups (one tegum factor). */
export interface FeatureGroup {
  /** Feature indices. */
  features: number[];
  /** Dimensions the group spans (rank of its unit vectors). */
  dimension: number;
  /** Name of the uniform polytope (`digon`, `triangle`, `tetrahedron`, `pentagon`, `square antiprism`, `dedicated dimension`) or a description. */
  name: string;
  /** True when the group is one of the named uniform polytopes and every member has dimensionality ≈ dimension / size. */
  uniform: boolean;
  /** Mean feature dimensionality of the members. */
  meanDimensionality: number;
}

/** Options of {@link detectPolytopes}. */
export interface PolytopeOptions {
  /** Features with ‖W_i‖ at or below this are ignored. Default 0.5. */
  normThreshold?: number;
  /** Two features are in one group when |cos(W_i, W_j)| exceeds this. Default 0.1. */
  cosThreshold?: number;
  /** Relative tolerance on each member's dimensionality for `uniform`. Default 0.1. */
  tolerance?: number;
}

/**
 * Split each instance's represented features into groups that interfere only
 * among themselves (the factors of a tegum product) and name the uniform
 * polytope each group forms.
 *
 * @returns per instance, the groups, largest first
 */
export function detectPolytopes(W: BatchedWeights, options: PolytopeOptions = {}): FeatureGroup[][] {
  const [I, n, m] = dims(W);
  const normT = options.normThreshold ?? REPRESENTED_THRESHOLD;
  const cosT = options.cosThreshold ?? 0.1;
  const tol = options.tolerance ?? 0.1;
  const norms = featureNorms(W);
  const D = featureDimensionality(W);
  const out: FeatureGroup[][] = [];
  for (let k = 0; k < I; k++) {
    const rep = norms[k].flatMap((v, i) => (v > normT ? [i] : []));
    // unit directions of the represented features, row r of U for feature rep[r]
    const U = new Float64Array(n * m);
    for (const i of rep) for (let h = 0; h < m; h++) U[i * m + h] = W.data[(k * n + i) * m + h] / norms[k][i];
    const cos = (i: number, j: number) => {
      let s = 0;
      for (let h = 0; h < m; h++) s += U[i * m + h] * U[j * m + h];
      return s;
    };
    // connected components of the |cos| > threshold graph
    const seen = new Set<number>();
    const groups: FeatureGroup[] = [];
    for (const start of rep) {
      if (seen.has(start)) continue;
      const comp: number[] = [];
      const stack = [start];
      seen.add(start);
      while (stack.length) {
        const i = stack.pop()!;
        comp.push(i);
        for (const j of rep) {
          if (!seen.has(j) && Math.abs(cos(i, j)) > cosT) {
            seen.add(j);
            stack.push(j);
          }
        }
      }
      comp.sort((a, b) => a - b);
      // the non-zero eigenvalues of the group's Gram matrix, from the smaller of its c × c form
      // and the m × m form Σ uᵢuᵢᵀ (the same non-zero spectrum)
      const G =
        comp.length <= m
          ? comp.map((i) => comp.map((j) => cos(i, j)))
          : Array.from({ length: m }, (_, a) => Array.from({ length: m }, (_, b) => comp.reduce((t, i) => t + U[i * m + a] * U[i * m + b], 0)));
      const eig = symmetricEigen(G).values;
      const dimension = eig.filter((e) => e > 0.05 * comp.length).length;
      const key = `${comp.length},${dimension}`;
      const meanD = comp.reduce((s, i) => s + D[k][i], 0) / comp.length;
      const target = dimension / comp.length;
      // the vertices of a uniform polytope are centred: their unit vectors sum to 0 (two features
      // pointing the same way have the Gram matrix of a digon, but are no antipodal pair)
      const centroid = new Array<number>(m).fill(0);
      for (const i of comp) for (let h = 0; h < m; h++) centroid[h] += U[i * m + h];
      const centred = comp.length === 1 || Math.hypot(...centroid) < 0.25;
      const named = centred ? POLYTOPES[key] : undefined;
      groups.push({
        features: comp,
        dimension,
        name: named ?? `${comp.length} features in ${dimension}D`,
        uniform: Boolean(named) && comp.every((i) => Math.abs(D[k][i] - target) <= tol * target),
        meanDimensionality: meanD,
      });
    }
    groups.sort((a, b) => b.features.length - a.features.length || a.features[0] - b.features[0]);
    out.push(groups);
  }
  return out;
}

/** A stretch of snapshots on which a feature rests on one sticky level; see {@link stickyRuns}. */
export interface StickyRun {
  /** The sticky fraction (one of {@link STICKY_POINTS}). */
  level: number;
  /** Index of the first snapshot of the run. */
  first: number;
  /** Index of the last snapshot of the run. */
  last: number;
}

/**
 * The stretches of snapshots during which a feature rests on a sticky level:
 * at least `minRun` consecutive snapshots within `tol` of one sticky fraction,
 * in order. Snapshots where the feature's norm is below 0.3 (not yet learned)
 * belong to no run.
 *
 * @param series - the feature's dimensionality at each snapshot
 * @param norms - its norm at each snapshot
 */
export function stickyRuns(series: number[], norms: number[], tol = 0.02, minRun = 3): StickyRun[] {
  checkLength(norms, series.length, 'norms');
  const levels = STICKY_POINTS.map((s) => s.value);
  const out: StickyRun[] = [];
  let cur = -1;
  let start = 0;
  const flush = (end: number) => {
    if (cur >= 0 && end - start >= minRun) out.push({ level: levels[cur], first: start, last: end - 1 });
  };
  series.forEach((d, t) => {
    const k = norms[t] < 0.3 ? -1 : levels.findIndex((v) => Math.abs(d - v) < tol);
    if (k !== cur) {
      flush(t);
      cur = k;
      start = t;
    }
  });
  flush(series.length);
  return out;
}

/**
 * The sticky levels a feature rests on during training ("energy levels"): the
 * levels of its {@link stickyRuns}, in order of visit, a level repeated only
 * after another in between.
 *
 * @param series - the feature's dimensionality at each snapshot
 * @param norms - its norm at each snapshot (snapshots with norm < 0.3 are skipped as unlearned)
 */
export function stickyPlateaus(series: number[], norms: number[], tol = 0.02, minRun = 3): number[] {
  const out: number[] = [];
  for (const r of stickyRuns(series, norms, tol, minRun)) if (out[out.length - 1] !== r.level) out.push(r.level);
  return out;
}

/** A feature's move between two sticky levels, and how fast the loss fell meanwhile; see {@link energyJumps}. */
export interface EnergyJump {
  /** The feature. */
  feature: number;
  /** The level it left. */
  from: number;
  /** The level it arrived on. */
  to: number;
  /** Step of the last snapshot on the old level. */
  leftAt: number;
  /** Step of the first snapshot on the new level. */
  arrivedAt: number;
  /** Relative loss drop over the jump, 1 − L(arrived) / L(left). */
  lossDrop: number;
  /**
   * How fast the loss fell during the jump, per unit of log step, relative to
   * its average rate over the whole run: above 1 the loss fell faster than
   * usual while the feature jumped.
   */
  dropRate: number;
}

/**
 * The jumps between energy levels of every feature (moves between consecutive
 * {@link stickyRuns} whose levels differ by at least `minGap`), each with the
 * loss drop that happened meanwhile. The paper ("Superposition and Learning
 * Dynamics") sees the loss fall suddenly at each jump: a `dropRate` well
 * above 1.
 *
 * @param steps - the snapshot steps, ascending and positive
 * @param dimensionality - `[snapshot][feature]` Dᵢ
 * @param norms - `[snapshot][feature]` ‖Wᵢ‖
 * @param loss - the loss at each snapshot (e.g. on a fixed held-out set)
 * @param minGap - the smallest change of level that counts as a jump (0.1 skips the drift between 3/8 and 2/5)
 */
export function energyJumps(steps: number[], dimensionality: number[][], norms: number[][], loss: number[], minGap = 0.1): EnergyJump[] {
  checkLength(dimensionality, steps.length, 'dimensionality');
  checkLength(norms, steps.length, 'norms');
  checkLength(loss, steps.length, 'loss');
  if (steps.length < 2) return [];
  const logRate = (a: number, b: number) => (Math.log(loss[a]) - Math.log(loss[b])) / Math.max(1e-12, Math.log(steps[b]) - Math.log(steps[a]));
  const average = logRate(0, steps.length - 1);
  const features = dimensionality[0].length;
  const out: EnergyJump[] = [];
  for (let f = 0; f < features; f++) {
    const runs = stickyRuns(
      dimensionality.map((d) => d[f]),
      norms.map((r) => r[f]),
    );
    for (let k = 1; k < runs.length; k++) {
      const a = runs[k - 1];
      const b = runs[k];
      if (Math.abs(a.level - b.level) < minGap) continue;
      out.push({
        feature: f,
        from: a.level,
        to: b.level,
        leftAt: steps[a.last],
        arrivedAt: steps[b.first],
        lossDrop: 1 - loss[b.first] / loss[a.last],
        dropRate: average > 0 ? logRate(a.last, b.first) / average : Number.NaN,
      });
    }
  }
  return out.sort((x, y) => x.arrivedAt - y.arrivedAt || x.feature - y.feature);
}
