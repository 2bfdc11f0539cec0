import { ConfigError, ShapeError, adamStep, checkLength, checkOneOf, compileWasmBase64, type AdamSettings } from '@tms/data';
import type { ModelShape, OptimizerConfig, TiedLayout } from '@tms/core';
import { FUSED_WASM_BASE64 } from './fused-wasm.generated.js';

/** Shapes and settings of a {@link FusedTiedTrainer}. */
export interface FusedTrainerOptions extends Pick<ModelShape, 'instances' | 'features' | 'hidden'> {
  /** Output nonlinearity of x′ = act(WᵀW x + b), as the model's `TiedLayout` declares it. */
  activation: TiedLayout['activation'];
  /** Weights `[I, n, m]`, updated in place. */
  W: Float32Array;
  /** Biases `[I, n]`, updated in place. */
  b: Float32Array;
  /** Importance `[I, n]`. */
  importance: Float32Array;
  /** A validated optimizer config. */
  optimizer: Required<OptimizerConfig>;
  /**
   * Gradient kernel: `wasm` (WebAssembly SIMD, compiled from asm/fused.ts), `js`
   * (plain JavaScript) or `auto` (default: wasm where WebAssembly SIMD is available).
   */
  kernel?: 'auto' | 'wasm' | 'js';
}

let wasmModule: WebAssembly.Module | null | undefined;

/** @internal The compiled fused kernels, or null where WebAssembly SIMD is unavailable. */
export function fusedWasmModule(): WebAssembly.Module | null {
  if (wasmModule === undefined) wasmModule = compileWasmBase64(FUSED_WASM_BASE64);
  return wasmModule;
}

/** Whether the WebAssembly SIMD kernel of the fused engine can run here. */
export function fusedWasmAvailable(): boolean {
  return fusedWasmModule() !== null;
}

type GradientsFn = (
  W: number, b: number, imp: number, x: number, B: number, n: number, m: number, relu: number,
  gW: number, gb: number, G: number, h: number, dh: number, pre: number, idx: number, val: number, Wt: number,
  g: number, gWt: number,
) => number;

/** Byte layout of the wasm kernel's memory. */
interface WasmLayout {
  W: number;
  b: number;
  imp: number;
  gW: number;
  gb: number;
  G: number;
  h: number;
  dh: number;
  pre: number;
  idx: number;
  val: number;
  /** Wᵀ of the instance being differentiated, `[m][n]`, its gradient, and the output gradients `[n]`. */
  Wt: number;
  gWt: number;
  g: number;
  x: number;
  /** Batch size the x region holds. */
  capacity: number;
}

/** @internal `v` rounded up to a multiple of 16: byte offsets of the kernels' memory regions, aligned for SIMD. */
export const align16 = (v: number) => (v + 15) & ~15;

/**
 * @internal The compiled kernels for a trainer's `kernel` option, or null for
 * the JS kernel (`js`, or `auto` where WebAssembly SIMD is unavailable).
 * @throws ConfigError for `wasm` where WebAssembly SIMD is unavailable
 */
export function kernelModule(kernel: 'auto' | 'wasm' | 'js' | undefined): WebAssembly.Module | null {
  const module = (kernel ?? 'auto') !== 'js' ? fusedWasmModule() : null;
  if (kernel === 'wasm' && !module) throw new ConfigError('kernel', '"auto" or "js": the WebAssembly SIMD kernel is not available in this runtime', kernel);
  return module;
}

/** @internal The non-zero entries of `x[row … row + n)`: their indices into `idx`, values into `val`; returns how many. */
export function nonZeros(x: Float32Array, row: number, n: number, idx: Int32Array, val: Float64Array | Float32Array): number {
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const v = x[row + i];
    if (v !== 0) {
      idx[nnz] = i;
      val[nnz] = v;
      nnz++;
    }
  }
  return nnz;
}

