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

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function dot(x: usize, y: usize, len: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= len; c += 4) {
    const o = <usize>(c << 2);
    acc = f32x4.add(acc, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  let s: f32 = hsum(acc);
  for (; c < len; c++) {
    const o = <usize>(c << 2);
    s += load<f32>(x + o) * load<f32>(y + o);
  }
  return s;
}

// The non-zero entries of row[0..n): their indices into idx, values into val; returns how many.
// Branch-free (every entry is written at the next free slot, which advances only past a
// non-zero): at feature probabilities near 1/2 a branch per entry mispredicts half the time.
@inline function nonZeros(row: usize, n: i32, idx: usize, val: usize): i32 {
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(row + (<usize>i << 2));
    const at = <usize>nnz << 2;
    store<i32>(idx + at, i);
    store<f32>(val + at, v);
    nnz += <i32>(v != 0);
  }
  return nnz;
}

// h[0..m) = Σ_t val_t · W[idx_t] over nnz ≥ 1 entries (rows of W are rowBytes apart), 16 of h at
// a time held in registers over all entries: one load per weight, none of h in between (the
// sums in the order of a scaled row plus an axpy per entry, so the same floats)
@inline function rowSum(W: usize, rowBytes: usize, idx: usize, val: usize, nnz: i32, h: usize, m: i32): void {
  let c = 0;
  for (; c + 16 <= m; c += 16) {
    const o = <usize>(c << 2);
    let v = f32x4.splat(load<f32>(val));
    let w = W + <usize>load<i32>(idx) * rowBytes + o;
    let a0 = f32x4.mul(v, v128.load(w));
    let a1 = f32x4.mul(v, v128.load(w + 16));
    let a2 = f32x4.mul(v, v128.load(w + 32));
    let a3 = f32x4.mul(v, v128.load(w + 48));
    for (let t = 1; t < nnz; t++) {
      v = f32x4.splat(load<f32>(val + (<usize>t << 2)));
      w = W + <usize>load<i32>(idx + (<usize>t << 2)) * rowBytes + o;
      a0 = f32x4.add(a0, f32x4.mul(v, v128.load(w)));
      a1 = f32x4.add(a1, f32x4.mul(v, v128.load(w + 16)));
      a2 = f32x4.add(a2, f32x4.mul(v, v128.load(w + 32)));
      a3 = f32x4.add(a3, f32x4.mul(v, v128.load(w + 48)));
    }
    v128.store(h + o, a0);
    v128.store(h + o + 16, a1);
    v128.store(h + o + 32, a2);
    v128.store(h + o + 48, a3);
  }
  for (; c + 4 <= m; c += 4) {
    const o = <usize>(c << 2);
    let a = f32x4.mul(f32x4.splat(load<f32>(val)), v128.load(W + <usize>load<i32>(idx) * rowBytes + o));
    for (let t = 1; t < nnz; t++) {
      a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(val + (<usize>t << 2))), v128.load(W + <usize>load<i32>(idx + (<usize>t << 2)) * rowBytes + o)));
    }
    v128.store(h + o, a);
  }
  for (; c < m; c++) {
    const o = <usize>(c << 2);
    let a: f32 = load<f32>(val) * load<f32>(W + <usize>load<i32>(idx) * rowBytes + o);
    for (let t = 1; t < nnz; t++) a += load<f32>(val + (<usize>t << 2)) * load<f32>(W + <usize>load<i32>(idx + (<usize>t << 2)) * rowBytes + o);
    store<f32>(h + o, a);
  }
}

// gW[idx_t] += val_t · dh over the nnz active inputs (rows of gW are rowBytes apart)
@inline function scatterRows(dh: usize, idx: usize, val: usize, nnz: i32, gW: usize, rowBytes: usize, m: i32): void {
  for (let t = 0; t < nnz; t++) {
    axpy(load<f32>(val + (<usize>t << 2)), dh, gW + <usize>load<i32>(idx + (<usize>t << 2)) * rowBytes, m);
  }
}

// gW [n][m] += gWt [m][n] transposed
@inline function addTransposed(gW: usize, gWt: usize, n: i32, m: i32): void {
  const rowBytes = <usize>(m << 2);
  const colBytes = <usize>(n << 2);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < m; c++) {
      const o = gW + <usize>i * rowBytes + (<usize>c << 2);
      store<f32>(o, load<f32>(o) + load<f32>(gWt + <usize>c * colBytes + (<usize>i << 2)));
    }
  }
}

