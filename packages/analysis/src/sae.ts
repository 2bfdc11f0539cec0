import { ConfigError, Rng, ShapeError, adamStep, checkInt } from '@tms/data';
import { symmetricEigen } from './linalg.js';

/** Options of {@link trainSparseAutoencoder}. */
export interface SparseAutoencoderOptions {
  /** Dimension of the activations (m). */
  inputDim: number;
  /** Number of dictionary features (latents); usually more than the model's features. */
  dictionarySize: number;
  /** L1 coefficient on the latent activations (default 0.3, suited to activations of norm about 1). */
  l1?: number;
  /** Adam steps (default 3000). */
  steps?: number;
  /** Activation vectors per step (default 512). */
  batchSize?: number;
  /** Adam learning rate (default 3e-3). */
  lr?: number;
  /** Seed of the initialisation (default 0). */
  seed?: number;
  /**
   * Every this many steps (default 250), latents that did not fire since the
   * last check are re-initialised towards inputs the autoencoder reconstructs
   * worst (as in Anthropic's "Towards Monosemanticity"); 0 turns it off.
   * Resampling stops after 70% of the steps so the last ones can settle.
   */
  resampleEvery?: number;
  /** Record the loss every this many steps (default 100). */
  logEvery?: number;
  /** Called at each logged step. */
  onProgress?: (p: { step: number; steps: number; reconstruction: number; l1: number }) => void;
  /** Stops training early; the autoencoder trained so far is returned. */
  signal?: AbortSignal;
}

/** A trained sparse autoencoder f = ReLU(E (h − b_dec) + b_enc), ĥ = Dᵀ f + b_dec. */
export interface SparseAutoencoder {
  /** E, `dictionarySize × inputDim`. */
  encoder: number[][];
  /** b_enc, `dictionarySize`. */
  encoderBias: number[];
  /** D: row k is dictionary feature k's direction in activation space (unit norm), `dictionarySize × inputDim`. */
  decoder: number[][];
  /** b_dec, `inputDim`. */
  decoderBias: number[];
  /** Loss history: mean squared reconstruction error ‖h − ĥ‖² and mean L1 of the latents per sample. */
  history: { step: number; reconstruction: number; l1: number }[];
  /** Steps actually run (fewer than asked when aborted). */
  steps: number;
  /** How many latents were re-initialised over training. */
  resampled: number;
}

/**
 * Which latents of a trained autoencoder fire (f_q > 0) on at least one of the
 * activation vectors: the complement of its dead latents on this data.
 *
 * @param activations - `[samples, inputDim]`, row-major
 */
export function firingLatents(sae: SparseAutoencoder, activations: ArrayLike<number>): boolean[] {
  const m = sae.decoderBias.length;
  if (activations.length % m !== 0) throw new ShapeError('activations', `[samples, ${m}] values (a multiple of ${m})`, activations.length);
  const N = activations.length / m;
  const fires = new Array<boolean>(sae.encoder.length).fill(false);
  for (let s = 0; s < N; s++) {
    for (let q = 0; q < sae.encoder.length; q++) {
      if (fires[q]) continue;
      let z = sae.encoderBias[q];
      for (let j = 0; j < m; j++) z += sae.encoder[q][j] * (activations[s * m + j] - sae.decoderBias[j]);
      if (z > 0) fires[q] = true;
    }
  }
  return fires;
}

/**
 * Train a sparse autoencoder (dictionary learning) on activation vectors, the
 * standard tool for pulling features out of superposition: latents
 * f = ReLU(E (h − b_dec) + b_enc), reconstruction ĥ = Dᵀ f + b_dec, loss
 * ‖h − ĥ‖² + l1·Σ f, Adam, decoder rows renormalised to unit length after
 * every step (so the L1 penalty cannot be dodged by shrinking f). Plain typed
 * arrays with a hand-written backward pass: no tensor library, runs anywhere.
 *
 * @param sample - fills `out` with `batchSize` activation vectors, row-major `[batchSize, inputDim]`
 * @param options - sizes and training settings; invalid ones throw a `ConfigError` naming the field
 *
 * @example
 * ```ts
 * // hidden activations h = Σᵢ xᵢ Wᵢ of a trained toy model
 * const sae = trainSparseAutoencoder((B, out) => hiddenBatch(B, out), { inputDim: 5, dictionarySize: 40 });
 * featureRecovery(W, sae.decoder).recovered; // how many features it found
 * ```
 */
