// AssemblyScript source of the fused engine's gradient kernel (compiled to WebAssembly
// with SIMD by scripts/build-wasm.mjs). It mirrors FusedTiedTrainer's JS kernel:
// same algorithm, float32 arithmetic, 4-wide SIMD over the hidden dimension.

// y[0..len) += a * x[0..len)
@inline function axpy(a: f32, x: usize, y: usize, len: i32): void {
  const av = f32x4.splat(a);
  let c = 0;
  for (; c + 4 <= len; c += 4) {
    const o = <usize>(c << 2);
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
  for (; c < len; c++) {
    const o = <usize>(c << 2);
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

// y[0..len) = a * x[0..len)
@inline function scaled(a: f32, x: usize, y: usize, len: i32): void {
  const av = f32x4.splat(a);
  let c = 0;
  for (; c + 4 <= len; c += 4) {
    const o = <usize>(c << 2);
    v128.store(y + o, f32x4.mul(av, v128.load(x + o)));
  }
  for (; c < len; c++) {
    const o = <usize>(c << 2);
    store<f32>(y + o, a * load<f32>(x + o));
  }
}

@inline function dot(x: usize, y: usize, len: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= len; c += 4) {
    const o = <usize>(c << 2);
    acc = f32x4.add(acc, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; c < len; c++) {
    const o = <usize>(c << 2);
    s += load<f32>(x + o) * load<f32>(y + o);
  }
  return s;
}

/**
 * Gradients of one instance's importance-weighted MSE for x' = act(WᵀW x + b).
 * Pointers are byte offsets of float32 arrays (idx: int32). Returns Σ I (x' − x)²
 * over the batch (not yet divided by B·n); gW [n·m] and gb [n] are overwritten.
 */
export function gradients(
  W: usize, b: usize, imp: usize, x: usize, B: i32, n: i32, m: i32, relu: i32,
  gW: usize, gb: usize, G: usize, h: usize, dh: usize, pre: usize, idx: usize, val: usize,
): f64 {
  const scale: f32 = <f32>(2.0 / (<f64>B * <f64>n));
  memory.fill(gW, 0, <usize>(n * m * 4));
  memory.fill(gb, 0, <usize>(n * 4));
  let loss: f64 = 0;
  let zeros = 0;
  let gram = false;
  const rowBytes = <usize>(m << 2);
  for (let s = 0; s < B; s++) {
    const row = x + (<usize>(s * n) << 2);
    let nnz = 0;
    for (let i = 0; i < n; i++) {
      const v = load<f32>(row + (<usize>i << 2));
      if (v != 0) {
        store<i32>(idx + (<usize>nnz << 2), i);
        store<f32>(val + (<usize>nnz << 2), v);
        nnz++;
      }
    }
    if (nnz == 0) {
      zeros++;
      continue;
    }
    // h = Σ_active x_i W_i
    scaled(load<f32>(val), W + <usize>load<i32>(idx) * rowBytes, h, m);
    for (let t = 1; t < nnz; t++) {
      axpy(load<f32>(val + (<usize>t << 2)), W + <usize>load<i32>(idx + (<usize>t << 2)) * rowBytes, h, m);
    }
    // pre = W h + b (through the Gram matrix when cheaper)
    if (nnz < m) {
      if (!gram) {
        for (let i = 0; i < n; i++) {
          for (let j = i; j < n; j++) {
            const g = dot(W + <usize>i * rowBytes, W + <usize>j * rowBytes, m);
            store<f32>(G + (<usize>(i * n + j) << 2), g);
            store<f32>(G + (<usize>(j * n + i) << 2), g);
          }
        }
        gram = true;
      }
      memory.copy(pre, b, <usize>(n << 2));
      for (let t = 0; t < nnz; t++) {
        axpy(load<f32>(val + (<usize>t << 2)), G + (<usize>(load<i32>(idx + (<usize>t << 2)) * n) << 2), pre, n);
      }
    } else {
      for (let j = 0; j < n; j++) {
        store<f32>(pre + (<usize>j << 2), load<f32>(b + (<usize>j << 2)) + dot(h, W + <usize>j * rowBytes, m));
      }
    }
    memory.fill(dh, 0, rowBytes);
    let any = false;
    for (let j = 0; j < n; j++) {
      const p = load<f32>(pre + (<usize>j << 2));
      const xj = load<f32>(row + (<usize>j << 2));
      const ij = load<f32>(imp + (<usize>j << 2));
      if (relu && p <= 0) {
        loss += <f64>(ij * xj * xj);
        continue;
      }
      const d = p - xj;
      loss += <f64>(ij * d * d);
      if (d == 0) continue;
      any = true;
      const g = scale * ij * d;
      store<f32>(gb + (<usize>j << 2), load<f32>(gb + (<usize>j << 2)) + g);
      axpy(g, h, gW + <usize>j * rowBytes, m);
      axpy(g, W + <usize>j * rowBytes, dh, m);
    }
    if (!any) continue;
    for (let t = 0; t < nnz; t++) {
      axpy(load<f32>(val + (<usize>t << 2)), dh, gW + <usize>load<i32>(idx + (<usize>t << 2)) * rowBytes, m);
    }
  }
  if (zeros > 0) {
    for (let j = 0; j < n; j++) {
      const p = load<f32>(b + (<usize>j << 2));
      if (relu && p <= 0) continue;
      const ij = load<f32>(imp + (<usize>j << 2));
      loss += <f64>zeros * <f64>(ij * p * p);
      store<f32>(gb + (<usize>j << 2), load<f32>(gb + (<usize>j << 2)) + <f32>zeros * scale * ij * p);
    }
  }
  return loss;
}
