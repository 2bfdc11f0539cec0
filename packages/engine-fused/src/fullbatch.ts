import { FiniteDataset, checkLength, checkOneOf } from '@tms/data';
import type { ModelShape, OptimizerConfig, TiedLayout, TrainPlan } from '@tms/core';
import { InstanceAdam, kernelModule } from './trainer.js';

type FullBatchFn = (
  W: number, b: number, imp: number, T: number, n: number, m: number, relu: number,
  start: number, idx: number, val: number, gW: number, gb: number, H: number, dh: number,
  pos: number, Wc: number, bc: number, ic: number, gWc: number, gbc: number, xc: number, pre: number, g: number, liveOut: number,
) => number;

/**
 * The plan's data when the plan trains full batches of a fixed training set (a
 * `FiniteDataset` with `batchSize` equal to its size), the case
 * {@link FullBatchTiedTrainer} runs; null otherwise.
 */
export function fullBatchData(plan: TrainPlan): FiniteDataset | null {
  return plan.data instanceof FiniteDataset && plan.batchSize === plan.data.size ? plan.data : null;
}

/** Shapes, settings and the fixed training set of a {@link FullBatchTiedTrainer}. */
export interface FullBatchTrainerOptions extends Pick<ModelShape, 'instances' | 'features' | 'hidden'> {
  /** Output nonlinearity of x′ = act(WᵀW x + b). */
  activation: TiedLayout['activation'];
  /** Weights `[I, n, m]`, updated in place. */
  W: Float32Array;
  /** Biases `[I, n]`, updated in place. */
  b: Float32Array;
  /** Importance `[I, n]`. */
  importance: Float32Array;
  /** A validated optimizer config. */
  optimizer: Required<OptimizerConfig>;
  /** The training set `[I, size, n]`: every step uses all of it. */
  data: Float32Array;
  /** Samples per instance. */
  size: number;
  /** Gradient kernel: `wasm` (WebAssembly SIMD), `js` or `auto` (default: wasm where available). */
  kernel?: 'auto' | 'wasm' | 'js';
}

/**
 * Full-batch training of the tied models on a fixed, sparse training set (the
 * memorisation / double-descent setting of Henighan et al. 2023): every step
 * computes the gradient over all `size` samples, then applies Adam/AdamW.
 *
 * The training set is stored once as its non-zeros. Each step first bounds
 * every output from above, `b_j + ‖W_j‖·max_s ‖h_s‖`; outputs whose bound is
 * ≤ 0 are zero for every sample (the ReLU is off, so they get no gradient) and
 * are skipped. Features a model ignores cost nothing, so the generalising
 * regime (a few features kept, thousands ignored) trains many times faster than
 * a dense pass. The gradients are those of the dense computation (tested
 * against {@link FusedTiedTrainer}).
 */
export class FullBatchTiedTrainer {
  /** The output nonlinearity. */
  readonly activation: TiedLayout['activation'];
  /** Models trained together. */
  readonly instances: number;
  /** Features n. */
  readonly features: number;
  /** Hidden dimensions m. */
  readonly hidden: number;
  /** Samples per instance. */
  readonly size: number;
  /** The gradient kernel in use. */
  readonly kernel: 'wasm' | 'js';
  /** Weights `[I, n, m]` (`options.W` updated in place by the JS kernel; a view of the kernel's memory for wasm). */
  readonly W: Float32Array;
  /** Biases `[I, n]` (as `W`). */
  readonly b: Float32Array;
  /** Per-instance loss of the last step (mean over samples and features, importance-weighted). */
  readonly loss: Float64Array;
  /** Per-instance number of outputs that were live (could be > 0) in the last step. */
  readonly live: Int32Array;
  private readonly importance: Float32Array;
  /** The wasm kernel (when in use): gradient views and the call for instance k. */
  private readonly wasm: { gW: Float32Array; gb: Float32Array; run: (k: number) => void } | null = null;
  private readonly adam: InstanceAdam<'W' | 'b'>;
  /** CSR of the non-zeros: sample (k, s) has entries `start[k·(size+1)+s] … start[k·(size+1)+s+1] − 1`. */
  private readonly start: Int32Array;
  private readonly idx: Int32Array;
  private readonly val: Float64Array;
  private readonly gW: Float64Array;
  private readonly gb: Float64Array;
  private readonly H: Float64Array;
  private readonly dh: Float64Array;
  // the live outputs, packed: position of each feature (or −1), then column-major weights, biases, importance
  private readonly pos: Int32Array;
  private readonly Wc: Float64Array;
  private readonly bc: Float64Array;
  private readonly ic: Float64Array;
  private readonly gWc: Float64Array;
  private readonly gbc: Float64Array;
  private readonly xc: Float64Array;
  private readonly pre: Float64Array;
  private readonly g: Float64Array;

