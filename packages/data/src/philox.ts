/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011): a counter-based generator. `philox4x32(key, counter)` is a pure
 * function of its inputs, so any element of a stream can be drawn on its own,
 * in any order, on any thread or GPU invocation. The WebGPU engine's WGSL copy
 * (`PHILOX_WGSL`) computes the same numbers bit for bit.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers (16-bit halves, as in WGSL). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox4x32-10 of a 128-bit counter under a 64-bit key.
 *
 * @param out - receives the four unsigned 32-bit outputs
 * @returns `out`
 *
 * @example
 * ```ts
 * philox4x32(0, 0, 0, 0, 0, 0, new Uint32Array(4)); // [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 * ```
 */
export function philox4x32(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number, out: Uint32Array): Uint32Array {
  k0 >>>= 0;
  k1 >>>= 0;
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** A 32-bit draw as a float in [0, 1) with 24 random bits (exact in float32). */
export const unitFloat = (r: number) => (r >>> 8) * 5.960464477539063e-8;

/**
 * The sparse features of one `(seed, stream, draw)` under Philox, the layout
 * the WebGPU engine generates on the GPU. For sample `s` and feature quad `q`
 * (features 4q … 4q + 3), `philox4x32(key = (seed, stream), counter = (s, draw, q, 0))`
 * gives one presence word per feature: feature f is present when
 * `unitFloat(word) < probability[f]`. Only when one of the four is present,
 * counter `(s, draw, q, 1)` gives their values: uniform in [0, 1) (or
 * [−1, 1) when `signed`). Sparse features thus cost one Philox call per four.
 *
 * @param out - `batchSize × n` values, row-major, written from `offset`
 */
export function philoxFeatures(
  seed: number,
  stream: number,
  draw: number,
  batchSize: number,
  probability: Float32Array,
  signed: boolean,
  out: Float32Array,
  offset = 0,
): void {
  const n = probability.length;
  const r = new Uint32Array(4);
  const v = new Uint32Array(4);
  for (let s = 0; s < batchSize; s++) {
    const row = offset + s * n;
    for (let q = 0; 4 * q < n; q++) {
      philox4x32(seed, stream, s, draw, q, 0, r);
      const last = Math.min(4, n - 4 * q);
      let any = false;
      for (let e = 0; e < last; e++) any ||= unitFloat(r[e]) < probability[4 * q + e];
      if (!any) {
        out.fill(0, row + 4 * q, row + 4 * q + last);
        continue;
      }
      philox4x32(seed, stream, s, draw, q, 1, v);
      for (let e = 0; e < last; e++) {
        const f = 4 * q + e;
        const u = unitFloat(v[e]);
        out[row + f] = unitFloat(r[e]) < probability[f] ? (signed ? 2 * u - 1 : u) : 0;
      }
    }
  }
}