// `zeros` all-zero samples, whose output is act(b): add their bias gradient to gb and their loss to `loss`, returned
@inline function zeroSamples(loss: f64, b: usize, imp: usize, gb: usize, n: i32, zeros: i32, scale: f32, relu: i32): f64 {
  if (zeros == 0) return loss;
  for (let j = 0; j < n; j++) {
    const p = load<f32>(b + (<usize>j << 2));
    if (relu && p <= 0) continue;
    const ij = load<f32>(imp + (<usize>j << 2));
    loss += <f64>zeros * <f64>(ij * p * p);
    store<f32>(gb + (<usize>j << 2), load<f32>(gb + (<usize>j << 2)) + <f32>zeros * scale * ij * p);
  }
  return loss;
}

// pre[0..n) = b + Σ_c h_c · Wᵀ_c (rows of Wᵀ colBytes apart; with `live`, over the c with h_c > 0
// only), 16 outputs at a time held in registers over all c: one load per weight, none of pre in
// between (the sums in the order of an axpy per c, so the same floats)
@inline function denseForward(pre: usize, b: usize, h: usize, Wt: usize, n: i32, m: i32, colBytes: usize, live: bool): void {
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    const o = <usize>(j << 2);
    let a0 = v128.load(b + o);
    let a1 = v128.load(b + o + 16);
    let a2 = v128.load(b + o + 32);
    let a3 = v128.load(b + o + 48);
    let w = Wt + o;
    for (let c = 0; c < m; c++, w += colBytes) {
      const hs = load<f32>(h + (<usize>c << 2));
      if (live && !(hs > 0)) continue;
      const hc = f32x4.splat(hs);
      a0 = f32x4.add(a0, f32x4.mul(hc, v128.load(w)));
      a1 = f32x4.add(a1, f32x4.mul(hc, v128.load(w + 16)));
      a2 = f32x4.add(a2, f32x4.mul(hc, v128.load(w + 32)));
      a3 = f32x4.add(a3, f32x4.mul(hc, v128.load(w + 48)));
    }
    v128.store(pre + o, a0);
    v128.store(pre + o + 16, a1);
    v128.store(pre + o + 32, a2);
    v128.store(pre + o + 48, a3);
  }
  for (; j + 4 <= n; j += 4) {
    const o = <usize>(j << 2);
    let a = v128.load(b + o);
    let w = Wt + o;
    for (let c = 0; c < m; c++, w += colBytes) {
      const hs = load<f32>(h + (<usize>c << 2));
      if (live && !(hs > 0)) continue;
      a = f32x4.add(a, f32x4.mul(f32x4.splat(hs), v128.load(w)));
    }
    v128.store(pre + o, a);
  }
  for (; j < n; j++) {
    const o = <usize>(j << 2);
    let a = load<f32>(b + o);
    for (let c = 0; c < m; c++) {
      const hs = load<f32>(h + (<usize>c << 2));
      if (live && !(hs > 0)) continue;
      a += hs * load<f32>(Wt + <usize>c * colBytes + o);
    }
    store<f32>(pre + o, a);
  }
}

