// AssemblyScript source of the sparse autoencoder's gradient kernel (compiled to
// WebAssembly with SIMD by scripts/build-wasm.mjs). It mirrors the JS kernel in
// src/sae.ts: same algorithm and layout, float32 arithmetic, 4 latents at a time.
//
// Layout: the encoder and decoder are stored transposed, Et and Dt [m][d4] (row j
// holds input dimension j of every latent), d4 = d rounded up to 4; the padding
// lanes stay zero and get zero gradients.

@inline function axpy(a: f32, x: usize, y: usize, len: i32): void {
  const av = f32x4.splat(a);
  for (let c = 0; c < len; c += 4) {
    const o = <usize>(c << 2);
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
}

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function dot(x: usize, y: usize, len: i32): f32 {
  let acc = f32x4.splat(0);
  for (let c = 0; c < len; c += 4) {
    const o = <usize>(c << 2);
    acc = f32x4.add(acc, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  return hsum(acc);
}

/**
 * Gradients of (Σ_s ‖ĥ_s − h_s‖² + l1 · Σ_s Σ_k f_sk) / B over a batch h [B][m],
 * f = ReLU(E (h − b_dec) + b_enc), ĥ = Dᵀ f + b_dec, added into gEt, gbe, gDt, gbd
 * (zeroed first). Marks fired latents (fired[k] = 1), stores each sample's
 * residual h − ĥ and its squared norm, and the L1 sum at l1Out. Returns Σ ‖ĥ − h‖².
 */
export function saeGradients(
  Et: usize, be: usize, Dt: usize, bd: usize, gEt: usize, gbe: usize, gDt: usize, gbd: usize,
  d4: i32, m: i32, B: i32, l1: f32, h: usize, f: usize, df: usize, u: usize, fired: usize,
  residual: usize, residual2: usize, l1Out: usize,
): f64 {
  const rowBytes = <usize>(d4 << 2);
  memory.fill(gEt, 0, <usize>m * rowBytes);
  memory.fill(gDt, 0, <usize>m * rowBytes);
  memory.fill(gbe, 0, rowBytes);
  memory.fill(gbd, 0, <usize>(m << 2));
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  const l1b = f32x4.splat(l1 / <f32>B);
  const scale: f32 = <f32>2 / <f32>B;
  let recon: f64 = 0;
  let l1sum: f64 = 0;
  for (let s = 0; s < B; s++) {
    const hs = h + (<usize>(s * m) << 2);
    for (let j = 0; j < m; j++) store<f32>(u + (<usize>j << 2), load<f32>(hs + (<usize>j << 2)) - load<f32>(bd + (<usize>j << 2)));
    // f = ReLU(b_enc + Σ_j u_j Et_j)
    memory.copy(f, be, rowBytes);
    for (let j = 0; j < m; j++) axpy(load<f32>(u + (<usize>j << 2)), Et + <usize>j * rowBytes, f, d4);
    let facc = zero;
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>(c << 2);
      const z = v128.load(f + o);
      const on = f32x4.gt(z, zero);
      const fv = f32x4.max(z, zero);
      v128.store(f + o, fv);
      facc = f32x4.add(facc, fv);
      v128.store(fired + o, v128.or(v128.load(fired + o), v128.and(on, one)));
      // df starts at l1/B on the latents that fire
      v128.store(df + o, v128.and(l1b, on));
    }
    l1sum += <f64>hsum(facc);
    // e_j = ĥ_j − h_j = Dt_j · f − u_j; residual = −e
    let r2: f32 = 0;
    for (let j = 0; j < m; j++) {
      const Dj = Dt + <usize>j * rowBytes;
      const ej = dot(f, Dj, d4) - load<f32>(u + (<usize>j << 2));
      store<f32>(residual + (<usize>(s * m + j) << 2), -ej);
      r2 += ej * ej;
      const g = scale * ej;
      store<f32>(gbd + (<usize>j << 2), load<f32>(gbd + (<usize>j << 2)) + g);
      // decoder gradient and the latents' gradient (masked to the firing latents below)
      axpy(g, f, gDt + <usize>j * rowBytes, d4);
      const gv = f32x4.splat(g);
      for (let c = 0; c < d4; c += 4) {
        const o = <usize>(c << 2);
        const on = f32x4.gt(v128.load(f + o), zero);
        v128.store(df + o, f32x4.add(v128.load(df + o), v128.and(f32x4.mul(gv, v128.load(Dj + o)), on)));
      }
    }
    store<f32>(residual2 + (<usize>s << 2), r2);
    recon += <f64>r2;
    // encoder gradients
    for (let j = 0; j < m; j++) {
      axpy(load<f32>(u + (<usize>j << 2)), df, gEt + <usize>j * rowBytes, d4);
      store<f32>(gbd + (<usize>j << 2), load<f32>(gbd + (<usize>j << 2)) - dot(df, Et + <usize>j * rowBytes, d4));
    }
    axpy(1, df, gbe, d4);
  }
  store<f64>(l1Out, l1sum);
  return recon;
}
