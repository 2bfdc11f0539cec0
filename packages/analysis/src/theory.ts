import { ShapeError, checkLength } from '@tms/data';
import { classifyFeature, PHASES, type Phase, type TheoreticalPhase } from './phase.js';
import { REPRESENTED_THRESHOLD } from './metrics.js';
import { fromNested } from './weights.js';

/** Gauss–Legendre 4-point rule on [−1, 1]. */
const GL4_NODES = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];
const GL4_WEIGHTS = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];

/** Nodes and weights of a composite 4-point Gauss–Legendre rule with `panels` panels on [0, 1]. */
function unitQuadrature(panels: number): { nodes: number[]; weights: number[] } {
  const nodes: number[] = [];
  const weights: number[] = [];
  const h = 1 / panels;
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < 4; k++) {
      nodes.push(h * (p + 0.5 + 0.5 * GL4_NODES[k]));
      weights.push(0.5 * h * GL4_WEIGHTS[k]);
    }
  }
  return { nodes, weights };
}

/** Options of {@link expectedReluOutputLoss}. */
export interface ExpectedLossOptions {
  /**
   * Panels of the composite 4-point Gauss–Legendre rule per feature axis
   * (default 6, i.e. 24 nodes). The integrand has kinks where a ReLU switches,
   * so the error falls roughly with the square of the panel count.
   */
  panels?: number;
}

/**
 * Expected importance-weighted loss Σᵢ Iᵢ E[(xᵢ − x′ᵢ)²] of one ReLU-output
 * model x′ = ReLU(WᵀW x + b) on the paper's sparse features (feature i is zero
 * with probability 1 − pᵢ, else uniform on [0, 1], independently).
 *
 * Computed exactly over which features are present (2ⁿ patterns, each with its
 * probability) and by tensor-product Gauss–Legendre quadrature over their
 * values, so it is deterministic and smooth in the weights: suited to
 * optimising the free parameters of candidate solutions (see
 * {@link theoreticalPhaseN3M2}). Cost grows as (4·panels)ⁿ; n ≤ 5.
 *
 * @param W - weights, `W[i]` is feature i's direction (n × m)
 * @param b - biases (n)
 * @param importance - Iᵢ (n)
 * @param density - pᵢ = 1 − Sᵢ, one number for all features or one per feature
 *
 * @example
 * ```ts
 * // n = 2, m = 1 antipodal pair: p²(1 + r)/6
 * expectedReluOutputLoss([[1], [-1]], [0, 0], [1, 1], 0.1); // ≈ 0.00333
 * ```
 */
export function expectedReluOutputLoss(
  W: number[][],
  b: number[],
  importance: number[],
  density: number | number[],
  options: ExpectedLossOptions = {},
): number {
  const n = W.length;
  if (n > 5) throw new ShapeError('W', 'at most 5 rows (features): the cost grows as nodes^n', n);
  checkLength(b, n, 'b');
  checkLength(importance, n, 'importance');
  const p = typeof density === 'number' ? new Array<number>(n).fill(density) : density;
  const m = W[0]?.length ?? 0;
  const quad = unitQuadrature(options.panels ?? 6);
  const nodes = Float64Array.from(quad.nodes);
  const weights = Float64Array.from(quad.weights);
  const q = nodes.length;
  const imp = Float64Array.from(importance);
  // Gf[i * n + j] = Wᵢ·Wⱼ (the paper's WᵀW)
  const Gf = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < m; k++) Gf[i * n + j] += W[i][k] * W[j][k];
  // partial[a * n + i]: bᵢ + Σ_{a' < a} G[i][present[a']]·x_{present[a']} (pre-activations built up axis by axis)
  const partial = new Float64Array((n + 1) * n);
  const xs = new Float64Array(n);
  let total = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let prob = 1;
    const present: number[] = [];
    for (let i = 0; i < n; i++) {
      if (mask & (1 << i)) {
        prob *= p[i];
        present.push(i);
      } else prob *= 1 - p[i];
    }
    if (prob === 0) continue;
    const k = present.length;
    for (let i = 0; i < n; i++) partial[i] = b[i];
    xs.fill(0);
    const level = (a: number): number => {
      const base = a * n;
      if (a === k) {
        let err = 0;
        for (let i = 0; i < n; i++) {
          const h = partial[base + i];
          const d = xs[i] - (h > 0 ? h : 0);
          err += imp[i] * d * d;
        }
        return err;
      }
      const f = present[a];
      let sum = 0;
      if (a === k - 1) {
        // innermost axis, inlined: the error of every output at each node
        for (let t = 0; t < q; t++) {
          const x = nodes[t];
          let err = 0;
          for (let i = 0; i < n; i++) {
            const h = partial[base + i] + Gf[i * n + f] * x;
            const d = (i === f ? x : xs[i]) - (h > 0 ? h : 0);
            err += imp[i] * d * d;
          }
          sum += weights[t] * err;
        }
        return sum;
      }
      for (let t = 0; t < q; t++) {
        const x = nodes[t];
        xs[f] = x;
        for (let i = 0; i < n; i++) partial[base + n + i] = partial[base + i] + Gf[i * n + f] * x;
        sum += weights[t] * level(a + 1);
      }
      xs[f] = 0;
      return sum;
    };
    total += prob * level(0);
  }
  return total;
}