// For each c: gWᵀ_c += h_c · g and dh_c = g · Wᵀ_c, in one pass over g (each g loaded once for
// both; the same floats as an axpy and a dot). With `live`, units with h_c ≤ 0 get dh_c = 0.
// Four units at a time where all four are live: four independent sums, each g loaded once.
@inline function outerAndBack(g: usize, h: usize, Wt: usize, gWt: usize, dh: usize, n: i32, m: i32, colBytes: usize, live: bool): void {
  const n4 = n & ~3;
  let c = 0;
  while (c < m) {
    if (c + 4 <= m) {
      const co = <usize>c << 2;
      const s0 = load<f32>(h + co), s1 = load<f32>(h + co + 4), s2 = load<f32>(h + co + 8), s3 = load<f32>(h + co + 12);
      if (!live || (s0 > 0 && s1 > 0 && s2 > 0 && s3 > 0)) {
        const W0 = Wt + <usize>c * colBytes;
        const G0 = gWt + <usize>c * colBytes;
        const W1 = W0 + colBytes, W2 = W1 + colBytes, W3 = W2 + colBytes;
        const G1 = G0 + colBytes, G2 = G1 + colBytes, G3 = G2 + colBytes;
        const h0 = f32x4.splat(s0), h1 = f32x4.splat(s1), h2 = f32x4.splat(s2), h3 = f32x4.splat(s3);
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let j = 0; j < n4; j += 4) {
          const o = <usize>(j << 2);
          const gv = v128.load(g + o);
          v128.store(G0 + o, f32x4.add(v128.load(G0 + o), f32x4.mul(h0, gv)));
          v128.store(G1 + o, f32x4.add(v128.load(G1 + o), f32x4.mul(h1, gv)));
          v128.store(G2 + o, f32x4.add(v128.load(G2 + o), f32x4.mul(h2, gv)));
          v128.store(G3 + o, f32x4.add(v128.load(G3 + o), f32x4.mul(h3, gv)));
          a0 = f32x4.add(a0, f32x4.mul(gv, v128.load(W0 + o)));
          a1 = f32x4.add(a1, f32x4.mul(gv, v128.load(W1 + o)));
          a2 = f32x4.add(a2, f32x4.mul(gv, v128.load(W2 + o)));
          a3 = f32x4.add(a3, f32x4.mul(gv, v128.load(W3 + o)));
        }
        let d0: f32 = hsum(a0), d1: f32 = hsum(a1), d2: f32 = hsum(a2), d3: f32 = hsum(a3);
        for (let j = n4; j < n; j++) {
          const o = <usize>(j << 2);
          const gs = load<f32>(g + o);
          store<f32>(G0 + o, load<f32>(G0 + o) + s0 * gs);
          store<f32>(G1 + o, load<f32>(G1 + o) + s1 * gs);
          store<f32>(G2 + o, load<f32>(G2 + o) + s2 * gs);
          store<f32>(G3 + o, load<f32>(G3 + o) + s3 * gs);
          d0 += gs * load<f32>(W0 + o);
          d1 += gs * load<f32>(W1 + o);
          d2 += gs * load<f32>(W2 + o);
          d3 += gs * load<f32>(W3 + o);
        }
        store<f32>(dh + co, d0);
        store<f32>(dh + co + 4, d1);
        store<f32>(dh + co + 8, d2);
        store<f32>(dh + co + 12, d3);
        c += 4;
        continue;
      }
    }
    const Wc = Wt + <usize>c * colBytes;
    const Gc = gWt + <usize>c * colBytes;
    const hs = load<f32>(h + (<usize>c << 2));
    if (live && !(hs > 0)) {
      store<f32>(dh + (<usize>c << 2), 0);
      c++;
      continue;
    }
    const hc = f32x4.splat(hs);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < n4; j += 4) {
      const o = <usize>(j << 2);
      const gv = v128.load(g + o);
      v128.store(Gc + o, f32x4.add(v128.load(Gc + o), f32x4.mul(hc, gv)));
      acc = f32x4.add(acc, f32x4.mul(gv, v128.load(Wc + o)));
    }
    let d: f32 = hsum(acc);
    for (; j < n; j++) {
      const o = <usize>(j << 2);
      const gs = load<f32>(g + o);
      store<f32>(Gc + o, load<f32>(Gc + o) + hs * gs);
      d += gs * load<f32>(Wc + o);
    }
    store<f32>(dh + (<usize>c << 2), d);
    c++;
  }
}