export function trainSparseAutoencoder(
  sample: (batchSize: number, out: Float32Array) => void,
  options: SparseAutoencoderOptions,
): SparseAutoencoder {
  const m = checkInt(options.inputDim, 'inputDim', 1);
  const d = checkInt(options.dictionarySize, 'dictionarySize', 1);
  const steps = checkInt(options.steps ?? 3000, 'steps', 0);
  const B = checkInt(options.batchSize ?? 512, 'batchSize', 1);
  const logEvery = checkInt(options.logEvery ?? 100, 'logEvery', 1);
  const resampleEvery = checkInt(options.resampleEvery ?? 250, 'resampleEvery', 0);
  const l1 = options.l1 ?? 0.3;
  const lr = options.lr ?? 3e-3;
  if (!(l1 >= 0)) throw new ConfigError('l1', 'a number ≥ 0', l1);
  if (!(lr > 0)) throw new ConfigError('lr', 'a number > 0', lr);
  const rng = new Rng(checkInt(options.seed ?? 0, 'seed', 0, 0xffffffff));

  // parameters in one array: [E (d·m) | b_enc (d) | D (d·m) | b_dec (m)]
  const oE = 0;
  const oBe = d * m;
  const oD = oBe + d;
  const oBd = oD + d * m;
  const P = oBd + m;
  const theta = new Float64Array(P);
  for (let k = 0; k < d; k++) {
    let norm = 0;
    for (let j = 0; j < m; j++) {
      const v = rng.normal();
      theta[oD + k * m + j] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < m; j++) {
      theta[oD + k * m + j] /= norm;
      theta[oE + k * m + j] = theta[oD + k * m + j];
    }
  }
  const grad = new Float64Array(P);
  const mom = new Float64Array(P);
  const vel = new Float64Array(P);
  const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false };
  const h = new Float32Array(B * m);
  const u = new Float64Array(m);
  const z = new Float64Array(d);
  const e = new Float64Array(m);
  const history: SparseAutoencoder['history'] = [];
  const fired = new Uint8Array(d);
  const residual = new Float64Array(B * m);
  const residual2 = new Float64Array(B);
  let resampled = 0;
  let done = 0;
  /** Re-initialise latents that never fired towards the worst-reconstructed inputs of the last batch. */
  const resampleDead = (): number => {
    let total = 0;
    for (let s = 0; s < B; s++) total += residual2[s];
    if (!(total > 0)) return 0;
    let aliveNorm = 0;
    let alive = 0;
    for (let k = 0; k < d; k++) {
      if (!fired[k]) continue;
      let nk = 0;
      for (let j = 0; j < m; j++) nk += theta[oE + k * m + j] ** 2;
      aliveNorm += Math.sqrt(nk);
      alive++;
    }
    const encNorm = 0.2 * (alive ? aliveNorm / alive : 1);
    let count = 0;
    for (let k = 0; k < d; k++) {
      if (fired[k]) continue;
      // pick a sample with probability ∝ its squared error
      let t = rng.float() * total;
      let s = 0;
      while (s < B - 1 && t >= residual2[s]) t -= residual2[s++];
      const norm = Math.sqrt(residual2[s]) || 1;
      for (let j = 0; j < m; j++) {
        const v = residual[s * m + j] / norm;
        theta[oD + k * m + j] = v;
        theta[oE + k * m + j] = v * encNorm;
      }
      theta[oBe + k] = 0;
      for (const [o, len] of [
        [oE + k * m, m],
        [oD + k * m, m],
        [oBe + k, 1],
      ]) {
        mom.fill(0, o, o + len);
        vel.fill(0, o, o + len);
      }
      count++;
    }
    return count;
  };
  for (let step = 1; step <= steps; step++) {
    if (options.signal?.aborted) break;
    sample(B, h);
    grad.fill(0);
    let recon = 0;
    let l1sum = 0;
    for (let s = 0; s < B; s++) {
      const row = s * m;
      for (let j = 0; j < m; j++) {
        u[j] = h[row + j] - theta[oBd + j];
        e[j] = theta[oBd + j] - h[row + j];
      }
      for (let k = 0; k < d; k++) {
        let acc = theta[oBe + k];
        const ek = oE + k * m;
        for (let j = 0; j < m; j++) acc += theta[ek + j] * u[j];
        z[k] = acc;
        if (acc > 0) {
          fired[k] = 1;
          const dk = oD + k * m;
          for (let j = 0; j < m; j++) e[j] += acc * theta[dk + j];
          l1sum += acc;
        }
      }
      // e = ĥ − h; backward of (‖e‖² + l1·Σf) / B
      let r2 = 0;
      for (let j = 0; j < m; j++) {
        residual[row + j] = -e[j];
        r2 += e[j] * e[j];
        recon += e[j] * e[j];
        e[j] *= 2 / B;
        grad[oBd + j] += e[j];
      }
      residual2[s] = r2;
      for (let k = 0; k < d; k++) {
        const f = z[k];
        if (!(f > 0)) continue;
        const dk = oD + k * m;
        const ek = oE + k * m;
        let df = l1 / B;
        for (let j = 0; j < m; j++) {
          grad[dk + j] += f * e[j];
          df += e[j] * theta[dk + j];
        }
        grad[oBe + k] += df;
        for (let j = 0; j < m; j++) {
          grad[ek + j] += df * u[j];
          grad[oBd + j] -= df * theta[ek + j];
        }
      }
    }
    adamStep(theta, mom, vel, grad, step, lr, adam);
    for (let k = 0; k < d; k++) {
      let norm = 0;
      for (let j = 0; j < m; j++) norm += theta[oD + k * m + j] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < m; j++) theta[oD + k * m + j] /= norm;
    }
    if (resampleEvery > 0 && step % resampleEvery === 0 && step <= 0.7 * steps) {
      resampled += resampleDead();
      fired.fill(0);
    }
    done = step;
    if (step % logEvery === 0 || step === steps) {
      const rec = { step, reconstruction: recon / B, l1: l1sum / B };
      history.push(rec);
      options.onProgress?.({ ...rec, steps });
    }
  }
  const rows = (offset: number) => Array.from({ length: d }, (_, k) => Array.from(theta.subarray(offset + k * m, offset + (k + 1) * m)));
  return {
    encoder: rows(oE),
    encoderBias: Array.from(theta.subarray(oBe, oBe + d)),
    decoder: rows(oD),
    decoderBias: Array.from(theta.subarray(oBd, oBd + m)),
    history,
    steps: done,
    resampled,
  };
}

