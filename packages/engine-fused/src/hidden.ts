import { ShapeError, checkLength, checkOneOf } from '@tms/data';
import { InstanceAdam, align16, kernelModule, nonZeros, zeroSampleBias } from './trainer.js';
import type { HiddenLayout, ModelShape, OptimizerConfig } from '@tms/core';

/** Shapes and settings of a {@link FusedHiddenTrainer}. */
export interface FusedHiddenTrainerOptions extends Pick<ModelShape, 'instances' | 'features' | 'hidden'> {
  /** Input weights W₁ `[I, n, m]` (h = ReLU(x W₁)): updated in place by the JS kernel, copied by the wasm kernel; read the trained values with `params()`. */
  W1: Float32Array;
  /** Output weights W₂ `[I, m, n]` (x′ = ReLU(h W₂ + b)), or null when tied (W₂ = W₁ᵀ). */
  W2: Float32Array | null;
  /** Output biases `[I, n]` (as W₁: read them back with `params()`). */
  b: Float32Array;
  /**
   * Gradient kernel: `wasm` (WebAssembly SIMD, compiled from asm/fused.ts), `js`
   * (plain JavaScript) or `auto` (default: wasm where WebAssembly SIMD is available).
   */
  kernel?: 'auto' | 'wasm' | 'js';
  /** What the output is trained to match, as the model's `HiddenLayout` declares it. */
  target: HiddenLayout['target'];
  /** Importance `[I, n]`. */
  importance: Float32Array;
  /** A validated optimizer config. */
  optimizer: Required<OptimizerConfig>;
}

type HiddenGradientsFn = (
  W1: number, W2: number, b: number, imp: number, x: number, B: number, n: number, m: number, abs: number, tied: number,
  gW1: number, gW2: number, gb: number, h: number, dh: number, idx: number, val: number, pre: number, g: number,
) => number;

/**
 * A hand-fused CPU trainer for the models with a ReLU hidden layer,
 * h = ReLU(x W₁) and x′ = ReLU(h W₂ + b): the privileged-basis model
 * (`ReluHiddenModel`, W₂ = W₁ᵀ, target x) and the absolute-value model
 * (`AbsModel`, W₂ its own, target |x|). Forward pass, analytic backward pass and
 * Adam/AdamW in one loop over `Float32Array`s, in WebAssembly SIMD or plain
 * JavaScript.
 *
 * It exploits sparsity twice: the hidden vector is accumulated from the non-zero
 * inputs only, and the output layer and its gradients skip hidden units that are
 * off; all-zero samples are handled once per batch. Gradients equal those of the
 * autodiff path (the engine conformance suite checks them against finite
 * differences).
 */
export class FusedHiddenTrainer {
  /** Models trained together. */
  readonly instances: number;
  /** Features n. */
  readonly features: number;
  /** Hidden neurons m. */
  readonly hidden: number;
  /** The training target. */
  readonly target: HiddenLayout['target'];
  /** Whether W₂ = W₁ᵀ. */
  readonly tied: boolean;
  /** The gradient kernel in use. */
  readonly kernel: 'wasm' | 'js';
  /** Per-instance loss of the last step. */
  readonly loss: Float64Array;
  private readonly adam: InstanceAdam<'W1' | 'W2' | 'b'>;
  /** Lengths of the wasm kernel's regions. */
  private readonly sizes: Record<keyof FusedHiddenTrainer['a'], number> | null = null;
  /** The parameters and scratch, in JS arrays or views of the kernel's memory. */
  private a: {
    W1: Float32Array; W2: Float32Array; b: Float32Array; imp: Float32Array;
    gW1: Float32Array; gW2: Float32Array; gb: Float32Array; h: Float32Array; dh: Float32Array; idx: Int32Array; val: Float32Array; pre: Float32Array; g: Float32Array;
  };
  /** Byte offsets of the same regions in the kernel's memory (wasm kernel). */
  private readonly at: Record<'W1' | 'W2' | 'b' | 'imp' | 'gW1' | 'gW2' | 'gb' | 'h' | 'dh' | 'idx' | 'val' | 'pre' | 'g' | 'x', number> | null = null;
  private readonly memory: WebAssembly.Memory | null = null;
  private readonly wasmGradients: HiddenGradientsFn | null = null;
  /** Batch size the wasm x region holds. */
  private capacity = 0;
  /** Float64 gradient accumulators of the JS kernel. */
  private readonly acc: { gw1: Float64Array; gw2: Float64Array; gbb: Float64Array };