  constructor(o: FullBatchTrainerOptions) {
    this.activation = checkOneOf(o.activation, 'activation', ['identity', 'relu'] as const);
    const { instances: I, features: n, hidden: m, size: T } = o;
    checkLength(o.W, I * n * m, 'W');
    checkLength(o.b, I * n, 'b');
    checkLength(o.importance, I * n, 'importance');
    checkLength(o.data, I * T * n, 'data');
    this.instances = I;
    this.features = n;
    this.hidden = m;
    this.size = T;
    const module = kernelModule(o.kernel);
    this.kernel = module ? 'wasm' : 'js';
    this.W = o.W;
    this.b = o.b;
    this.importance = o.importance;
    this.adam = new InstanceAdam(I, { W: n * m, b: n }, o.optimizer);
    let nnz = 0;
    for (let i = 0; i < o.data.length; i++) if (o.data[i] !== 0) nnz++;
    this.start = new Int32Array(I * (T + 1));
    this.idx = new Int32Array(nnz);
    this.val = new Float64Array(nnz);
    let e = 0;
    for (let k = 0; k < I; k++) {
      for (let s = 0; s < T; s++) {
        this.start[k * (T + 1) + s] = e;
        const row = (k * T + s) * n;
        for (let j = 0; j < n; j++) {
          const v = o.data[row + j];
          if (v !== 0) {
            this.idx[e] = j;
            this.val[e] = v;
            e++;
          }
        }
      }
      this.start[k * (T + 1) + T] = e;
    }
    if (module) {
      // every array in the kernel's memory, laid out once (the memory never grows)
      const N4 = (n + 3) & ~3;
      let off = 0;
      const take = (bytes: number) => {
        const at = off;
        off = (off + bytes + 15) & ~15;
        return at;
      };
      const L = {
        W: take(I * n * m * 4), b: take(I * n * 4), imp: take(I * n * 4), start: take(I * (T + 1) * 4), idx: take(nnz * 4), val: take(nnz * 4),
        gW: take(n * m * 4), gb: take(n * 4), H: take(T * m * 4), dh: take(m * 4 + 16), pos: take(n * 4), Wc: take(m * N4 * 4),
        bc: take(N4 * 4), ic: take(N4 * 4), gWc: take(m * N4 * 4), gbc: take(N4 * 4), xc: take(N4 * 4), pre: take(N4 * 4), g: take(N4 * 4), live: take(16),
      };
      const memory = new WebAssembly.Memory({ initial: Math.ceil(off / 65536) + 1 });
      const instance = new WebAssembly.Instance(module, { env: { memory, abort: () => {} } });
      const buf = memory.buffer;
      const f32 = (at: number, len: number) => new Float32Array(buf, at, len);
      f32(L.W, I * n * m).set(o.W);
      f32(L.b, I * n).set(o.b);
      f32(L.imp, I * n).set(o.importance);
      new Int32Array(buf, L.start, I * (T + 1)).set(this.start);
      new Int32Array(buf, L.idx, nnz).set(this.idx);
      f32(L.val, nnz).set(this.val);
      this.W = f32(L.W, I * n * m);
      this.b = f32(L.b, I * n);
      const fn = instance.exports.fullBatch as FullBatchFn;
      const liveView = new Int32Array(buf, L.live, 1);
      const gWv = f32(L.gW, n * m);
      const gbv = f32(L.gb, n);
      this.wasm = {
        gW: gWv,
        gb: gbv,
        run: (k: number) => {
          const loss = fn(
            L.W + k * n * m * 4, L.b + k * n * 4, L.imp + k * n * 4, T, n, m, this.activation === 'relu' ? 1 : 0,
            L.start + k * (T + 1) * 4, L.idx, L.val, L.gW, L.gb, L.H, L.dh,
            L.pos, L.Wc, L.bc, L.ic, L.gWc, L.gbc, L.xc, L.pre, L.g, L.live,
          );
          this.live[k] = liveView[0];
          this.loss[k] = loss / (T * n);
        },
      };
    }
    this.gW = new Float64Array(n * m);
    this.gb = new Float64Array(n);
    this.H = new Float64Array(T * m);
    this.dh = new Float64Array(m);
    this.pos = new Int32Array(n);
    this.Wc = new Float64Array(m * n);
    this.bc = new Float64Array(n);
    this.ic = new Float64Array(n);
    this.gWc = new Float64Array(m * n);
    this.gbc = new Float64Array(n);
    this.xc = new Float64Array(n);
    this.pre = new Float64Array(n);
    this.g = new Float64Array(n);
    this.loss = new Float64Array(I);
    this.live = new Int32Array(I);
  }

  /** Steps applied so far. */
  get step(): number {
    return this.adam.t;
  }

