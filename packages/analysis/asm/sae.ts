// AssemblyScript source of the sparse autoencoder's gradient kernel (compiled to
// WebAssembly with SIMD by scripts/build-wasm.mjs). It mirrors the JS kernel in
// src/sae.ts: same algorithm and layout, float32 arithmetic, 4 latents at a time.
//
// Layout: the encoder and decoder are stored transposed, Et and Dt [m][d4] (row j
// holds input dimension j of every latent), d4 = d rounded up to 4; the padding
// lanes stay zero and get zero gradients.

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * Gradients of (Σ_s ‖ĥ_s − h_s‖² + l1 · Σ_s Σ_k f_sk) / B over a batch h [B][m],
 * f = ReLU(E (h − b_dec) + b_enc), ĥ = Dᵀ f + b_dec, added into gEt, gbe, gDt, gbd
 * (zeroed first). Marks fired latents (fired[k] = 1), stores each sample's
 * residual h − ĥ and its squared norm, and the L1 sum at l1Out. Returns Σ ‖ĥ − h‖².
 *
 * Samples go two at a time (each weight loaded once for both), in two passes over the
 * latents, 4 at a time: forward (f, and the decoder's dot products into m accumulators
 * per sample), then backward (the latents' gradient, the decoder and encoder gradients,
 * the encoder's dot products for b_dec). Latents that do not fire contribute exact zeros
 * to every sum but f's, so groups of 4 where neither sample fires are skipped after the
 * forward ReLU: with an L1 penalty most are. Every sum runs in the order of one sample
 * after the other and an axpy or dot per input dimension, and the zeros added for a
 * sample whose group is quiet never meet a −0 (the sums start at +0), so the floats are
 * those of that one-at-a-time form. `f` holds 2 · d4 floats; `acc` is scratch for 6·m
 * vectors (per sample: accumulators, u_j and g_j splatted).
 */
export function saeGradients(
  Et: usize, be: usize, Dt: usize, bd: usize, gEt: usize, gbe: usize, gDt: usize, gbd: usize,
  d4: i32, m: i32, B: i32, l1: f32, h: usize, f: usize, acc: usize, u: usize, fired: usize,
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
  const mBytes = <usize>(m << 4);
  // per sample q = 0, 1: accumulators at acc + q·mBytes, u_j splatted at us + q·mBytes, g_j at gs + q·mBytes
  const acc1 = acc + mBytes;
  const us = acc + 2 * mBytes;
  const gs = acc + 4 * mBytes;
  const f1 = f + rowBytes;
  let recon: f64 = 0;
  let l1sum: f64 = 0;
  for (let s = 0; s < B; s += 2) {
    // a last sample alone: the second one is all zeros and masked out
    const two = s + 1 < B;
    const pair = two ? v128.not(zero) : zero;
    for (let q = 0; q < 2; q++) {
      const hs = h + (<usize>((s + q) * m) << 2);
      for (let j = 0; j < m; j++) {
        const uj: f32 = q == 0 || two ? load<f32>(hs + (<usize>j << 2)) - load<f32>(bd + (<usize>j << 2)) : 0;
        store<f32>(u + (<usize>(q * m + j) << 2), uj);
        v128.store(us + <usize>q * mBytes + (<usize>j << 4), f32x4.splat(uj));
      }
    }
    // forward: f = ReLU(b_enc + Σ_j u_j Et_j); acc_j = Σ f · Dt_j over the groups where a sample fires
    memory.fill(acc, 0, 2 * mBytes);
    let facc0 = zero;
    let facc1 = zero;
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>(c << 2);
      let z0 = v128.load(be + o);
      let z1 = z0;
      for (let j = 0; j < m; j++) {
        const E = v128.load(Et + <usize>j * rowBytes + o);
        const ju = us + (<usize>j << 4);
        z0 = f32x4.add(z0, f32x4.mul(v128.load(ju), E));
        z1 = f32x4.add(z1, f32x4.mul(v128.load(ju + mBytes), E));
      }
      const on0 = f32x4.gt(z0, zero);
      const on1 = v128.and(f32x4.gt(z1, zero), pair);
      const fv0 = f32x4.max(z0, zero);
      const fv1 = v128.and(f32x4.max(z1, zero), pair);
      v128.store(f + o, fv0);
      v128.store(f1 + o, fv1);
      if (!v128.any_true(v128.or(on0, on1))) continue;
      facc0 = f32x4.add(facc0, fv0);
      facc1 = f32x4.add(facc1, fv1);
      v128.store(fired + o, v128.or(v128.load(fired + o), v128.and(v128.or(on0, on1), one)));
      for (let j = 0; j < m; j++) {
        const D = v128.load(Dt + <usize>j * rowBytes + o);
        const a0 = acc + (<usize>j << 4);
        const a1 = acc1 + (<usize>j << 4);
        v128.store(a0, f32x4.add(v128.load(a0), f32x4.mul(fv0, D)));
        v128.store(a1, f32x4.add(v128.load(a1), f32x4.mul(fv1, D)));
      }
    }
    // e_j = ĥ_j − h_j = Dt_j · f − u_j; residual = −e; g_j = (2/B) e_j
    for (let q = 0; q < 2; q++) {
      const gq = gs + <usize>q * mBytes;
      if (q == 1 && !two) {
        memory.fill(gq, 0, mBytes);
        continue;
      }
      l1sum += <f64>hsum(q == 0 ? facc0 : facc1);
      let r2: f32 = 0;
      for (let j = 0; j < m; j++) {
        const ej = hsum(v128.load(acc + <usize>q * mBytes + (<usize>j << 4))) - load<f32>(u + (<usize>(q * m + j) << 2));
        store<f32>(residual + (<usize>((s + q) * m + j) << 2), -ej);
        r2 += ej * ej;
        v128.store(gq + (<usize>j << 4), f32x4.splat(scale * ej));
      }
      store<f32>(residual2 + (<usize>(s + q) << 2), r2);
      recon += <f64>r2;
    }
    // backward over the groups where a sample fires: df = (l1/B + Σ_j g_j Dt_j) on its firing
    // latents; gDt_j += g_j f; gEt_j += u_j df; gbe += df; acc_j = Σ df · Et_j (for b_dec)
    memory.fill(acc, 0, 2 * mBytes);
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>(c << 2);
      const fv0 = v128.load(f + o);
      const fv1 = v128.load(f1 + o);
      const on0 = f32x4.gt(fv0, zero);
      const on1 = f32x4.gt(fv1, zero);
      if (!v128.any_true(v128.or(on0, on1))) continue;
      let df0 = l1b;
      let df1 = l1b;
      for (let j = 0; j < m; j++) {
        const jo = <usize>j * rowBytes + o;
        const D = v128.load(Dt + jo);
        const g0 = v128.load(gs + (<usize>j << 4));
        const g1 = v128.load(gs + mBytes + (<usize>j << 4));
        df0 = f32x4.add(df0, f32x4.mul(g0, D));
        df1 = f32x4.add(df1, f32x4.mul(g1, D));
        v128.store(gDt + jo, f32x4.add(f32x4.add(v128.load(gDt + jo), f32x4.mul(g0, fv0)), f32x4.mul(g1, fv1)));
      }
      df0 = v128.and(df0, on0);
      df1 = v128.and(df1, on1);
      for (let j = 0; j < m; j++) {
        const jo = <usize>j * rowBytes + o;
        const E = v128.load(Et + jo);
        const ju = us + (<usize>j << 4);
        v128.store(gEt + jo, f32x4.add(f32x4.add(v128.load(gEt + jo), f32x4.mul(v128.load(ju), df0)), f32x4.mul(v128.load(ju + mBytes), df1)));
        const a0 = acc + (<usize>j << 4);
        const a1 = acc1 + (<usize>j << 4);
        v128.store(a0, f32x4.add(v128.load(a0), f32x4.mul(df0, E)));
        v128.store(a1, f32x4.add(v128.load(a1), f32x4.mul(df1, E)));
      }
      v128.store(gbe + o, f32x4.add(f32x4.add(v128.load(gbe + o), df0), df1));
    }
    // b_dec, one sample after the other: += g_j, then −= Σ df · Et_j
    const count = two ? 2 : 1;
    for (let q = 0; q < count; q++) {
      for (let j = 0; j < m; j++) {
        const o = <usize>(j << 2);
        const g = f32x4.extract_lane(v128.load(gs + <usize>q * mBytes + (<usize>j << 4)), 0);
        store<f32>(gbd + o, load<f32>(gbd + o) + g - hsum(v128.load(acc + <usize>q * mBytes + (<usize>j << 4))));
      }
    }
  }
  store<f64>(l1Out, l1sum);
  return recon;
}
