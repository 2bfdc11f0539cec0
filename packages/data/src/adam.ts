/** Settings of {@link adamStep}. */
export interface AdamSettings {
  /** Decay of the first-moment estimate (0.9). */
  beta1: number;
  /** Decay of the second-moment estimate (0.999). */
  beta2: number;
  /** Added to the root of the second moment (1e-8). */
  epsilon: number;
  /** Weight decay: added to the gradient (`adam`, like PyTorch's Adam) or decoupled (`adamw`). */
  weightDecay: number;
  /** `adamw`: p ← p·(1 − lr·wd) before the step; `adam`: g ← g + wd·p. */
  decoupled: boolean;
}

/** The per-step scalars of an Adam/AdamW update (see {@link adamScalars}). */
export interface AdamScalars {
  /** lr / (1 − β₁ᵗ). */
  stepSize: number;
  /** 1 − β₂ᵗ. */
  bc2: number;
  /** The factor on the parameter: 1 − lr·wd for `adamw`, else 1. */
  decay: number;
  /** The weight decay added to the gradient: wd for `adam`, else 0. */
  l2: number;
}

/**
 * The scalars step `t` (1-based) of Adam/AdamW at learning rate `lr` applies
 * to every parameter: the one definition shared by {@link adamStep} and the
 * engines that run the update elsewhere (the WebGPU engine's kernel).
 */
export function adamScalars(t: number, lr: number, s: AdamSettings): AdamScalars {
  return {
    stepSize: lr / (1 - Math.pow(s.beta1, t)),
    bc2: 1 - Math.pow(s.beta2, t),
    decay: s.decoupled ? 1 - lr * s.weightDecay : 1,
    l2: s.decoupled ? 0 : s.weightDecay,
  };
}

/**
 * One Adam/AdamW update of `length` parameters in place, on plain typed arrays:
 * the one definition used by the fused training engine and the sparse
 * autoencoder (`AdamOptimizer` in `@tms/core` is the tensor version).
 *
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr/(1−β₁ᵗ) · m / (√(v/(1−β₂ᵗ)) + ε)
 *
 * @param p - parameters, updated at `offset … offset + length − 1`
 * @param m - first moments, same layout as `p`
 * @param v - second moments, same layout as `p`
 * @param g - gradients, read from index 0 (`g[i]` belongs to `p[offset + i]`)
 * @param t - the step number, 1-based
 * @param lr - the learning rate of this step
 */
export function adamStep(
  p: Float32Array | Float64Array,
  m: Float32Array | Float64Array,
  v: Float32Array | Float64Array,
  g: ArrayLike<number>,
  t: number,
  lr: number,
  s: AdamSettings,
  offset = 0,
  length = p.length - offset,
): void {
  const { beta1, beta2, epsilon } = s;
  const { stepSize, bc2, decay, l2 } = adamScalars(t, lr, s);
  for (let i = 0; i < length; i++) {
    const q = offset + i;
    const w = p[q];
    const gi = g[i] + l2 * w;
    const mi = beta1 * m[q] + (1 - beta1) * gi;
    const vi = beta2 * v[q] + (1 - beta2) * gi * gi;
    m[q] = mi;
    v[q] = vi;
    p[q] = w * decay - (stepSize * mi) / (Math.sqrt(vi / bc2) + epsilon);
  }
}

/**
 * Compile a WebAssembly module shipped as base64 (the kernels of
 * `@tms/engine-fused` and `@tms/analysis`), or return null where it cannot be
 * compiled here (no WebAssembly, or no SIMD).
 */
export function compileWasmBase64(base64: string): WebAssembly.Module | null {
  try {
    const bin = atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new WebAssembly.Module(bytes);
  } catch {
    return null;
  }
}