// outerAndBack for four samples q = 0…3 at once (g_q at g + q·gStride, h_q and dh_q at
// h + q·hStride and dh + q·hStride): gWᵀ_c += h_0c g_0 + … + h_3c g_3 in that order, so each
// gWᵀ entry is loaded and stored once for the four (the same floats as four outerAndBack calls);
// dh_qc = g_q · Wᵀ_c as four independent sums.
@inline function outerAndBack4(g: usize, gStride: usize, h: usize, hStride: usize, Wt: usize, gWt: usize, dh: usize, n: i32, m: i32, colBytes: usize): void {
  const n4 = n & ~3;
  const g1p = g + gStride, g2p = g1p + gStride, g3p = g2p + gStride;
  const h1p = h + hStride, h2p = h1p + hStride, h3p = h2p + hStride;
  const d1p = dh + hStride, d2p = d1p + hStride, d3p = d2p + hStride;
  for (let c = 0; c < m; c++) {
    const Wc = Wt + <usize>c * colBytes;
    const Gc = gWt + <usize>c * colBytes;
    const co = <usize>c << 2;
    const s0 = load<f32>(h + co), s1 = load<f32>(h1p + co), s2 = load<f32>(h2p + co), s3 = load<f32>(h3p + co);
    const h0 = f32x4.splat(s0), h1 = f32x4.splat(s1), h2 = f32x4.splat(s2), h3 = f32x4.splat(s3);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const o = <usize>(j << 2);
      const w = v128.load(Wc + o);
      const v0 = v128.load(g + o), v1 = v128.load(g1p + o), v2 = v128.load(g2p + o), v3 = v128.load(g3p + o);
      let G = f32x4.add(v128.load(Gc + o), f32x4.mul(h0, v0));
      G = f32x4.add(G, f32x4.mul(h1, v1));
      G = f32x4.add(G, f32x4.mul(h2, v2));
      v128.store(Gc + o, f32x4.add(G, f32x4.mul(h3, v3)));
      a0 = f32x4.add(a0, f32x4.mul(v0, w));
      a1 = f32x4.add(a1, f32x4.mul(v1, w));
      a2 = f32x4.add(a2, f32x4.mul(v2, w));
      a3 = f32x4.add(a3, f32x4.mul(v3, w));
    }
    let d0: f32 = hsum(a0), d1: f32 = hsum(a1), d2: f32 = hsum(a2), d3: f32 = hsum(a3);
    for (let j = n4; j < n; j++) {
      const o = <usize>(j << 2);
      const w = load<f32>(Wc + o);
      const t0 = load<f32>(g + o), t1 = load<f32>(g1p + o), t2 = load<f32>(g2p + o), t3 = load<f32>(g3p + o);
      store<f32>(Gc + o, load<f32>(Gc + o) + s0 * t0 + s1 * t1 + s2 * t2 + s3 * t3);
      d0 += t0 * w;
      d1 += t1 * w;
      d2 += t2 * w;
      d3 += t3 * w;
    }
    store<f32>(dh + co, d0);
    store<f32>(d1p + co, d1);
    store<f32>(d2p + co, d2);
    store<f32>(d3p + co, d3);
  }
}

// Groups whose non-zeros number at least this many per feature scatter densely.
const DENSE_GROUP: i32 = 2;

// gW_i += x0_i dh_0 + x1_i dh_1 + x2_i dh_2 + x3_i dh_3 for every row i (x_q the samples' rows,
// dh_q at dh + q·hStride), each row of gW loaded and stored once for the four: the same floats
// as scatterRows over each sample's non-zeros in turn, since a zero x_qi adds ±0 (gW starts at
// +0, and a sum that starts at +0 is never −0) — for dense groups, where scattering row by row
// would load and store each row up to four times.
@inline function scatterDense4(x0: usize, x1: usize, x2: usize, x3: usize, dh: usize, hStride: usize, gW: usize, rowBytes: usize, n: i32, m: i32): void {
  const m4 = m & ~3;
  const d1p = dh + hStride, d2p = d1p + hStride, d3p = d2p + hStride;
  for (let i = 0; i < n; i++) {
    const io = <usize>i << 2;
    const s0 = load<f32>(x0 + io), s1 = load<f32>(x1 + io), s2 = load<f32>(x2 + io), s3 = load<f32>(x3 + io);
    const row = gW + <usize>i * rowBytes;
    const a0 = f32x4.splat(s0), a1 = f32x4.splat(s1), a2 = f32x4.splat(s2), a3 = f32x4.splat(s3);
    let c = 0;
    for (; c < m4; c += 4) {
      const o = <usize>(c << 2);
      let v = f32x4.add(v128.load(row + o), f32x4.mul(a0, v128.load(dh + o)));
      v = f32x4.add(v, f32x4.mul(a1, v128.load(d1p + o)));
      v = f32x4.add(v, f32x4.mul(a2, v128.load(d2p + o)));
      v128.store(row + o, f32x4.add(v, f32x4.mul(a3, v128.load(d3p + o))));
    }
    for (; c < m; c++) {
      const o = <usize>(c << 2);
      store<f32>(row + o, load<f32>(row + o) + s0 * load<f32>(dh + o) + s1 * load<f32>(d1p + o) + s2 * load<f32>(d2p + o) + s3 * load<f32>(d3p + o));
    }
  }
}

