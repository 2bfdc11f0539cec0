import { checkLength } from '@tms/data';
import { checkBatchArguments } from './reconstruction.js';
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
  checkLength(b, I * n, 'b');
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

/** Result of {@link featureAttack} for one instance. */
export interface FeatureAttack {
  /** L2 norm of the attack: `relativeNorm` × the mean norm of the attacked inputs. */
  epsilon: number;
  /** Inputs attacked (the non-zero ones of the batch). */
  samples: number;
  /** Importance-weighted loss Σⱼ Iⱼ (xⱼ − x′ⱼ)², mean over the attacked inputs, without attack. */
  cleanLoss: number;
  /** The same with each input's most damaging attack added. */
  attackedLoss: number;
  /** How often each feature's attack direction was the most damaging one, `[features]`. */
  chosen: number[];
  /** (attackedLoss − cleanLoss) / ε²: 1 for a model that copies its most important feature (importance 1) without interference. */
  vulnerability: number;
}

/**
 * The paper's adversarial attack on tied ReLU-output models (section
 * "Relationship to Adversarial Robustness"): the optimal L2 attack for
 * feature i points along (WᵀW)ᵢ / ‖(WᵀW)ᵢ‖; with norm ε = `relativeNorm` ×
 * the mean input norm (the paper uses 0.1), each input gets the one of these n
 * attacks that raises its loss (against the clean input) most. Inputs with no
 * active feature are skipped: the model's negative biases swallow attacks that
 * small, as they do the interference they were learned to filter. Without
 * superposition an attack only moves its own feature's output, so the loss
 * rises by I·ε²; with superposition it leaks into every feature that shares
 * the direction, and the rise tracks features per dimension.
 *
 * @param W - weights `[instances, features, hidden]`
 * @param b - biases `[instances * features]`
 * @param importance - `[features]` (shared) or `[instances * features]`
 * @param inputs - clean inputs `[instances, batch, features]` row-major (e.g. `SparseFeatures.sample(B).data`)
 * @param relativeNorm - attack norm as a fraction of the mean input norm (default 0.1)
 */
export function featureAttack(
  W: BatchedWeights,
  b: ArrayLike<number>,
  importance: ArrayLike<number>,
  inputs: ArrayLike<number>,
  relativeNorm = 0.1,
): FeatureAttack[] {
  const { I, n, B } = checkBatchArguments(W, b, importance, inputs, 'inputs');
  const G = interference(W);
  return G.map((g, k) => {
    const imp = Float64Array.from({ length: n }, (_, j) => importance[importance.length === n ? j : k * n + j]);
    // the non-empty inputs and their norms
    const rows: number[] = [];
    let normSum = 0;
    for (let s = 0; s < B; s++) {
      let sq = 0;
      for (let i = 0; i < n; i++) sq += inputs[(k * B + s) * n + i] ** 2;
      if (sq > 0) {
        rows.push(s);
        normSum += Math.sqrt(sq);
      }
    }
    const N = rows.length;
    const epsilon = N ? (relativeNorm * normSum) / N : 0;
    // attack i moves the pre-activations by ε WᵀW (WᵀW)ᵢ / ‖(WᵀW)ᵢ‖
    const shifts: Float64Array[] = [];
    const owners: number[] = [];
    for (let i = 0; i < n; i++) {
      const norm = Math.hypot(...g.map((row) => row[i]));
      if (!(norm > 0)) continue;
      const shift = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let t = 0; t < n; t++) acc += g[j][t] * g[t][i];
        shift[j] = (epsilon * acc) / norm;
      }
      shifts.push(shift);
      owners.push(i);
    }
    const chosen = new Array<number>(n).fill(0);
    const x = new Float64Array(n);
    const pre = new Float64Array(n);
    const lossOf = (shift: Float64Array | null) => {
      let t = 0;
      for (let j = 0; j < n; j++) {
        const h = pre[j] + (shift ? shift[j] : 0);
        const d = x[j] - (h > 0 ? h : 0);
        t += imp[j] * d * d;
      }
      return t;
    };
    let clean = 0;
    let attacked = 0;
    for (const s of rows) {
      for (let i = 0; i < n; i++) x[i] = inputs[(k * B + s) * n + i];
      for (let j = 0; j < n; j++) {
        let acc = b[k * n + j];
        for (let i = 0; i < n; i++) if (x[i] !== 0) acc += g[j][i] * x[i];
        pre[j] = acc;
      }
      const l0 = lossOf(null);
      let best = l0;
      let arg = -1;
      shifts.forEach((shift, a) => {
        const l = lossOf(shift);
        if (l > best) {
          best = l;
          arg = owners[a];
        }
      });
      if (arg >= 0) chosen[arg]++;
      clean += l0;
      attacked += best;
    }
    const cleanLoss = N ? clean / N : 0;
    const attackedLoss = N ? attacked / N : 0;
    const vulnerability = epsilon > 0 ? (attackedLoss - cleanLoss) / (epsilon * epsilon) : 0;
    return { epsilon, samples: N, cleanLoss, attackedLoss, chosen, vulnerability };
  });
}