  constructor(o: FusedHiddenTrainerOptions) {
    const { instances: I, features: n, hidden: m } = o;
    this.target = checkOneOf(o.target, 'target', ['identity', 'abs'] as const);
    checkLength(o.W1, I * n * m, 'W1');
    if (o.W2 !== null) checkLength(o.W2, I * m * n, 'W2');
    checkLength(o.b, I * n, 'b');
    checkLength(o.importance, I * n, 'importance');
    this.instances = I;
    this.features = n;
    this.hidden = m;
    this.tied = o.W2 === null;
    const module = kernelModule(o.kernel);
    this.kernel = module ? 'wasm' : 'js';
    // W2 of an untied model is its own [I, m, n]; a tied model needs a [m, n] scratch for W₁ᵀ
    const w2Size = this.tied ? m * n : I * m * n;
    const sizes = { W1: I * n * m, W2: w2Size, b: I * n, imp: I * n, gW1: n * m, gW2: m * n, gb: n, h: m, dh: m, idx: n, val: n, pre: n, g: n };
    if (module) {
      const at: Record<string, number> = {};
      let off = 0;
      for (const [k, size] of Object.entries(sizes)) {
        at[k] = off;
        off = align16(off + size * 4 + 16);
      }
      at.x = off;
      this.at = at as NonNullable<FusedHiddenTrainer['at']>;
      this.memory = new WebAssembly.Memory({ initial: Math.ceil(off / 65536) + 1 });
      const instance = new WebAssembly.Instance(module, { env: { memory: this.memory, abort: () => {} } });
      this.wasmGradients = instance.exports.hiddenGradients as HiddenGradientsFn;
      this.sizes = sizes;
      this.a = this.views();
      this.a.W1.set(o.W1);
      if (o.W2) this.a.W2.set(o.W2);
      this.a.b.set(o.b);
      this.a.imp.set(o.importance);
    } else {
      const f = (k: keyof typeof sizes) => new Float32Array(sizes[k]);
      this.a = { W1: o.W1, W2: o.W2 ?? f('W2'), b: o.b, imp: o.importance, gW1: f('gW1'), gW2: f('gW2'), gb: f('gb'), h: f('h'), dh: f('dh'), idx: new Int32Array(n), val: f('val'), pre: f('pre'), g: f('g') };
    }
    // a tied model's W₂ is W₁ᵀ, not a parameter of its own (its scratch gets no Adam state)
    this.adam = new InstanceAdam<'W1' | 'W2' | 'b'>(I, this.tied ? ({ W1: n * m, b: n } as Record<'W1' | 'W2' | 'b', number>) : { W1: n * m, W2: m * n, b: n }, o.optimizer);
    this.loss = new Float64Array(I);
    this.acc = this.kernel === 'js' ? { gw1: new Float64Array(n * m), gw2: new Float64Array(m * n), gbb: new Float64Array(n) } : { gw1: new Float64Array(0), gw2: new Float64Array(0), gbb: new Float64Array(0) };
  }

  /** Steps applied so far. */
  get step(): number {
    return this.adam.t;
  }

  /**
   * Copies of the parameters in the model's layout: `{ W, b }` for a tied model
   * (`ReluHiddenModel`), `{ W1, W2, b }` otherwise (`AbsModel`, W2 `[I, m, n]`).
   */
  params(): Record<string, Float32Array> {
    const { W1, W2, b } = this.a;
    return this.tied ? { W: W1.slice(), b: b.slice() } : { W1: W1.slice(), W2: W2.slice(), b: b.slice() };
  }