/**
 * Gradients of one instance's importance-weighted MSE for x' = act(WᵀW x + b).
 * Pointers are byte offsets of float32 arrays (idx: int32). Returns Σ I (x' − x)²
 * over the batch (not yet divided by B·n); gW [n·m] and gb [n] are overwritten.
 * Scratch for four samples: idx, val and g 4 × n rounded up to 4, h and dh 4 × m
 * rounded up to 4 (slots 16-byte aligned).
 */
export function gradients(
  W: usize, b: usize, imp: usize, x: usize, B: i32, n: i32, m: i32, relu: i32,
  gW: usize, gb: usize, G: usize, hBase: usize, dhBase: usize, pre: usize, idxBase: usize, valBase: usize, Wt: usize,
  gBase: usize, gWt: usize,
): f64 {
  const scale: f32 = <f32>(2.0 / (<f64>B * <f64>n));
  memory.fill(gW, 0, <usize>(n * m * 4));
  memory.fill(gb, 0, <usize>(n * 4));
  let loss: f64 = 0;
  let zeros = 0;
  let gram = false;
  const rowBytes = <usize>(m << 2);
  const colBytes = <usize>(n << 2);
  // Wᵀ [m][n]: the pre-activations and the backward pass run contiguously over outputs
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < m; c++) store<f32>(Wt + <usize>c * colBytes + (<usize>i << 2), load<f32>(W + <usize>i * rowBytes + (<usize>c << 2)));
  }
  memory.fill(gWt, 0, <usize>m * colBytes);
  const zero = f32x4.splat(0);
  const sv = f32x4.splat(scale);
  const n4 = n & ~3;
  // Samples go in groups of four with any non-zero (slot q's idx, val and g at q·slotN, its h
  // and dh at q·slotM): the forward pass and g per sample, then the output layer's weight
  // gradient for the four in one pass (outerAndBack4) and the input rows in sample order.
  const slotN = <usize>(((n + 3) & ~3) << 2);
  const slotM = <usize>(((m + 3) & ~3) << 2);
  let nz0 = 0, nz1 = 0, nz2 = 0, nz3 = 0;
  let row0: usize = 0, row1: usize = 0, row2: usize = 0, row3: usize = 0;
  let s = 0;
  while (s < B) {
    let q = 0;
    for (; q < 4 && s < B; s++) {
      const row = x + (<usize>(s * n) << 2);
      const idx = idxBase + <usize>q * slotN;
      const val = valBase + <usize>q * slotN;
      const g = gBase + <usize>q * slotN;
      const h = hBase + <usize>q * slotM;
      const nnz = nonZeros(row, n, idx, val);
      if (nnz == 0) {
        zeros++;
        continue;
      }
      // h = Σ_active x_i W_i
      rowSum(W, rowBytes, idx, val, nnz, h, m);
      // pre = W h + b (through the Gram matrix when cheaper)
      if (nnz < m) {
        if (!gram) {
          for (let i = 0; i < n; i++) {
            for (let j = i; j < n; j++) {
              const gr = dot(W + <usize>i * rowBytes, W + <usize>j * rowBytes, m);
              store<f32>(G + (<usize>(i * n + j) << 2), gr);
              store<f32>(G + (<usize>(j * n + i) << 2), gr);
            }
          }
          gram = true;
        }
        memory.copy(pre, b, <usize>(n << 2));
        for (let t = 0; t < nnz; t++) {
          axpy(load<f32>(val + (<usize>t << 2)), G + (<usize>(load<i32>(idx + (<usize>t << 2)) * n) << 2), pre, n);
        }
      } else {
        // pre = b + Σ_c h_c Wᵀ_c: contiguous over outputs, no horizontal sums
        denseForward(pre, b, h, Wt, n, m, colBytes, false);
      }
      // g_j = scale · I_j · (act(pre_j) − x_j) where the output is on (0 where the ReLU is off), 4 outputs at a time
      let lacc = zero;
      for (let j = 0; j < n4; j += 4) {
        const o = <usize>(j << 2);
        const p = v128.load(pre + o);
        const d = f32x4.sub(relu ? f32x4.max(p, zero) : p, v128.load(row + o));
        const id = f32x4.mul(v128.load(imp + o), d);
        lacc = f32x4.add(lacc, f32x4.mul(id, d));
        let gv = f32x4.mul(sv, id);
        if (relu) gv = v128.and(gv, f32x4.gt(p, zero));
        v128.store(g + o, gv);
      }
      loss += <f64>hsum(lacc);
      for (let j = n4; j < n; j++) {
        const o = <usize>(j << 2);
        const p = load<f32>(pre + o);
        const on = !relu || p > 0;
        const d = (on ? p : <f32>0) - load<f32>(row + o);
        const id = load<f32>(imp + o) * d;
        loss += <f64>(id * d);
        store<f32>(g + o, on ? scale * id : <f32>0);
      }
      // gb += g
      axpy(1, g, gb, n);
      if (q == 0) { nz0 = nnz; row0 = row; }
      else if (q == 1) { nz1 = nnz; row1 = row; }
      else if (q == 2) { nz2 = nnz; row2 = row; }
      else { nz3 = nnz; row3 = row; }
      q++;
    }
    // gWᵀ_c += h_c g; dh_c = g · Wᵀ_c; then gW_i += x_i dh over the active inputs, sample by sample
    if (q == 4) outerAndBack4(gBase, slotN, hBase, slotM, Wt, gWt, dhBase, n, m, colBytes);
    else for (let r = 0; r < q; r++) outerAndBack(gBase + <usize>r * slotN, hBase + <usize>r * slotM, Wt, gWt, dhBase + <usize>r * slotM, n, m, colBytes, false);
    if (q == 4 && nz0 + nz1 + nz2 + nz3 >= DENSE_GROUP * n) {
      scatterDense4(row0, row1, row2, row3, dhBase, slotM, gW, rowBytes, n, m);
    } else {
      for (let r = 0; r < q; r++) {
        const nnz = r == 0 ? nz0 : r == 1 ? nz1 : r == 2 ? nz2 : nz3;
        scatterRows(dhBase + <usize>r * slotM, idxBase + <usize>r * slotN, valBase + <usize>r * slotN, nnz, gW, rowBytes, m);
      }
    }
  }
  addTransposed(gW, gWt, n, m);
  return zeroSamples(loss, b, imp, gb, n, zeros, scale, relu);
}

