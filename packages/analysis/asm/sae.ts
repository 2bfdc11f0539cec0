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
 * Two passes over the latents per sample, 4 at a time: forward (f, and the decoder's
 * dot products into m accumulators), then backward (the latents' gradient, the decoder
 * and encoder gradients, the encoder's dot products for b_dec), each weight loaded once
 * per pass. Latents that do not fire contribute exact zeros to every sum but f's, so
 * groups of 4 with none firing are skipped after the forward ReLU: with an L1 penalty
 * most are. `acc` is scratch for 3·m vectors (accumulators, u_j and g_j splatted). The
 * sums run in the order of an axpy or dot per input dimension, so the floats are those
 * of that form (a skipped zero never meets a −0: the sums start at +0).
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
  const us = acc + mBytes; // u_j splatted
  const gs = us + mBytes; // g_j splatted
  let recon: f64 = 0;
  let l1sum: f64 = 0;
  for (let s = 0; s < B; s++) {
    const hs = h + (<usize>(s * m) << 2);
    for (let j = 0; j < m; j++) {
      const uj = load<f32>(hs + (<usize>j << 2)) - load<f32>(bd + (<usize>j << 2));
      store<f32>(u + (<usize>j << 2), uj);
      v128.store(us + (<usize>j << 4), f32x4.splat(uj));
    }
    // forward: f = ReLU(b_enc + Σ_j u_j Et_j); acc_j = Σ f · Dt_j over the groups that fire
    memory.fill(acc, 0, mBytes);
    let facc = zero;
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>(c << 2);
      let z = v128.load(be + o);
      for (let j = 0; j < m; j++) z = f32x4.add(z, f32x4.mul(v128.load(us + (<usize>j << 4)), v128.load(Et + <usize>j * rowBytes + o)));
      const on = f32x4.gt(z, zero);
      const fv = f32x4.max(z, zero);
      v128.store(f + o, fv);
      if (!v128.any_true(on)) continue;
      facc = f32x4.add(facc, fv);
      v128.store(fired + o, v128.or(v128.load(fired + o), v128.and(on, one)));
      for (let j = 0; j < m; j++) {
        const a = acc + (<usize>j << 4);
        v128.store(a, f32x4.add(v128.load(a), f32x4.mul(fv, v128.load(Dt + <usize>j * rowBytes + o))));
      }
    }
    l1sum += <f64>hsum(facc);
    // e_j = ĥ_j − h_j = Dt_j · f − u_j; residual = −e; g_j = (2/B) e_j
    let r2: f32 = 0;
    for (let j = 0; j < m; j++) {
      const ej = hsum(v128.load(acc + (<usize>j << 4))) - load<f32>(u + (<usize>j << 2));
      store<f32>(residual + (<usize>(s * m + j) << 2), -ej);
      r2 += ej * ej;
      const g = scale * ej;
      store<f32>(gbd + (<usize>j << 2), load<f32>(gbd + (<usize>j << 2)) + g);
      v128.store(gs + (<usize>j << 4), f32x4.splat(g));
    }
    store<f32>(residual2 + (<usize>s << 2), r2);
    recon += <f64>r2;
    // backward over the groups that fire: df = (l1/B + Σ_j g_j Dt_j) on the firing latents;
    // gDt_j += g_j f; gEt_j += u_j df; gbe += df; acc_j = Σ df · Et_j (for b_dec)
    memory.fill(acc, 0, mBytes);
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>(c << 2);
      const fv = v128.load(f + o);
      const on = f32x4.gt(fv, zero);
      if (!v128.any_true(on)) continue;
      let dfv = l1b;
      for (let j = 0; j < m; j++) {
        const gv = v128.load(gs + (<usize>j << 4));
        const jo = <usize>j * rowBytes + o;
        dfv = f32x4.add(dfv, f32x4.mul(gv, v128.load(Dt + jo)));
        v128.store(gDt + jo, f32x4.add(v128.load(gDt + jo), f32x4.mul(gv, fv)));
      }
      dfv = v128.and(dfv, on);
      for (let j = 0; j < m; j++) {
        const jo = <usize>j * rowBytes + o;
        v128.store(gEt + jo, f32x4.add(v128.load(gEt + jo), f32x4.mul(v128.load(us + (<usize>j << 4)), dfv)));
        const a = acc + (<usize>j << 4);
        v128.store(a, f32x4.add(v128.load(a), f32x4.mul(dfv, v128.load(Et + jo))));
      }
      v128.store(gbe + o, f32x4.add(v128.load(gbe + o), dfv));
    }
    for (let j = 0; j < m; j++) {
      store<f32>(gbd + (<usize>j << 2), load<f32>(gbd + (<usize>j << 2)) - hsum(v128.load(acc + (<usize>j << 4))));
    }
  }
  store<f64>(l1Out, l1sum);
  return recon;
}