  /**
   * A buffer for a batch of `batchSize` samples `[I, B, n]` that `train` reads
   * without copying (inside the kernel's memory for the wasm kernel).
   */
  batchBuffer(batchSize: number): Float32Array {
    const len = this.instances * batchSize * this.features;
    if (this.kernel === 'js') return new Float32Array(len);
    this.reserve(batchSize);
    return new Float32Array(this.memory!.buffer, this.at!.x, len);
  }

  /** Views of the wasm kernel's regions over its current memory. */
  private views(): FusedHiddenTrainer['a'] {
    const buf = this.memory!.buffer;
    const at = this.at!;
    const sizes = this.sizes!;
    const f = (k: Exclude<keyof FusedHiddenTrainer['a'], 'idx'>) => new Float32Array(buf, at[k], sizes[k]);
    return { W1: f('W1'), W2: f('W2'), b: f('b'), imp: f('imp'), gW1: f('gW1'), gW2: f('gW2'), gb: f('gb'), h: f('h'), dh: f('dh'), idx: new Int32Array(buf, at.idx, sizes.idx), val: f('val'), pre: f('pre'), g: f('g') };
  }

  /** Grow the wasm memory so that the x region holds `batchSize` samples. */
  private reserve(batchSize: number): void {
    if (this.capacity >= batchSize) return;
    const mem = this.memory!;
    const end = this.at!.x + this.instances * batchSize * this.features * 4;
    const need = Math.ceil(end / 65536) - mem.buffer.byteLength / 65536;
    if (need > 0) {
      mem.grow(need);
      // the views of the old buffer are detached (length 0): rebuild them over the same offsets
      this.a = this.views();
    }
    this.capacity = batchSize;
  }

  /**
   * One optimisation step on a batch `x` of shape `[I, B, n]`: gradients of the
   * importance-weighted MSE (mean over batch and features, summed over
   * instances), then Adam/AdamW with learning rate `lr`. The per-instance loss
   * of the batch (before the update) is left in `loss`.
   */
  train(x: Float32Array, batchSize: number, lr: number): void {
    const xAt = this.stage(x, batchSize);
    this.adam.t += 1;
    for (let k = 0; k < this.instances; k++) {
      this.instanceGradients(k, x, xAt, batchSize);
      const { W1, W2, b, gW1, gW2, gb } = this.a;
      this.adam.update('W1', k, lr, W1, gW1);
      if (!this.tied) this.adam.update('W2', k, lr, W2, gW2);
      this.adam.update('b', k, lr, b, gb);
    }
  }

  /**
   * Gradients of one instance without updating anything (for tests and tools).
   * @returns copies of dL/dW₁ `[n, m]` (the whole gradient of a tied model), dL/dW₂
   *   `[m, n]` (null when tied) and dL/db `[n]`, and the instance's loss
   */
  gradients(instance: number, x: Float32Array, batchSize: number): { gW1: Float64Array; gW2: Float64Array | null; gb: Float64Array; loss: number } {
    this.instanceGradients(instance, x, this.stage(x, batchSize), batchSize);
    const { gW1, gW2, gb } = this.a;
    return { gW1: Float64Array.from(gW1), gW2: this.tied ? null : Float64Array.from(gW2), gb: Float64Array.from(gb), loss: this.loss[instance] };
  }

  /** Check a batch's length; for the wasm kernel, put it into the kernel's memory (no copy when it came from batchBuffer) and return its offset. */
  private stage(x: Float32Array, batchSize: number): number {
    const len = this.instances * batchSize * this.features;
    if (!(x.length >= len)) throw new ShapeError('batch', `${len} values`, x.length);
    if (this.kernel === 'js') return -1;
    this.reserve(batchSize);
    const at = this.at!.x;
    if (!(x.buffer === this.memory!.buffer && x.byteOffset === at)) new Float32Array(this.memory!.buffer, at, len).set(x.subarray(0, len));
    return at;
  }