/**
 * @internal The JS kernels' all-zero samples: `zeros` of them, whose output is
 * act(b), add their bias gradient to `gb` and their loss to `loss`, which is
 * returned (`zeroSamples` in asm/fused.ts is the wasm twin).
 */
export function zeroSampleBias(loss: number, b: Float32Array, bOff: number, imp: Float32Array, gb: Float64Array, n: number, zeros: number, scale: number, relu: boolean): number {
  for (let j = 0; j < n; j++) {
    const p = b[bOff + j];
    if (relu && p <= 0) continue;
    const ij = imp[bOff + j];
    loss += zeros * ij * p * p;
    gb[j] += zeros * scale * ij * p;
  }
  return loss;
}

/**
 * @internal Adam/AdamW state of a fused trainer's parameters, each laid out
 * `[instances, size]`, updated one instance at a time: shared by the fused
 * trainers (W and b of the tied models; W1, W2 and b of the hidden-layer ones).
 */
export class InstanceAdam<P extends string> {
  private readonly settings: AdamSettings;
  private readonly state: Record<P, { m: Float32Array; v: Float32Array; size: number }>;
  /** Steps begun so far. */
  t = 0;

  /** @param sizes - each parameter's values per instance */
  constructor(instances: number, sizes: Record<P, number>, optimizer: Required<OptimizerConfig>) {
    const { beta1, beta2, epsilon, weightDecay, name } = optimizer;
    this.settings = { beta1, beta2, epsilon, weightDecay, decoupled: name === 'adamw' };
    const state = {} as Record<P, { m: Float32Array; v: Float32Array; size: number }>;
    for (const [k, size] of Object.entries(sizes) as [P, number][]) state[k] = { m: new Float32Array(instances * size), v: new Float32Array(instances * size), size };
    this.state = state;
  }

  /** Update instance `k` of parameter `name` (`p`, all instances) with its gradient `g` at step `t`. */
  update(name: P, k: number, lr: number, p: Float32Array, g: ArrayLike<number>): void {
    const { m, v, size } = this.state[name];
    adamStep(p, m, v, g, this.t, lr, this.settings, k * size, size);
  }
}

/**
 * A hand-fused CPU engine for the tied models x′ = act(WᵀW x + b) (`linear`,
 * `relu-output`): forward pass, analytic backward pass and Adam/AdamW in one
 * loop over plain `Float32Array`s, with no tensor allocations.
 *
 * It exploits the sparsity of the inputs: the hidden vector is accumulated from
 * non-zero features only; for samples with fewer active features than hidden
 * dimensions the pre-activation comes from the Gram matrix WWᵀ; all-zero samples
 * are handled once per batch; the gradient is only propagated where the ReLU is
 * active. Gradients equal those of the autodiff path (see the tests).
 */
export class FusedTiedTrainer {
  /** The output nonlinearity. */
  readonly activation: TiedLayout['activation'];
  /** Models trained together. */
  readonly instances: number;
  /** Features n. */
  readonly features: number;
  /** Hidden dimensions m. */
  readonly hidden: number;
  /** The gradient kernel in use. */
  readonly kernel: 'wasm' | 'js';
  private readonly importance: Float32Array;
  private readonly Wjs: Float32Array | null = null;
  private readonly bjs: Float32Array | null = null;
  private memory: WebAssembly.Memory | null = null;
  private wasmGradients: GradientsFn | null = null;
  private layout: WasmLayout | null = null;
  private readonly adam: InstanceAdam<'W' | 'b'>;
  // per-instance scratch (JS kernel)
  private readonly gW: Float64Array;
  private readonly gb: Float64Array;
  private readonly G: Float32Array;
  private readonly h: Float64Array;
  private readonly dh: Float64Array;
  private readonly pre: Float64Array;
  private readonly idx: Int32Array;
  private readonly val: Float64Array;
  /** Per-instance loss of the last step. */
  readonly loss: Float64Array;