/**
 * Minimise `f` by the Nelder–Mead simplex method from `start`.
 *
 * @param f - objective
 * @param start - initial point
 * @param options - `step`: initial simplex size (default 0.1); `iterations` (default 400); `tolerance` on the spread of simplex values (default 1e-12)
 * @returns the best point found and its value
 */
export function nelderMead(
  f: (x: number[]) => number,
  start: number[],
  options: { step?: number; iterations?: number; tolerance?: number } = {},
): { x: number[]; value: number } {
  const d = start.length;
  const step = options.step ?? 0.1;
  const iterations = options.iterations ?? 400;
  const tol = options.tolerance ?? 1e-12;
  let simplex = [start.slice(), ...start.map((_, i) => start.map((v, j) => (i === j ? v + step : v)))];
  let values = simplex.map(f);
  for (let it = 0; it < iterations; it++) {
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
    simplex = order.map((i) => simplex[i]);
    values = order.map((i) => values[i]);
    if (Math.abs(values[d] - values[0]) <= tol * (Math.abs(values[0]) + tol)) break;
    const centroid = new Array<number>(d).fill(0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) centroid[j] += simplex[i][j] / d;
    const along = (t: number) => centroid.map((c, j) => c + t * (simplex[d][j] - c));
    const reflected = along(-1);
    const fr = f(reflected);
    if (fr < values[0]) {
      const expanded = along(-2);
      const fe = f(expanded);
      if (fe < fr) {
        simplex[d] = expanded;
        values[d] = fe;
      } else {
        simplex[d] = reflected;
        values[d] = fr;
      }
    } else if (fr < values[d - 1]) {
      simplex[d] = reflected;
      values[d] = fr;
    } else {
      const contracted = fr < values[d] ? along(-0.5) : along(0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, values[d])) {
        simplex[d] = contracted;
        values[d] = fc;
      } else {
        for (let i = 1; i <= d; i++) {
          simplex[i] = simplex[i].map((v, j) => simplex[0][j] + 0.5 * (v - simplex[0][j]));
          values[i] = f(simplex[i]);
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i <= d; i++) if (values[i] < values[best]) best = i;
  return { x: simplex[best], value: values[best] };
}

/** One candidate solution of the n = 3, m = 2 model and its expected loss. */
export interface CandidateSolution {
  /** Short name, e.g. `"triangle"`. */
  name: string;
  /** How the extra feature (the last one) is represented in this solution. */
  phase: Phase;
  /** Σᵢ Iᵢ E[(xᵢ − x′ᵢ)²]. */
  loss: number;
  /** n × m weights. */
  W: number[][];
  /** n biases. */
  b: number[];
}

/** Theoretical phase with the candidate solutions that were compared. */
export interface TheoreticalPhaseDetail extends TheoreticalPhase {
  /** Every candidate, its parameters optimised on the exact expected loss. */
  candidates: CandidateSolution[];
}

/** A parametric family of n = 3, m = 2 solutions. */
interface Family {
  name: string;
  build: (params: number[]) => { W: number[][]; b: number[] };
  /** Starting points of the optimisation; the first is the family's textbook member. */
  starts: number[][];
  /** Exact expected loss of the first start, where known in closed form. */
  closed?: number;
}

/**
 * Theoretical phase of the extra feature (importance r; the two others have
 * importance 1) for the n = 3, m = 2 ReLU-output model: the phase of the
 * lowest expected loss among candidate solutions (p = 1 − S, V = p/3 − p²/4
 * the variance of one feature):
 *
 * - `orthogonal` (not represented): features 1, 2 on the axes, the extra
 *   feature dropped with b₃ = E[x₃]: r·V (optimal within the family)
 * - `drop-one` (dedicated): the extra feature and feature 1 on the axes,
 *   feature 2 dropped: V
 * - `pair-others` (dedicated): features 1, 2 an antipodal pair on one axis,
 *   the extra feature on the other: 2p²/6 with unit norms and no bias
 * - `pair-extra` (superposition): the extra feature and feature 1 an
 *   antipodal pair, feature 2 on the other axis: p²(1 + r)/6 with unit
 *   norms and no bias
 * - `triangle`: features 1, 2 at angles ±θ from the extra feature
 *
 * The pair and triangle families have free norms and biases (the triangle
 * also θ); these are optimised by Nelder–Mead on the expected loss of
 * {@link expectedReluOutputLoss}, and each optimum is classified with
 * {@link classifyFeature} like a trained model. A pair family keeps its
 * closed form (exact) when optimising does not beat it. The n = 2, m = 1
 * closed forms of {@link theoreticalPhaseN2M1} are the pair losses here; tests
 * check them against the quadrature and against Monte Carlo.
 *
 * @param relativeImportance - r, importance of the extra (third) feature
 * @param density - p = 1 − S
 * @param options - quadrature of the final losses (the optimisation itself uses coarser rules)
 */
export function theoreticalPhaseN3M2(relativeImportance: number, density: number, options: ExpectedLossOptions = {}): TheoreticalPhaseDetail {
  const r = relativeImportance;
  const p = density;
  const importance = [1, 1, r];
  const [orthogonal, dropOne, pairOthers, pairExtra] = closedFormsN3M2(r, p);
  const candidates: CandidateSolution[] = [orthogonal, dropOne];
  const families: Family[] = [
    {
      name: 'pair-others',
      build: ([a, beta]) => ({ W: [[a, 0], [-a, 0], [0, 1]], b: [beta, beta, 0] }),
      starts: [[1, 0]],
      closed: pairOthers.loss,
    },
    {
      name: 'pair-extra',
      build: ([a, c, beta1, beta3]) => ({ W: [[a, 0], [0, 1], [-c, 0]], b: [beta1, 0, beta3] }),
      starts: [[1, 1, 0, 0]],
      closed: pairExtra.loss,
    },
    {
      name: 'triangle',
      build: ([a, c, theta, beta, gamma]) => ({
        W: [
          [a * Math.sin(theta), a * Math.cos(theta)],
          [-a * Math.sin(theta), a * Math.cos(theta)],
          [0, c],
        ],
        b: [beta, beta, gamma],
      }),
      starts: [
        [1, 1, (2 * Math.PI) / 3, 0, 0],
        [1, 1, 0.6 * Math.PI, -0.1, -0.1],
      ],
    },
  ];
  const coarse = { panels: 2 };
  const medium = { panels: 4 };
  for (const fam of families) {
    const loss = (params: number[], opts: ExpectedLossOptions) => {
      const { W, b } = fam.build(params);
      return expectedReluOutputLoss(W, b, importance, p, opts);
    };
    let best: { x: number[]; value: number } | null = null;
    for (const start of fam.starts) {
      const found = nelderMead((x) => loss(x, coarse), start, { step: 0.15, iterations: 200, tolerance: 1e-8 });
      if (!best || found.value < best.value) best = found;
    }
    const refined = nelderMead((x) => loss(x, medium), best!.x, { step: 0.02, iterations: 100, tolerance: 1e-9 });
    let params = refined.x;
    let value = loss(params, options);
    if (fam.closed !== undefined && fam.closed <= value) {
      params = fam.starts[0];
      value = fam.closed;
    }
    const { W, b } = fam.build(params);
    candidates.push({ name: fam.name, phase: classifyFeature(fromNested([W]), 2)[0], loss: value, W, b });
  }

  return { ...lowestPhase(candidates), candidates };
}

/** The lowest loss of the candidates in each phase, and the phase of the lowest. */
function lowestPhase(candidates: readonly { phase: Phase; loss: number }[]): TheoreticalPhase {
  const losses = { 'not-represented': Infinity, dedicated: Infinity, superposition: Infinity } as Record<Phase, number>;
  for (const cand of candidates) losses[cand.phase] = Math.min(losses[cand.phase], cand.loss);
  let phase: Phase = 'not-represented';
  for (const ph of PHASES) if (losses[ph] < losses[phase]) phase = ph;
  return { phase, losses };
}

/**
 * The paper's four n = 3, m = 2 candidate solutions with their closed-form
 * losses (V = p/3 − p²/4): orthogonal (the extra feature dropped), r·V;
 * drop-one (feature 2 dropped), V; pair-others, 2p²/6; pair-extra, p²(1 + r)/6.
 */
function closedFormsN3M2(r: number, p: number): CandidateSolution[] {
  const V = targetVariance(p);
  return [
    { name: 'orthogonal', phase: 'not-represented', loss: r * V, W: [[1, 0], [0, 1], [0, 0]], b: [0, 0, p / 2] },
    { name: 'drop-one', phase: 'dedicated', loss: V, W: [[1, 0], [0, 0], [0, 1]], b: [0, p / 2, 0] },
    { name: 'pair-others', phase: 'dedicated', loss: (2 * p * p) / 6, W: [[1, 0], [-1, 0], [0, 1]], b: [0, 0, 0] },
    { name: 'pair-extra', phase: 'superposition', loss: (p * p * (1 + r)) / 6, W: [[1, 0], [0, 1], [-1, 0]], b: [0, 0, 0] },
  ];
}

/**
 * The paper's own n = 3, m = 2 theoretical diagram: the phase of the lowest of
 * its four closed-form candidates (see {@link theoreticalPhaseN3M2}, which
 * also optimises norms and biases and adds the triangle). With these four,
 * the extra feature is dedicated for every r > 1: pair-others (2p²/6) beats
 * pair-extra (p²(1 + r)/6) and drop-one (V) beats orthogonal (r·V).
 *
 * @param relativeImportance - r, importance of the extra (third) feature
 * @param density - p = 1 − S
 */
export function paperPhaseN3M2(relativeImportance: number, density: number): TheoreticalPhaseDetail {
  const candidates = closedFormsN3M2(relativeImportance, density);
  return { ...lowestPhase(candidates), candidates };
}

/** How a bias-free n = 2, m = 1 model stores the extra feature: a {@link Phase}, or `confused` (both features on one side of the axis). */
export type BiasFreePhase = Phase | 'confused';

/** The four phases of bias-free n = 2, m = 1 models, in the order figures use. */
export const BIAS_FREE_PHASES: readonly BiasFreePhase[] = [...PHASES, 'confused'];

/** The best bias-free n = 2, m = 1 model at one (r, p); see {@link biasFreeN2M1}. */
export interface BiasFreeSolution {
  /** Its weights (w₁, w₂), with w₁ ≥ 0 (W and −W are the same model). */
  W: [number, number];
  /** Its expected loss Σᵢ Iᵢ E[(xᵢ − x′ᵢ)²]. */
  loss: number;
  /** How it stores the extra feature. */
  phase: BiasFreePhase;
}

/** Options of {@link biasFreeLossSurface}. */
export interface LossSurfaceOptions extends ExpectedLossOptions {
  /** The weights run over [−extent, extent] (default 1.5). */
  extent?: number;
  /** Grid points per axis (default 41). */
  points?: number;
}

/**
 * The exact expected loss of the bias-free n = 2, m = 1 ReLU-output model
 * x′ = ReLU(wᵀw x) (feature 1 of importance 1, the extra feature of importance
 * r, both of density p) over a grid of weights w = (w₁, w₂): Tom McGrath's loss
 * surfaces (comment on the paper), which show a "confused" minimum near
 * w₁ = w₂ = 1/√2 when features are dense and about equally important.
 *
 * @param relativeImportance - r
 * @param density - p = 1 − S
 * @returns the grid `w` (one axis, used for both) and `loss[i][j]` at (w₁, w₂) = (w[i], w[j])
 */
export function biasFreeLossSurface(relativeImportance: number, density: number, options: LossSurfaceOptions = {}): { w: number[]; loss: number[][] } {
  const extent = options.extent ?? 1.5;
  const points = options.points ?? 41;
  const w = Array.from({ length: points }, (_, i) => -extent + (2 * extent * i) / (points - 1));
  const imp = [1, relativeImportance];
  const opts = { panels: options.panels ?? 4 };
  return { w, loss: w.map((a) => w.map((c) => expectedReluOutputLoss([[a], [c]], [0, 0], imp, density, opts))) };
}

/**
 * The lowest-loss bias-free n = 2, m = 1 model at (r, p), found on a grid of
 * weights and refined by Nelder–Mead on the exact expected loss, and its phase:
 * the extra feature not represented (‖w₂‖ ≤ 0.5), dedicated (feature 1 not
 * represented), in superposition (antipodal: w₁w₂ < 0) or `confused` (both
 * represented on the same side, w₁w₂ > 0). Without a bias the model cannot
 * cancel interference, so dense, equally important features are best stored
 * together along the top principal direction (1, 1)/√2 (loss 1/12 at r = 1,
 * p = 1, against 1/3 for a dedicated or an antipodal solution).
 *
 * @param relativeImportance - r
 * @param density - p = 1 − S
 * @param options - quadrature of the returned loss (the search itself uses coarser rules)
 */
export function biasFreeN2M1(relativeImportance: number, density: number, options: ExpectedLossOptions = {}): BiasFreeSolution {
  const imp = [1, relativeImportance];
  const loss = ([a, c]: number[], panels: number) => expectedReluOutputLoss([[a], [c]], [0, 0], imp, density, { panels });
  // W and −W give the same model: search w₁ ≥ 0, then refine the best few grid points
  const starts: { x: number[]; value: number }[] = [];
  for (let i = 0; i <= 12; i++) for (let j = 0; j <= 24; j++) {
    const x = [(1.5 * i) / 12, -1.5 + (3 * j) / 24];
    starts.push({ x, value: loss(x, 2) });
  }
  starts.sort((a, b) => a.value - b.value);
  let best = { x: starts[0].x, value: Infinity };
  for (const s of starts.slice(0, 4)) {
    const found = nelderMead((x) => loss(x, 4), s.x, { step: 0.1, iterations: 200, tolerance: 1e-10 });
    if (found.value < best.value) best = found;
  }
  let [a, c] = best.x;
  if (a < 0) [a, c] = [-a, -c];
  const on = (v: number) => Math.abs(v) > REPRESENTED_THRESHOLD;
  const phase: BiasFreePhase = !on(c) ? 'not-represented' : !on(a) ? 'dedicated' : a * c < 0 ? 'superposition' : 'confused';
  return { W: [a, c], loss: loss([a, c], options.panels ?? 6), phase };
}

/** Options of {@link linearOptimumLoss}. */
export interface LinearOptimumOptions {
  /** Non-zero values uniform on [−1, 1] instead of [0, 1] (default false). */
  signed?: boolean;
  /** What the model must output: the input (`identity`, default) or its absolute value (`abs`). */
  target?: 'identity' | 'abs';
}

/**
 * The variance of one feature's target on the paper's sparse features: what
 * the best constant output (the target's mean) scores. A feature present with
 * probability p has values uniform on [0, 1] (or [−1, 1] when `signed`), so
 * Var = p/3 − (p/2)², or p/3 for a signed identity target (mean 0).
 *
 * @param density - p = 1 − S
 * @example
 * ```ts
 * targetVariance(1); // 1/12
 * targetVariance(0.1, { signed: true, target: 'abs' }); // |x|: 0.1/3 − 0.05²
 * ```
 */
export function targetVariance(density: number, options: LinearOptimumOptions = {}): number {
  // E[v] = 1/2 on [0, 1], 0 on [−1, 1]
  const mean = options.target === 'abs' || !options.signed ? density / 2 : 0;
  return targetSecondMoment(density) - mean * mean;
}

/** E[y²] of one feature's target, p/3: E[v²] = 1/3 for v uniform on [0, 1] or on [−1, 1], and |v|² = v². */
const targetSecondMoment = (density: number) => density / 3;

/**
 * The loss of the all-zero output on the paper's sparse features: the mean over
 * features of Iᵢ·E[yᵢ²] = Iᵢ·pᵢ/3, whatever the sign of the inputs and whether
 * the target is x or |x|. A model's held-out loss over it is the share of the
 * target it fails to compute (0: exact).
 *
 * @param density - pᵢ = 1 − Sᵢ: one number for all features or one per feature
 * @param importance - Iᵢ, one per feature
 * @throws ShapeError when `density` has another length than `importance`
 * @example
 * ```ts
 * zeroOutputLoss(1, [1, 1, 1]); // 1/3: three dense, equally important features
 * ```
 */
export function zeroOutputLoss(density: number | ArrayLike<number>, importance: ArrayLike<number>): number {
  const n = importance.length;
  if (typeof density !== 'number') checkLength(density, n, 'density');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += importance[i] * targetSecondMoment(typeof density === 'number' ? density : density[i]);
  return n ? sum / n : 0;
}

/**
 * The lowest loss any linear model with `hidden` dimensions can reach on the
 * paper's independent sparse features: mean over features of
 * Iᵢ E[(yᵢ − y′ᵢ)²] for the best y′ = A x + c with rank A ≤ `hidden` (the
 * tied model WᵀW x + b reaches it with W the top rows of the identity).
 *
 * The features are independent, so the covariance is diagonal and the best
 * rank-m map keeps the m features of largest Iᵢ Var(xᵢ) and predicts the mean
 * of the rest: the loss is (1/n) Σ over the other features of Iᵢ Var(xᵢ), with
 * Var(xᵢ) = pᵢ/3 − pᵢ²/4 for values on [0, 1] and pᵢ/3 on [−1, 1]. For the
 * `abs` target on signed inputs, |xᵢ| is uncorrelated with every input, so no
 * linear map helps and the loss is (1/n) Σ Iᵢ Var(|xᵢ|) whatever `hidden` is.
 * A trained model's loss over this is its gain from non-linearity (below 1:
 * superposition pays).
 *
 * @param density - pᵢ = 1 − Sᵢ: one number for all features or one per feature
 * @param importance - Iᵢ, one per feature
 * @param hidden - m, the rank the linear model may use
 * @throws ShapeError when `density` has another length than `importance`
 * @example
 * ```ts
 * // n = 20, m = 5, importance 0.7^i, dense: the 15 least important features are lost
 * const I = Array.from({ length: 20 }, (_, i) => 0.7 ** i);
 * linearOptimumLoss(1, I, 5); // ≈ 0.00232
 * ```
 */
export function linearOptimumLoss(density: number | ArrayLike<number>, importance: ArrayLike<number>, hidden: number, options: LinearOptimumOptions = {}): number {
  const n = importance.length;
  if (typeof density !== 'number') checkLength(density, n, 'density');
  const terms: number[] = [];
  for (let i = 0; i < n; i++) terms.push(importance[i] * targetVariance(typeof density === 'number' ? density : density[i], options));
  // an |x| target on symmetric inputs has no linear part to capture
  const kept = options.target === 'abs' && options.signed ? 0 : Math.min(Math.max(0, Math.floor(hidden)), n);
  terms.sort((a, b) => b - a);
  let lost = 0;
  for (let i = kept; i < n; i++) lost += terms[i];
  return n ? lost / n : 0;
}
