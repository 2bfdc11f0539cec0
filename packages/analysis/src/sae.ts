import { ConfigError, Rng, ShapeError, adamStep, checkInt, checkOneOf, compileWasmBase64 } from '@tms/data';
import { SAE_WASM_BASE64 } from './sae-wasm.generated.js';
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
  /**
   * Gradient kernel: `wasm` (WebAssembly SIMD, float32), `js` (the same algorithm in
   * JavaScript) or `auto` (default: wasm where WebAssembly SIMD is available).
   */
  kernel?: 'auto' | 'wasm' | 'js';
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
 * every step (so the L1 penalty cannot be dodged by shrinking f). Float32 typed
 * arrays with a hand-written backward pass (WebAssembly SIMD where available, else
 * JavaScript): no tensor library, runs anywhere.
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
  const kernel = saeKernel(options.kernel ?? 'auto', d, m, B);

  // parameters in one array, encoder and decoder transposed (row j: input dimension j of every
  // latent, d4 wide): [Eᵀ (m·d4) | b_enc (d4) | Dᵀ (m·d4) | b_dec (m)]; padding lanes stay 0
  const { d4, theta, grad, h, fired, residual, residual2 } = kernel;
  const oE = 0;
  const oBe = m * d4;
  const oD = oBe + d4;
  const oBd = oD + m * d4;
  const at = (o: number, k: number, j: number) => o + j * d4 + k;
  for (let k = 0; k < d; k++) {
    let norm = 0;
    const row: number[] = [];
    for (let j = 0; j < m; j++) {
      const v = rng.normal();
      row.push(v);
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < m; j++) {
      theta[at(oD, k, j)] = row[j] / norm;
      theta[at(oE, k, j)] = row[j] / norm;
    }
  }
  const mom = new Float32Array(theta.length);
  const vel = new Float32Array(theta.length);
  const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false };
  const history: SparseAutoencoder['history'] = [];
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
      for (let j = 0; j < m; j++) nk += theta[at(oE, k, j)] ** 2;
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
        theta[at(oD, k, j)] = v;
        theta[at(oE, k, j)] = v * encNorm;
      }
      theta[oBe + k] = 0;
      for (const i of [oBe + k, ...Array.from({ length: m }, (_, j) => [at(oE, k, j), at(oD, k, j)]).flat()]) {
        mom[i] = 0;
        vel[i] = 0;
      }
      count++;
    }
    return count;
  };
  for (let step = 1; step <= steps; step++) {
    if (options.signal?.aborted) break;
    sample(B, h);
    const { recon, l1sum } = kernel.gradients(l1);
    adamStep(theta, mom, vel, grad, step, lr, adam);
    for (let k = 0; k < d; k++) {
      let norm = 0;
      for (let j = 0; j < m; j++) norm += theta[at(oD, k, j)] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < m; j++) theta[at(oD, k, j)] /= norm;
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
  const rows = (o: number) => Array.from({ length: d }, (_, k) => Array.from({ length: m }, (_, j) => theta[at(o, k, j)]));
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

/** The arrays and gradient kernel of {@link trainSparseAutoencoder} (see its layout). */
interface SaeKernel {
  d4: number;
  theta: Float32Array;
  grad: Float32Array;
  /** The batch `[B, m]`, filled by `sample`. */
  h: Float32Array;
  /** Per latent: 1 once it fired since the last reset. */
  fired: Float32Array;
  /** Per sample of the last batch: h − ĥ `[B, m]` and its squared norm `[B]`. */
  residual: Float32Array;
  residual2: Float32Array;
  /** Gradients of the batch into `grad`; the summed squared error and latent L1. */
  gradients(l1: number): { recon: number; l1sum: number };
}

let saeModule: WebAssembly.Module | null | undefined;

/** The compiled kernel, or null where WebAssembly SIMD is unavailable. */
function saeWasmModule(): WebAssembly.Module | null {
  if (saeModule === undefined) saeModule = compileWasmBase64(SAE_WASM_BASE64);
  return saeModule;
}

type SaeGradientsFn = (
  Et: number, be: number, Dt: number, bd: number, gEt: number, gbe: number, gDt: number, gbd: number,
  d4: number, m: number, B: number, l1: number, h: number, f: number, acc: number, u: number, fired: number,
  residual: number, residual2: number, l1Out: number,
) => number;

/** The gradient kernel: WebAssembly SIMD (float32) where available, else the same algorithm in JS. */
function saeKernel(choice: 'auto' | 'wasm' | 'js', d: number, m: number, B: number): SaeKernel {
  checkOneOf(choice, 'kernel', ['auto', 'wasm', 'js'] as const);
  const d4 = (d + 3) & ~3;
  const P = 2 * m * d4 + d4 + ((m + 3) & ~3);
  const oBe = m * d4;
  const oD = oBe + d4;
  const oBd = oD + m * d4;
  const module = choice === 'js' ? null : saeWasmModule();
  if (choice === 'wasm' && !module) throw new ConfigError('kernel', '"auto" or "js": the WebAssembly SIMD kernel is not available in this runtime', choice);
  if (module) {
    let off = 0;
    const take = (floats: number) => {
      const o = off;
      off += ((floats + 3) & ~3) * 4;
      return o;
    };
    const L = { theta: take(P), grad: take(P), h: take(B * m), f: take(2 * d4), acc: take(24 * m), u: take(2 * m), fired: take(d4), residual: take(B * m), residual2: take(B), l1: take(2) };
    const memory = new WebAssembly.Memory({ initial: Math.ceil(off / 65536) + 1 });
    const fn = new WebAssembly.Instance(module, { env: { memory, abort: () => {} } }).exports.saeGradients as SaeGradientsFn;
    const f32 = (o: number, len: number) => new Float32Array(memory.buffer, o, len);
    const l1Out = new Float64Array(memory.buffer, L.l1, 1);
    const t = L.theta;
    const g = L.grad;
    return {
      d4,
      theta: f32(L.theta, P),
      grad: f32(L.grad, P),
      h: f32(L.h, B * m),
      fired: f32(L.fired, d4),
      residual: f32(L.residual, B * m),
      residual2: f32(L.residual2, B),
      gradients(l1) {
        const recon = fn(t, t + oBe * 4, t + oD * 4, t + oBd * 4, g, g + oBe * 4, g + oD * 4, g + oBd * 4, d4, m, B, l1, L.h, L.f, L.acc, L.u, L.fired, L.residual, L.residual2, L.l1);
        return { recon, l1sum: l1Out[0] };
      },
    };
  }
  const k: Omit<SaeKernel, 'gradients'> = {
    d4,
    theta: new Float32Array(P),
    grad: new Float32Array(P),
    h: new Float32Array(B * m),
    fired: new Float32Array(d4),
    residual: new Float32Array(B * m),
    residual2: new Float32Array(B),
  };
  const { theta, grad, h, fired, residual, residual2 } = k;
  const f = new Float64Array(d4);
  const df = new Float64Array(d4);
  const u = new Float64Array(m);
  return {
    ...k,
    gradients(l1) {
      grad.fill(0);
      let recon = 0;
      let l1sum = 0;
      const scale = 2 / B;
      for (let s = 0; s < B; s++) {
        for (let j = 0; j < m; j++) u[j] = h[s * m + j] - theta[oBd + j];
        for (let q = 0; q < d4; q++) f[q] = theta[oBe + q];
        for (let j = 0; j < m; j++) {
          const uj = u[j];
          const o = j * d4;
          for (let q = 0; q < d4; q++) f[q] += uj * theta[o + q];
        }
        for (let q = 0; q < d4; q++) {
          const on = f[q] > 0;
          if (on) {
            fired[q] = 1;
            l1sum += f[q];
          } else f[q] = 0;
          df[q] = on ? l1 / B : 0;
        }
        let r2 = 0;
        for (let j = 0; j < m; j++) {
          const o = oD + j * d4;
          let ej = -u[j];
          for (let q = 0; q < d4; q++) ej += f[q] * theta[o + q];
          residual[s * m + j] = -ej;
          r2 += ej * ej;
          const gj = scale * ej;
          grad[oBd + j] += gj;
          for (let q = 0; q < d4; q++) {
            grad[o + q] += gj * f[q];
            if (f[q] > 0) df[q] += gj * theta[o + q];
          }
        }
        residual2[s] = r2;
        recon += r2;
        for (let j = 0; j < m; j++) {
          const uj = u[j];
          const o = j * d4;
          let acc = 0;
          for (let q = 0; q < d4; q++) {
            grad[o + q] += uj * df[q];
            acc += df[q] * theta[o + q];
          }
          grad[oBd + j] -= acc;
        }
        for (let q = 0; q < d4; q++) grad[oBe + q] += df[q];
      }
      return { recon, l1sum };
    },
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