/**
 * Full-batch gradients of one instance on a fixed training set stored as its
 * non-zeros (CSR: sample s has entries start[s] … start[s+1] − 1 of idx/val),
 * mirroring FullBatchTiedTrainer's JS kernel. Outputs that cannot be positive
 * for any sample (b_j + ‖W_j‖·max‖h‖ ≤ 0) are skipped; the others are packed
 * column by column (stride N4 = n rounded up to 4) and processed 4 at a time.
 * Returns Σ I (x′ − x)² over the set; gW [n·m] and gb [n] are overwritten and
 * the number of live outputs is stored at liveOut.
 */
export function fullBatch(
  W: usize, b: usize, imp: usize, T: i32, n: i32, m: i32, relu: i32,
  start: usize, idx: usize, val: usize, gW: usize, gb: usize, H: usize, dh: usize,
  pos: usize, Wc: usize, bc: usize, ic: usize, gWc: usize, gbc: usize, xc: usize, pre: usize, g: usize, liveOut: usize,
): f64 {
  const scale: f32 = <f32>(2.0 / (<f64>T * <f64>n));
  const rowBytes = <usize>(m << 2);
  const N4 = (n + 3) & ~3;
  const colBytes = <usize>(N4 << 2);
  memory.fill(gW, 0, <usize>(n * m * 4));
  memory.fill(gb, 0, <usize>(n * 4));
  // hidden vectors and the largest ‖h‖
  let hmax: f32 = 0;
  for (let s = 0; s < T; s++) {
    const hs = H + <usize>s * rowBytes;
    const e0 = load<i32>(start + (<usize>s << 2));
    const nnz = load<i32>(start + (<usize>(s + 1) << 2)) - e0;
    if (nnz > 0) rowSum(W, rowBytes, idx + (<usize>e0 << 2), val + (<usize>e0 << 2), nnz, hs, m);
    else memory.fill(hs, 0, rowBytes);
    const q = dot(hs, hs, m);
    if (q > hmax) hmax = q;
  }
  hmax = <f32>Mathf.sqrt(hmax);
  // pack the live outputs
  let L = 0;
  for (let j = 0; j < n; j++) {
    const o = W + <usize>j * rowBytes;
    const bj = load<f32>(b + (<usize>j << 2));
    if (relu) {
      const q = dot(o, o, m);
      if (!(<f64>bj + <f64>Mathf.sqrt(q) * <f64>hmax * 1.000001 > 0)) {
        store<i32>(pos + (<usize>j << 2), -1);
        continue;
      }
    }
    store<i32>(pos + (<usize>j << 2), L);
    store<f32>(bc + (<usize>L << 2), bj);
    store<f32>(ic + (<usize>L << 2), load<f32>(imp + (<usize>j << 2)));
    for (let c = 0; c < m; c++) store<f32>(Wc + <usize>c * colBytes + (<usize>L << 2), load<f32>(o + (<usize>c << 2)));
    L++;
  }
  store<i32>(liveOut, L);
  const L4 = (L + 3) & ~3;
  // padding lanes: zero weight, bias and importance give zero loss and gradient
  for (let l = L; l < L4; l++) {
    store<f32>(bc + (<usize>l << 2), 0);
    store<f32>(ic + (<usize>l << 2), 0);
    for (let c = 0; c < m; c++) store<f32>(Wc + <usize>c * colBytes + (<usize>l << 2), 0);
  }
  memory.fill(gWc, 0, <usize>m * colBytes);
  memory.fill(gbc, 0, colBytes);
  memory.fill(xc, 0, colBytes);
  const zero = f32x4.splat(0);
  const sv = f32x4.splat(scale);
  let loss: f64 = 0;
  for (let s = 0; s < T; s++) {
    const e0 = load<i32>(start + (<usize>s << 2));
    const e1 = load<i32>(start + (<usize>(s + 1) << 2));
    for (let e = e0; e < e1; e++) {
      const i = load<i32>(idx + (<usize>e << 2));
      const v = load<f32>(val + (<usize>e << 2));
      const q = load<i32>(pos + (<usize>i << 2));
      if (q >= 0) store<f32>(xc + (<usize>q << 2), v);
      else loss += <f64>(load<f32>(imp + (<usize>i << 2)) * v * v);
    }
    const hs = H + <usize>s * rowBytes;
    denseForward(pre, bc, hs, Wc, L4, m, colBytes, false);
    let lacc = zero;
    for (let l = 0; l < L4; l += 4) {
      const o = <usize>(l << 2);
      const p = v128.load(pre + o);
      const out = relu ? f32x4.max(p, zero) : p;
      const d = f32x4.sub(out, v128.load(xc + o));
      const il = v128.load(ic + o);
      const id = f32x4.mul(il, d);
      lacc = f32x4.add(lacc, f32x4.mul(id, d));
      let gl = f32x4.mul(sv, id);
      if (relu) gl = v128.and(gl, f32x4.gt(p, zero));
      v128.store(g + o, gl);
      v128.store(gbc + o, f32x4.add(v128.load(gbc + o), gl));
    }
    loss += <f64>hsum(lacc);
    for (let c = 0; c < m; c++) {
      const hv = f32x4.splat(load<f32>(hs + (<usize>c << 2)));
      const wc = Wc + <usize>c * colBytes;
      const gwc = gWc + <usize>c * colBytes;
      let acc = zero;
      for (let l = 0; l < L4; l += 4) {
        const o = <usize>(l << 2);
        const gl = v128.load(g + o);
        v128.store(gwc + o, f32x4.add(v128.load(gwc + o), f32x4.mul(gl, hv)));
        acc = f32x4.add(acc, f32x4.mul(gl, v128.load(wc + o)));
      }
      store<f32>(dh + (<usize>c << 2), hsum(acc));
    }
    for (let e = e0; e < e1; e++) {
      const i = load<i32>(idx + (<usize>e << 2));
      const q = load<i32>(pos + (<usize>i << 2));
      if (q >= 0) store<f32>(xc + (<usize>q << 2), 0);
      axpy(load<f32>(val + (<usize>e << 2)), dh, gW + <usize>i * rowBytes, m);
    }
  }
  for (let j = 0; j < n; j++) {
    const q = load<i32>(pos + (<usize>j << 2));
    if (q < 0) continue;
    store<f32>(gb + (<usize>j << 2), load<f32>(gbc + (<usize>q << 2)));
    for (let c = 0; c < m; c++) {
      const o = gW + <usize>j * rowBytes + (<usize>c << 2);
      store<f32>(o, load<f32>(o) + load<f32>(gWc + <usize>c * colBytes + (<usize>q << 2)));
    }
  }
  return loss;
}

