import { ConfigError } from './spec.js';

/**
 * Seeded pseudo-random numbers: xoshiro128** seeded through splitmix32.
 *
 * Fast, 32-bit, and identical in Node and browsers. Two generators made with the
 * same `(seed, stream)` produce the same sequence; different streams of one seed
 * are independent for all practical purposes.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.float(); // uniform in [0, 1)
 * rng.normal(); // standard normal
 * ```
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  /**
   * @param seed - any integer (only the low 32 bits are used)
   * @param stream - selects an independent sub-sequence for the same seed
   */
  constructor(seed: number, stream = 0) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new ConfigError('seed', 'a finite number (its low 32 bits are used)', seed);
    let x = (Math.trunc(seed) ^ Math.imul(Math.trunc(stream) + 1, 0x9e3779b9)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next unsigned 32-bit integer. */
  uint32(): number {
    const s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    const m = Math.imul(s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 = s2 ^ s0;
    this.s3 = s3 ^ s1;
    this.s1 = s1 ^ this.s2;
    this.s0 = s0 ^ this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return r;
  }

  /**
   * Fill `data[start, end)` with uniform floats in [0, 1), or in [−1, 1) when
   * `signed`: the values `float()` (or `2·float() − 1`) would give one by one,
   * in the same order, with the generator's state kept in locals (about twice
   * as fast as a call per value).
   */
  fillFloats(data: Float32Array, start: number, end: number, signed = false): void {
    // int32 state in locals, the unsigned value formed only at the store, one loop per range. (This loop is
    // fillUint32's with the scaling at the store: through fillUint32 and a block it measured 1.7 times as slow.)
    let s0 = this.s0 | 0, s1 = this.s1 | 0, s2 = this.s2 | 0, s3 = this.s3 | 0;
    const scale = signed ? 2 * 2.3283064365386963e-10 : 2.3283064365386963e-10;
    const shift = signed ? -1 : 0;
    for (let k = start; k < end; k++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      data[k] = (r >>> 0) * scale + shift;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * Fill `out[start, end)` with the next 32-bit draws, the values `uint32()`
   * would give one by one, with the state kept in locals.
   */
  fillUint32(out: Uint32Array, start = 0, end = out.length): void {
    let s0 = this.s0 | 0, s1 = this.s1 | 0, s2 = this.s2 | 0, s3 = this.s3 | 0;
    for (let k = start; k < end; k++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[k] = r;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * Fill `rows` rows of `probability.length` features from `data[start]` on:
   * feature f is present with probability `probability[f]` and then takes a
   * uniform value in [0, 1) (in [−1, 1) when `signed`), else 0. Writes exactly
   * what `float() < probability[f] ? (signed ? 2·float() − 1 : float()) : 0`
   * gives feature by feature, row by row, and leaves the generator where that
   * loop would, with the state kept in locals (about 1.6 times as fast; reading
   * the draws from blocks taken ahead instead measured 1.35 times as slow).
   */
  fillBernoulli(data: Float32Array, start: number, rows: number, probability: ArrayLike<number>, signed = false): void {
    let s0 = this.s0 | 0, s1 = this.s1 | 0, s2 = this.s2 | 0, s3 = this.s3 | 0;
    const n = probability.length;
    const end = start + rows * n;
    for (let k = start; k < end; ) {
      for (let f = 0; f < n; f++, k++) {
        let m = Math.imul(s1, 5);
        let r = Math.imul((m << 7) | (m >>> 25), 9);
        let t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        if ((r >>> 0) * 2.3283064365386963e-10 < probability[f]) {
          m = Math.imul(s1, 5);
          r = Math.imul((m << 7) | (m >>> 25), 9);
          t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = (s3 << 11) | (s3 >>> 21);
          const u = (r >>> 0) * 2.3283064365386963e-10;
          data[k] = signed ? 2 * u - 1 : u;
        } else {
          data[k] = 0;
        }
      }
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * Walk through `data[start, end)` by geometric gaps, exactly as
   * `pos += 1 + ⌊ln(1 − float()) / logBase⌋` would with the `logBase` the
   * table was made for (see {@link gapTable}), and at each position write a
   * uniform value from the next `float()` (`'uniform'`), `2·float() − 1`
   * (`'signed'`), or 0 without a draw (`'zero'`). The sequence and the
   * generator's state afterwards are those of the loop written out, with the
   * logarithm replaced by a table lookup and the state kept in locals.
   */
  scatterGaps(data: Float32Array, start: number, end: number, table: GapTable, value: 'uniform' | 'signed' | 'zero'): void {
    let s0 = this.s0 | 0, s1 = this.s1 | 0, s2 = this.s2 | 0, s3 = this.s3 | 0;
    const { thresholds: th, guide, shift } = table;
    const K = th.length;
    const len = end - start;
    const zero = value === 'zero';
    const signed = value === 'signed';
    let pos = -1;
    for (;;) {
      let m = Math.imul(s1, 5);
      let r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      let k = guide[r >>> shift];
      while (k + 1 < K && th[k + 1] <= r) k++;
      pos += 1 + k;
      if (pos >= len) break;
      if (zero) {
        data[start + pos] = 0;
        continue;
      }
      m = Math.imul(s1, 5);
      r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const u = r * 2.3283064365386963e-10;
      data[start + pos] = signed ? 2 * u - 1 : u;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return this.uint32() * 2.3283064365386963e-10;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Standard normal sample (Box–Muller, caches the second value). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Fill `out` with uniform floats in [0, 1). */
  fill(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uint32() * 2.3283064365386963e-10;
    return out;
  }
}

/**
 * First stream of the weight initialisation: instance `g` of a model (global
 * index, whatever chunk, worker or shard it is trained in) draws its initial
 * weights from `new Rng(seed, WEIGHT_STREAM + g)`. Data streams use `1 + g`, so
 * the two never share a stream for instance indices below 2³⁰.
 */
export const WEIGHT_STREAM = 0x40000000;

/**
 * A 32-bit seed derived from a run's seed, a purpose and optional indices, e.g.
 * `deriveSeed(seed, 'sae-init', k)` for the k-th sweep point's autoencoder.
 *
 * Use it instead of offsetting a seed by a position (`seed + k`): with offsets,
 * sweep point 1 of seed 0 reuses sweep point 0 of seed 1, so replicate seeds are
 * not independent. Here every (seed, purpose, indices) gets its own value
 * (FNV-1a over the purpose, then a splitmix32 round per key).
 *
 * @example
 * ```ts
 * const evalData = new SparseFeatures({ instances: 4, features: 20, sparsity: 0.9, seed: deriveSeed(seed, 'eval') });
 * ```
 */
export function deriveSeed(seed: number, purpose: string, ...indices: number[]): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  const mix = (x: number): number => {
    x = (x + 0x9e3779b9) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
    return (x ^ (x >>> 16)) >>> 0;
  };
  h = mix(h ^ (Math.trunc(seed) >>> 0));
  for (const k of indices) h = mix(h ^ (Math.trunc(k) >>> 0));
  return h;
}

/**
 * @internal A generator's draws taken ahead in blocks, for loops that consume a
 * varying number of draws each: they read `draws[pos++]` (times 2⁻³² for
 * `float()`) after {@link DrawAhead.ensure} has made `count` draws available.
 * The values read are the generator's sequence in order; the generator itself
 * runs ahead of them, so it must not be drawn from directly any more.
 */
export class DrawAhead {
  /** The drawn values; `draws[pos …)` are not read yet. */
  readonly draws: Uint32Array;
  /** The next unread draw. */
  pos: number;

  constructor(private readonly rng: Rng, size = 4096) {
    this.draws = new Uint32Array(size);
    rng.fillUint32(this.draws);
    this.pos = 0;
  }

  /** Make at least `count` (at most the buffer's size) unread draws available from `pos` on. */
  ensure(count: number): void {
    const { draws, pos } = this;
    const size = draws.length;
    if (pos + count <= size) return;
    draws.copyWithin(0, pos, size);
    this.rng.fillUint32(draws, size - pos, size);
    this.pos = 0;
  }
}

/** Exact thresholds of a geometric gap on the 32-bit draw, for {@link Rng.scatterGaps}. */
export interface GapTable {
  /** `thresholds[k]`: the smallest 32-bit draw whose gap is ≥ k (`thresholds[0]` = 0). */
  thresholds: Float64Array;
  /** For each value of the draw's top bits, the gap of the smallest draw with them. */
  guide: Int32Array;
  /** 32 minus the number of top bits `guide` is indexed by. */
  shift: number;
}

const GUIDE_BITS = 12;
const gapTables = new Map<number, GapTable | null>();

/**
 * The table of the gap g(r) = ⌊ln(1 − r·2⁻³²) / logBase⌋ of a 32-bit draw r
 * (`float()` is r·2⁻³²), for `logBase` < 0: found by bisection on the formula
 * itself, so a lookup gives exactly what the formula gives. Null when the
 * largest gap exceeds `maxGap` (very sparse data: the formula is then used
 * directly). Tables are cached by `logBase`.
 */
export function gapTable(logBase: number, maxGap = 16384): GapTable | null {
  const cached = gapTables.get(logBase);
  if (cached !== undefined) return cached;
  const g = (r: number) => Math.floor(Math.log(1 - r * 2.3283064365386963e-10) / logBase);
  let table: GapTable | null = null;
  const largest = logBase < 0 ? g(4294967295) : Infinity;
  if (largest <= maxGap) {
    const th = [0];
    for (let k = 1; k <= largest; k++) {
      let lo = th[k - 1];
      let hi = 4294967295;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (g(mid) >= k) hi = mid;
        else lo = mid + 1;
      }
      th.push(lo);
    }
    const thresholds = Float64Array.from(th);
    const guide = new Int32Array(1 << GUIDE_BITS);
    let k = 0;
    for (let b = 0; b < guide.length; b++) {
      const r = b * 2 ** (32 - GUIDE_BITS);
      while (k + 1 < thresholds.length && thresholds[k + 1] <= r) k++;
      guide[b] = k;
    }
    table = { thresholds, guide, shift: 32 - GUIDE_BITS };
  }
  if (gapTables.size >= 1024) gapTables.clear();
  gapTables.set(logBase, table);
  return table;
}