  /** One full-batch step with learning rate `lr` for every instance; the loss is left in `loss`. */
  train(lr: number): void {
    this.adam.t += 1;
    const w = this.wasm;
    for (let k = 0; k < this.instances; k++) {
      if (w) w.run(k);
      else this.instanceGradients(k);
      this.adam.update('W', k, lr, this.W, w ? w.gW : this.gW);
      this.adam.update('b', k, lr, this.b, w ? w.gb : this.gb);
    }
  }

  /**
   * Gradients of one instance without updating anything (for tests and tools).
   * @returns copies of `dL/dW` `[n, m]` and `dL/db` `[n]` and the instance's loss
   */
  gradients(instance: number): { gW: Float64Array; gb: Float64Array; loss: number } {
    if (this.wasm) {
      this.wasm.run(instance);
      return { gW: Float64Array.from(this.wasm.gW), gb: Float64Array.from(this.wasm.gb), loss: this.loss[instance] };
    }
    this.instanceGradients(instance);
    return { gW: this.gW.slice(), gb: this.gb.slice(), loss: this.loss[instance] };
  }

  private instanceGradients(k: number): void {
    const { features: n, hidden: m, size: T, W, b, importance: imp, gW, gb, H, dh, start, idx, val } = this;
    const { pos, Wc, bc, ic, gWc, gbc, xc, pre, g } = this;
    const relu = this.activation === 'relu';
    const wOff = k * n * m;
    const bOff = k * n;
    const cOff = k * (T + 1);
    const scale = 2 / (T * n);
    gW.fill(0);
    gb.fill(0);
    // hidden vectors h_s = Σ x_i W_i, and the largest ‖h_s‖
    let hmax = 0;
    for (let s = 0; s < T; s++) {
      const hs = s * m;
      for (let c = 0; c < m; c++) H[hs + c] = 0;
      for (let e = start[cOff + s], end = start[cOff + s + 1]; e < end; e++) {
        const v = val[e];
        const o = wOff + idx[e] * m;
        for (let c = 0; c < m; c++) H[hs + c] += v * W[o + c];
      }
      let q = 0;
      for (let c = 0; c < m; c++) q += H[hs + c] * H[hs + c];
      if (q > hmax) hmax = q;
    }
    hmax = Math.sqrt(hmax);
    // the live outputs (b_j + ‖W_j‖·max‖h‖ > 0), packed column by column
    let L = 0;
    for (let j = 0; j < n; j++) {
      const o = wOff + j * m;
      if (relu) {
        let q = 0;
        for (let c = 0; c < m; c++) q += W[o + c] * W[o + c];
        if (!(b[bOff + j] + Math.sqrt(q) * hmax * (1 + 1e-6) > 0)) {
          pos[j] = -1;
          continue;
        }
      }
      pos[j] = L;
      bc[L] = b[bOff + j];
      ic[L] = imp[bOff + j];
      for (let c = 0; c < m; c++) Wc[c * n + L] = W[o + c];
      L++;
    }
    this.live[k] = L;
    gWc.fill(0);
    gbc.fill(0);
    let loss = 0;
    for (let s = 0; s < T; s++) {
      const e0 = start[cOff + s];
      const e1 = start[cOff + s + 1];
      for (let e = e0; e < e1; e++) {
        const q = pos[idx[e]];
        // an output that is off for every sample reconstructs 0
        if (q >= 0) xc[q] = val[e];
        else loss += imp[bOff + idx[e]] * val[e] * val[e];
      }
      const hs = s * m;
      for (let l = 0; l < L; l++) pre[l] = bc[l];
      for (let c = 0; c < m; c++) {
        const hc = H[hs + c];
        if (hc === 0) continue;
        const wc = c * n;
        for (let l = 0; l < L; l++) pre[l] += hc * Wc[wc + l];
      }
      for (let l = 0; l < L; l++) {
        const p = pre[l];
        const on = !relu || p > 0;
        const d = (on ? p : 0) - xc[l];
        const il = ic[l];
        loss += il * d * d;
        const gl = on ? scale * il * d : 0;
        g[l] = gl;
        gbc[l] += gl;
      }
      for (let c = 0; c < m; c++) {
        const hc = H[hs + c];
        const wc = c * n;
        let acc = 0;
        for (let l = 0; l < L; l++) {
          const gl = g[l];
          gWc[wc + l] += gl * hc;
          acc += gl * Wc[wc + l];
        }
        dh[c] = acc;
      }
      for (let e = e0; e < e1; e++) {
        const i = idx[e];
        const q = pos[i];
        if (q >= 0) xc[q] = 0;
        const v = val[e];
        const og = i * m;
        for (let c = 0; c < m; c++) gW[og + c] += v * dh[c];
      }
    }
    for (let j = 0; j < n; j++) {
      const q = pos[j];
      if (q < 0) continue;
      gb[j] = gbc[q];
      for (let c = 0; c < m; c++) gW[j * m + c] += gWc[c * n + q];
    }
    this.loss[k] = loss / (T * n);
  }
}