  constructor(o: FusedTrainerOptions) {
    this.activation = checkOneOf(o.activation, 'activation', ['identity', 'relu'] as const);
    const { instances: I, features: n, hidden: m } = o;
    checkLength(o.W, I * n * m, 'W');
    checkLength(o.b, I * n, 'b');
    checkLength(o.importance, I * n, 'importance');
    this.instances = I;
    this.features = n;
    this.hidden = m;
    this.importance = o.importance;
    const module = kernelModule(o.kernel);
    this.kernel = module ? 'wasm' : 'js';
    if (module) {
      this.memory = new WebAssembly.Memory({ initial: 1 });
      const instance = new WebAssembly.Instance(module, { env: { memory: this.memory, abort: () => {} } });
      this.wasmGradients = instance.exports.gradients as GradientsFn;
      this.reserve(1);
      this.W.set(o.W);
      this.b.set(o.b);
      new Float32Array(this.memory.buffer, this.layout!.imp, I * n).set(o.importance);
    } else {
      this.Wjs = o.W;
      this.bjs = o.b;
    }
    this.adam = new InstanceAdam(I, { W: n * m, b: n }, o.optimizer);
    this.gW = new Float64Array(n * m);
    this.gb = new Float64Array(n);
    this.G = new Float32Array(n * n);
    this.h = new Float64Array(m);
    this.dh = new Float64Array(m);
    this.pre = new Float64Array(n);
    this.idx = new Int32Array(n);
    this.val = new Float64Array(n);
    this.loss = new Float64Array(I);
  }

  /** Steps applied so far. */
  get step(): number {
    return this.adam.t;
  }

  /** Weights `[I, n, m]` (a live view: read it, or copy it to keep it). */
  get W(): Float32Array {
    return this.Wjs ?? this.wasmViews().W;
  }

  /** Biases `[I, n]` (a live view). */
  get b(): Float32Array {
    return this.bjs ?? this.wasmViews().b;
  }

  /**
   * A buffer for a batch of `batchSize` samples `[I, B, n]` that `train` reads
   * without copying (inside the kernel's memory for the wasm kernel).
   */
  batchBuffer(batchSize: number): Float32Array {
    const len = this.instances * batchSize * this.features;
    if (this.kernel === 'js') return new Float32Array(len);
    this.reserve(batchSize);
    return new Float32Array(this.memory!.buffer, this.layout!.x, len);
  }

  /** Lay out (and grow) the wasm memory for batches up to `batchSize`. */
  private reserve(batchSize: number): void {
    if (this.layout && this.layout.capacity >= batchSize) return;
    const { instances: I, features: n, hidden: m } = this;
    let off = 0;
    const take = (bytes: number) => {
      const at = off;
      off = align16(off + bytes);
      return at;
    };
    const slotN = align16(n * 4);
    const slotM = align16(m * 4);
    const layout: WasmLayout = {
      W: take(I * n * m * 4),
      b: take(I * n * 4),
      imp: take(I * n * 4),
      gW: take(n * m * 4),
      gb: take(n * 4),
      G: take(n * n * 4),
      // four samples' slots (the kernel takes samples four at a time), each rounded up to 4 floats
      h: take(4 * slotM + 16),
      dh: take(4 * slotM + 16),
      pre: take(n * 4 + 16),
      idx: take(4 * slotN),
      val: take(4 * slotN),
      Wt: take(n * m * 4 + 16),
      gWt: take(n * m * 4 + 16),
      g: take(4 * slotN + 16),
      x: 0,
      capacity: batchSize,
    };
    layout.x = take(I * batchSize * n * 4);
    const mem = this.memory!;
    const need = Math.ceil(off / 65536) - mem.buffer.byteLength / 65536;
    if (need > 0) mem.grow(need);
    // the fixed regions keep their offsets; only x moves to the end as capacity grows
    this.layout = layout;
  }