/**
 * Gradients of one instance of a model with a ReLU hidden layer,
 * h = ReLU(x W₁) and x′ = ReLU(h W₂ + b), against the target x (abs = 0) or
 * |x| (abs = 1), mirroring FusedHiddenTrainer's JS kernel. W₁ is [n][m], W₂
 * [m][n]. When tied = 1, W₂ = W₁ᵀ: the kernel writes W₁ᵀ into W2 (scratch) and
 * folds the output-side gradient gW2 into gW1 at the end. The output layer runs
 * over outputs 4 at a time, skipping hidden units that are off. Returns
 * Σ I (x′ − y)² over the batch; gW1 [n·m], gW2 [m·n] and gb [n] are overwritten.
 */
export function hiddenGradients(
  W1: usize, W2: usize, b: usize, imp: usize, x: usize, B: i32, n: i32, m: i32, abs: i32, tied: i32,
  gW1: usize, gW2: usize, gb: usize, h: usize, dh: usize, idx: usize, val: usize, pre: usize, g: usize,
): f64 {
  const scale: f32 = <f32>(2.0 / (<f64>B * <f64>n));
  const rowBytes = <usize>(m << 2);
  const colBytes = <usize>(n << 2);
  memory.fill(gW1, 0, <usize>n * rowBytes);
  memory.fill(gW2, 0, <usize>m * colBytes);
  memory.fill(gb, 0, colBytes);
  if (tied) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < m; c++) store<f32>(W2 + <usize>c * colBytes + (<usize>i << 2), load<f32>(W1 + <usize>i * rowBytes + (<usize>c << 2)));
    }
  }
  let loss: f64 = 0;
  let zeros = 0;
  const zero = f32x4.splat(0);
  const sv = f32x4.splat(scale);
  const n4 = n & ~3;
  const m4 = m & ~3;
  for (let s = 0; s < B; s++) {
    const row = x + (<usize>(s * n) << 2);
    const nnz = nonZeros(row, n, idx, val);
    if (nnz == 0) {
      zeros++;
      continue;
    }
    // h = ReLU(Σ_active x_i W₁_i)
    rowSum(W1, rowBytes, idx, val, nnz, h, m);
    let c = 0;
    for (; c < m4; c += 4) {
      const o = <usize>(c << 2);
      v128.store(h + o, f32x4.max(v128.load(h + o), zero));
    }
    for (; c < m; c++) {
      const o = <usize>(c << 2);
      const v = load<f32>(h + o);
      store<f32>(h + o, v > 0 ? v : 0);
    }
    // pre = b + Σ_{c live} h_c W₂_c: contiguous over outputs
    denseForward(pre, b, h, W2, n, m, colBytes, true);
    // g_j = scale · I_j · (x′_j − y_j) where the output ReLU is on, 4 outputs at a time
    let lacc = zero;
    for (let j = 0; j < n4; j += 4) {
      const o = <usize>(j << 2);
      const p = v128.load(pre + o);
      const xv = v128.load(row + o);
      const d = f32x4.sub(f32x4.max(p, zero), abs ? f32x4.abs(xv) : xv);
      const id = f32x4.mul(v128.load(imp + o), d);
      lacc = f32x4.add(lacc, f32x4.mul(id, d));
      v128.store(g + o, v128.and(f32x4.mul(sv, id), f32x4.gt(p, zero)));
    }
    loss += <f64>hsum(lacc);
    for (let j = n4; j < n; j++) {
      const o = <usize>(j << 2);
      const p = load<f32>(pre + o);
      const xv = load<f32>(row + o);
      const d = (p > 0 ? p : <f32>0) - (abs && xv < 0 ? -xv : xv);
      const id = load<f32>(imp + o) * d;
      loss += <f64>(id * d);
      store<f32>(g + o, p > 0 ? scale * id : <f32>0);
    }
    // gb += g; gW₂_c += h_c g and dh_c = g · W₂_c for live units; gW₁_i += x_i dh over the active inputs
    axpy(1, g, gb, n);
    outerAndBack(g, h, W2, gW2, dh, n, m, colBytes, true);
    scatterRows(dh, idx, val, nnz, gW1, rowBytes, m);
  }
  if (tied) addTransposed(gW1, gW2, n, m);
  // all-zero samples: h = 0 and x′ = ReLU(b); only the bias gets a gradient
  return zeroSamples(loss, b, imp, gb, n, zeros, scale, 1);
}