  private instanceGradients(k: number, x: Float32Array, xAt: number, B: number): void {
    const { features: n, hidden: m } = this;
    if (this.kernel === 'wasm') {
      const at = this.at!;
      const sum = this.wasmGradients!(
        at.W1 + k * n * m * 4, this.tied ? at.W2 : at.W2 + k * m * n * 4, at.b + k * n * 4, at.imp + k * n * 4, xAt + k * B * n * 4, B, n, m,
        this.target === 'abs' ? 1 : 0, this.tied ? 1 : 0, at.gW1, at.gW2, at.gb, at.h, at.dh, at.idx, at.val, at.pre, at.g,
      );
      this.loss[k] = sum / (B * n);
      return;
    }
    this.jsGradients(k, x, B);
  }

  /** The JS kernel: the same algorithm as `hiddenGradients` in asm/fused.ts, accumulating in float64. */
  private jsGradients(k: number, x: Float32Array, B: number): void {
    const n = this.features;
    const m = this.hidden;
    const abs = this.target === 'abs';
    const { W1, b, imp, gW1, gW2, gb, h, dh, idx, val, pre, g } = this.a;
    const w1 = k * n * m;
    const bOff = k * n;
    // W₂ [m][n] of this instance: its own, or W₁ᵀ written into the scratch
    let W2 = this.a.W2;
    let w2 = k * m * n;
    if (this.tied) {
      for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) W2[c * n + i] = W1[w1 + i * m + c];
      w2 = 0;
    }
    const scale = 2 / (B * n);
    const { gw1, gw2, gbb } = this.acc;
    gw1.fill(0);
    gw2.fill(0);
    gbb.fill(0);
    let loss = 0;
    let zeros = 0;
    const xBase = k * B * n;
    for (let s = 0; s < B; s++) {
      const row = xBase + s * n;
      const nnz = nonZeros(x, row, n, idx, val);
      if (nnz === 0) {
        zeros++;
        continue;
      }
      // h = ReLU(Σ_active x_i W₁_i)
      h.fill(0);
      for (let t = 0; t < nnz; t++) {
        const v = val[t];
        const o = w1 + idx[t] * m;
        for (let c = 0; c < m; c++) h[c] += v * W1[o + c];
      }
      for (let c = 0; c < m; c++) if (!(h[c] > 0)) h[c] = 0;
      // pre = b + Σ_{c live} h_c W₂_c
      for (let j = 0; j < n; j++) pre[j] = b[bOff + j];
      for (let c = 0; c < m; c++) {
        const hc = h[c];
        if (hc > 0) {
          const o = w2 + c * n;
          for (let j = 0; j < n; j++) pre[j] += hc * W2[o + j];
        }
      }
      for (let j = 0; j < n; j++) {
        const p = pre[j];
        const xj = x[row + j];
        const d = (p > 0 ? p : 0) - (abs && xj < 0 ? -xj : xj);
        const id = imp[bOff + j] * d;
        loss += id * d;
        g[j] = p > 0 ? scale * id : 0;
        gbb[j] += g[j];
      }
      for (let c = 0; c < m; c++) {
        const hc = h[c];
        if (hc > 0) {
          const o = w2 + c * n;
          const go = c * n;
          let acc = 0;
          for (let j = 0; j < n; j++) {
            gw2[go + j] += hc * g[j];
            acc += g[j] * W2[o + j];
          }
          dh[c] = acc;
        } else dh[c] = 0;
      }
      for (let t = 0; t < nnz; t++) {
        const v = val[t];
        const o = idx[t] * m;
        for (let c = 0; c < m; c++) gw1[o + c] += v * dh[c];
      }
    }
    if (this.tied) for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) gw1[i * m + c] += gw2[c * n + i];
    // all-zero samples: h = 0 and x′ = ReLU(b); only the bias gets a gradient
    if (zeros > 0) loss = zeroSampleBias(loss, b, bOff, imp, gbb, n, zeros, scale, true);
    gW1.set(gw1);
    gW2.set(gw2);
    gb.set(gbb);
    this.loss[k] = loss / (B * n);
  }
}