  /**
   * One optimisation step on a batch `x` of shape `[I, B, n]`: gradients of the
   * importance-weighted MSE (mean over batch and features, summed over instances),
   * then Adam/AdamW with learning rate `lr`. The per-instance loss is left in `loss`.
   */
  train(x: Float32Array, batchSize: number, lr: number): void {
    this.adam.t += 1;
    if (this.kernel === 'wasm') {
      const xv = this.stageBatch(x, batchSize);
      for (let k = 0; k < this.instances; k++) {
        this.wasmInstanceGradients(k, xv, batchSize);
        const { gW, gb } = this.wasmScratch();
        this.adamUpdate(k, lr, gW, gb);
      }
      return;
    }
    for (let k = 0; k < this.instances; k++) {
      this.instanceGradients(k, x, batchSize);
      this.adamUpdate(k, lr, this.gW, this.gb);
    }
  }

  /** Put a batch into the kernel's memory (no copy when it came from batchBuffer). */
  private stageBatch(x: Float32Array, batchSize: number): number {
    const len = this.instances * batchSize * this.features;
    if (x.length < len) throw new ShapeError('batch', `${len} values`, x.length);
    this.reserve(batchSize);
    const L = this.layout!;
    if (!(x.buffer === this.memory!.buffer && x.byteOffset === L.x)) {
      new Float32Array(this.memory!.buffer, L.x, len).set(x.subarray(0, len));
    }
    return L.x;
  }

  private scratchViews: { buffer: ArrayBuffer; gW: Float32Array; gb: Float32Array; W: Float32Array; b: Float32Array } | null = null;

  /** Views of the kernel's memory, rebuilt only when the memory grows. */
  private wasmViews() {
    const buf = this.memory!.buffer;
    if (this.scratchViews?.buffer !== buf) {
      const L = this.layout!;
      const { instances: I, features: n, hidden: m } = this;
      this.scratchViews = {
        buffer: buf,
        gW: new Float32Array(buf, L.gW, n * m),
        gb: new Float32Array(buf, L.gb, n),
        W: new Float32Array(buf, L.W, I * n * m),
        b: new Float32Array(buf, L.b, I * n),
      };
    }
    return this.scratchViews;
  }

  private wasmScratch(): { gW: Float32Array; gb: Float32Array } {
    return this.wasmViews();
  }

  private wasmInstanceGradients(k: number, xPtr: number, B: number): void {
    const { features: n, hidden: m } = this;
    const L = this.layout!;
    const sum = this.wasmGradients!(
      L.W + k * n * m * 4, L.b + k * n * 4, L.imp + k * n * 4, xPtr + k * B * n * 4, B, n, m, this.activation === 'relu' ? 1 : 0,
      L.gW, L.gb, L.G, L.h, L.dh, L.pre, L.idx, L.val, L.Wt, L.g, L.gWt,
    );
    this.loss[k] = sum / (B * n);
  }

  /**
   * Gradients of one instance without updating anything (for tests and tools).
   * @returns copies of `dL/dW` `[n, m]` and `dL/db` `[n]` and the instance's loss
   */
  gradients(instance: number, x: Float32Array, batchSize: number): { gW: Float64Array; gb: Float64Array; loss: number } {
    if (this.kernel === 'wasm') {
      this.wasmInstanceGradients(instance, this.stageBatch(x, batchSize), batchSize);
      const { gW, gb } = this.wasmScratch();
      return { gW: Float64Array.from(gW), gb: Float64Array.from(gb), loss: this.loss[instance] };
    }
    this.instanceGradients(instance, x, batchSize);
    return { gW: this.gW.slice(), gb: this.gb.slice(), loss: this.loss[instance] };
  }