/** How well a set of directions recovers known feature directions. */
export interface FeatureRecovery {
  /** Per true feature: the largest |cos| (or cos, see `signed`) with any candidate direction. */
  maxCosine: number[];
  /** Per true feature: index of that best candidate. */
  match: number[];
  /** Mean of `maxCosine` over the true features (the "mean max cosine similarity"). */
  mmcs: number;
  /** Features whose `maxCosine` exceeds the threshold. */
  recovered: number;
}

/**
 * Compare known feature directions (e.g. the rows Wᵢ of a toy model restricted
 * to its represented features) with candidate directions (a sparse
 * autoencoder's decoder rows, PCA axes, neuron axes): for each true feature
 * the best cosine similarity with any candidate, their mean (MMCS) and how many
 * features are matched above `threshold`.
 *
 * @param truth - true directions, one per row (zero rows score 0)
 * @param candidates - candidate directions, one per row
 * @param options - `threshold` (default 0.9); `signed` (default true: a candidate must point the same way; false compares |cos|, right for axes from PCA)
 */
export function featureRecovery(
  truth: number[][],
  candidates: number[][],
  options: { threshold?: number; signed?: boolean } = {},
): FeatureRecovery {
  const threshold = options.threshold ?? 0.9;
  const signed = options.signed ?? true;
  const unit = (v: number[]) => {
    const norm = Math.hypot(...v);
    return norm > 0 ? v.map((x) => x / norm) : v.map(() => 0);
  };
  const C = candidates.map(unit);
  const maxCosine: number[] = [];
  const match: number[] = [];
  for (const t of truth.map(unit)) {
    let best = 0;
    let arg = -1;
    C.forEach((c, k) => {
      let dot = 0;
      for (let j = 0; j < t.length; j++) dot += t[j] * c[j];
      const score = signed ? dot : Math.abs(dot);
      if (score > best) {
        best = score;
        arg = k;
      }
    });
    maxCosine.push(best);
    match.push(arg);
  }
  const mmcs = maxCosine.length ? maxCosine.reduce((a, v) => a + v, 0) / maxCosine.length : 0;
  return { maxCosine, match, mmcs, recovered: maxCosine.filter((v) => v > threshold).length };
}

/**
 * Principal axes of activation vectors (eigenvectors of their second-moment
 * matrix, largest first): the best a method limited to m orthogonal directions
 * can do, the baseline a sparse autoencoder is compared with.
 *
 * @param activations - row-major `[samples, dim]`
 * @param dim - vector dimension
 * @returns `dim` unit directions, one per row
 */
export function principalAxes(activations: ArrayLike<number>, dim: number): number[][] {
  const N = Math.floor(activations.length / dim);
  const M = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
  for (let s = 0; s < N; s++) {
    for (let i = 0; i < dim; i++) {
      const a = activations[s * dim + i];
      if (a === 0) continue;
      for (let j = 0; j < dim; j++) M[i][j] += a * activations[s * dim + j];
    }
  }
  const { vectors } = symmetricEigen(M);
  return Array.from({ length: dim }, (_, k) => vectors.map((row) => row[k]));
}