  private instanceGradients(k: number, x: Float32Array, B: number): void {
    const n = this.features;
    const m = this.hidden;
    const W = this.Wjs!;
    const b = this.bjs!;
    const imp = this.importance;
    const relu = this.activation === 'relu';
    const { gW, gb, G, h, dh, pre, idx, val } = this;
    const wOff = k * n * m;
    const bOff = k * n;
    const scale = 2 / (B * n);
    for (let i = 0; i < n * m; i++) gW[i] = 0;
    for (let j = 0; j < n; j++) gb[j] = 0;
    let loss = 0;
    let zeros = 0;
    let gramReady = false;
    const xBase = k * B * n;
    for (let s = 0; s < B; s++) {
      const row = xBase + s * n;
      const nnz = nonZeros(x, row, n, idx, val);
      if (nnz === 0) {
        zeros++;
        continue;
      }
      // h = Σ_active x_i W_i
      {
        const v0 = val[0];
        const o0 = wOff + idx[0] * m;
        for (let c = 0; c < m; c++) h[c] = v0 * W[o0 + c];
      }
      for (let t = 1; t < nnz; t++) {
        const v = val[t];
        const o = wOff + idx[t] * m;
        for (let c = 0; c < m; c++) h[c] += v * W[o + c];
      }
      // pre = W h + b, through the Gram matrix when that is cheaper
      if (nnz < m) {
        if (!gramReady) {
          this.gram(wOff);
          gramReady = true;
        }
        {
          const v0 = val[0];
          const o0 = idx[0] * n;
          for (let j = 0; j < n; j++) pre[j] = b[bOff + j] + v0 * G[o0 + j];
        }
        for (let t = 1; t < nnz; t++) {
          const v = val[t];
          const o = idx[t] * n;
          for (let j = 0; j < n; j++) pre[j] += v * G[o + j];
        }
      } else {
        for (let j = 0; j < n; j++) {
          let p = b[bOff + j];
          const o = wOff + j * m;
          for (let c = 0; c < m; c++) p += h[c] * W[o + c];
          pre[j] = p;
        }
      }
      for (let c = 0; c < m; c++) dh[c] = 0;
      let anyGrad = false;
      for (let j = 0; j < n; j++) {
        const p = pre[j];
        if (relu && p <= 0) {
          const xj = x[row + j];
          loss += imp[bOff + j] * xj * xj;
          continue;
        }
        const d = p - x[row + j];
        const ij = imp[bOff + j];
        loss += ij * d * d;
        if (d === 0) continue;
        anyGrad = true;
        const g = scale * ij * d;
        gb[j] += g;
        const o = j * m;
        const ow = wOff + o;
        for (let c = 0; c < m; c++) {
          gW[o + c] += g * h[c];
          dh[c] += g * W[ow + c];
        }
      }
      if (!anyGrad) continue;
      for (let t = 0; t < nnz; t++) {
        const v = val[t];
        const o = idx[t] * m;
        for (let c = 0; c < m; c++) gW[o + c] += v * dh[c];
      }
    }
    // all-zero samples: x′ = act(b), only the bias gets a gradient
    if (zeros > 0) loss = zeroSampleBias(loss, b, bOff, imp, gb, n, zeros, scale, relu);
    this.loss[k] = loss / (B * n);
  }

  /** G = W Wᵀ of one instance (symmetric, n×n). */
  private gram(wOff: number): void {
    const n = this.features;
    const m = this.hidden;
    const W = this.Wjs!;
    const G = this.G;
    for (let i = 0; i < n; i++) {
      const oi = wOff + i * m;
      for (let j = i; j < n; j++) {
        const oj = wOff + j * m;
        let s = 0;
        for (let c = 0; c < m; c++) s += W[oi + c] * W[oj + c];
        G[i * n + j] = s;
        G[j * n + i] = s;
      }
    }
  }

  private adamUpdate(k: number, lr: number, gW: Float64Array | Float32Array, gb: Float64Array | Float32Array): void {
    this.adam.update('W', k, lr, this.W, gW);
    this.adam.update('b', k, lr, this.b, gb);
  }
}
