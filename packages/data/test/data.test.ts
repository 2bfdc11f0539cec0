import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError, defaultsOf, validateConfig, type ConfigFromSchema, FiniteDataset, Rng, gapTable, ShapeError, checkLength, SparseFeatures, deriveSeed, expandPerFeature, geometricImportance } from '../src/index.js';

describe('Rng', () => {
  it('reproduces a sequence from the same seed and differs across seeds and streams', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const d = new Rng(7, 1);
    const sa = Array.from({ length: 100 }, () => a.uint32());
    expect(Array.from({ length: 100 }, () => b.uint32())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.uint32())).not.toEqual(sa);
    expect(Array.from({ length: 100 }, () => d.uint32())).not.toEqual(sa);
  });

  it('fillFloats writes exactly the floats float() gives one by one, and leaves the generator where they would', () => {
    for (const signed of [false, true]) {
      const a = new Rng(11, 3);
      const b = new Rng(11, 3);
      a.float(); // start mid-sequence
      b.float();
      const filled = new Float32Array(1003).fill(-7);
      a.fillFloats(filled, 2, 1001, signed);
      const oneByOne = new Float32Array(1003).fill(-7);
      for (let k = 2; k < 1001; k++) oneByOne[k] = signed ? 2 * b.float() - 1 : b.float();
      expect(Array.from(filled)).toEqual(Array.from(oneByOne));
      expect(a.uint32()).toBe(b.uint32());
    }
  });

  it('fillBernoulli writes exactly what float() < p ? value : 0 gives one by one, and leaves the generator where that loop would', () => {
    const probability = new Float32Array([0.05, 0.3, 1, 0, 0.9]);
    for (const signed of [false, true]) {
      const a = new Rng(5, 9);
      const b = new Rng(5, 9);
      a.float();
      b.float();
      const rows = 400;
      const filled = new Float32Array(3 + rows * 5).fill(-7);
      a.fillBernoulli(filled, 3, rows, probability, signed);
      const oneByOne = new Float32Array(3 + rows * 5).fill(-7);
      for (let k = 3, r = 0; r < rows; r++) {
        for (let f = 0; f < 5; f++, k++) {
          if (b.float() < probability[f]) {
            const u = b.float();
            oneByOne[k] = signed ? 2 * u - 1 : u;
          } else oneByOne[k] = 0;
        }
      }
      expect(Array.from(filled)).toEqual(Array.from(oneByOne));
      expect(a.uint32()).toBe(b.uint32());
      // feature 2 always present, feature 3 never; features 0 and 1 at their rates
      const col = (f: number) => Array.from({ length: rows }, (_, r) => filled[3 + r * 5 + f]);
      expect(col(2).every((v) => v !== 0)).toBe(true);
      expect(col(3).every((v) => v === 0)).toBe(true);
      expect(col(1).filter((v) => v !== 0).length / rows).toBeGreaterThan(0.2);
      expect(col(1).filter((v) => v !== 0).length / rows).toBeLessThan(0.4);
    }
  });

  it('fillUint32 writes exactly the draws uint32() gives one by one, and leaves the generator where they would', () => {
    const a = new Rng(4, 2);
    const b = new Rng(4, 2);
    a.uint32();
    b.uint32();
    const filled = new Uint32Array(2003);
    a.fillUint32(filled, 3, 2001);
    const oneByOne = new Uint32Array(2003);
    for (let k = 3; k < 2001; k++) oneByOne[k] = b.uint32();
    expect(Array.from(filled)).toEqual(Array.from(oneByOne));
    expect(a.uint32()).toBe(b.uint32());
  });

  it('samples a probability per feature exactly as drawing float() one by one does, batch after batch', () => {
    const sparsity = [[0.95, 0.7, 0, 1, 0.1], [0.5, 0.99, 0.9, 0.2, 0.6]];
    for (const signed of [false, true]) {
      const gen = new SparseFeatures({ instances: 2, features: 5, sparsity, signed, seed: 9, firstInstance: 2 });
      const rngs = [new Rng(9, 3), new Rng(9, 4)];
      for (const B of [900, 1, 2500]) {
        const got = gen.sample(B).data;
        const want = new Float32Array(2 * B * 5);
        for (let i = 0, k = 0; i < 2; i++) {
          const p = gen.probability.subarray(i * 5, (i + 1) * 5);
          for (let b = 0; b < B; b++) {
            for (let f = 0; f < 5; f++, k++) {
              if (rngs[i].float() < p[f]) {
                const u = rngs[i].float();
                want[k] = signed ? 2 * u - 1 : u;
              }
            }
          }
        }
        expect(Array.from(got)).toEqual(Array.from(want));
        // feature 2 of instance 0 always present, feature 3 never
        expect(Array.from({ length: B }, (_, b) => got[b * 5 + 2]).every((v) => v !== 0)).toBe(true);
        expect(Array.from({ length: B }, (_, b) => got[b * 5 + 3]).every((v) => v === 0)).toBe(true);
      }
    }
  });

  it('draws uniform floats with mean 1/2 and variance 1/12', () => {
    const r = new Rng(1);
    const N = 200_000;
    let s = 0;
    let s2 = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < N; i++) {
      const u = r.float();
      s += u;
      s2 += u * u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    const mean = s / N;
    const variance = s2 / N - mean * mean;
    // standard error of the mean is sqrt(1/12/N) ≈ 6.5e-4: allow 5 sigma
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(variance).toBeCloseTo(1 / 12, 3);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
  });

  it('draws standard normals', () => {
    const r = new Rng(3);
    const N = 100_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < N; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / N)).toBeLessThan(5 / Math.sqrt(N));
    expect(s2 / N).toBeCloseTo(1, 1);
  });
});

describe('deriveSeed', () => {
  it('is deterministic and never reuses a seed across (seed, purpose, index), unlike seed + index', () => {
    expect(deriveSeed(3, 'sae-init', 1)).toBe(deriveSeed(3, 'sae-init', 1));
    // the collision an offset makes: point 1 of seed 0 is point 0 of seed 1
    expect(deriveSeed(0, 'sae-init', 1)).not.toBe(deriveSeed(1, 'sae-init', 0));
    expect(deriveSeed(0, 'sae-init', 0)).not.toBe(deriveSeed(0, 'sae-data', 0));
    const seen = new Set<number>();
    for (let seed = 0; seed < 20; seed++) for (let k = 0; k < 50; k++) seen.add(deriveSeed(seed, 'p', k));
    expect(seen.size).toBe(1000);
    for (const v of seen) expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff).toBe(true);
  });
});

describe('SparseFeatures', () => {
  // one sparsity per sampling path: all present, dense (zeros at geometric gaps), sparse (geometric jumps)
  const S = [0, 0.3, 0.55, 0.9, 0.99];
  const I = S.length;
  const n = 10;

  it('has the requested sparsity and mean within statistical bounds for every instance', () => {
    const gen = new SparseFeatures({ instances: I, features: n, sparsity: S.map((s) => Array(n).fill(s)), seed: 5 });
    const B = 20_000;
    const { data, shape } = gen.sample(B);
    expect(shape).toEqual([I, B, n]);
    for (let i = 0; i < I; i++) {
      let nonzero = 0;
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let k = i * B * n; k < (i + 1) * B * n; k++) {
        if (data[k] !== 0) nonzero++;
        sum += data[k];
        min = Math.min(min, data[k]);
        max = Math.max(max, data[k]);
      }
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThan(1);
      const N = B * n;
      const p = 1 - S[i];
      const pHat = nonzero / N;
      // binomial standard error, 5 sigma (plus a floor for p = 1)
      expect(Math.abs(pHat - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / N) + 1e-12);
      // E[x] = p/2, Var[x] = p/3 - p²/4
      const mean = sum / N;
      const sd = Math.sqrt(p / 3 - (p * p) / 4);
      expect(Math.abs(mean - p / 2)).toBeLessThan((5 * sd) / Math.sqrt(N));
    }
  });

  it('supports per-feature probabilities and signed values', () => {
    const probs = Array.from({ length: n }, (_, f) => (f + 1) / n);
    const gen = new SparseFeatures({ instances: 1, features: n, featureProbability: probs, signed: true, seed: 2 });
    const B = 20_000;
    const { data } = gen.sample(B);
    let negative = 0;
    expect(data.reduce((a, b) => Math.min(a, b), Infinity)).toBeGreaterThanOrEqual(-1);
    expect(data.reduce((a, b) => Math.max(a, b), -Infinity)).toBeLessThan(1);
    for (let f = 0; f < n; f++) {
      let nonzero = 0;
      for (let b = 0; b < B; b++) {
        const v = data[b * n + f];
        if (v !== 0) nonzero++;
        if (v < 0) negative++;
      }
      const p = probs[f];
      expect(Math.abs(nonzero / B - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / B) + 1e-12);
    }
    const totalNonzero = probs.reduce((a, b) => a + b, 0) * B;
    expect(negative / totalNonzero).toBeGreaterThan(0.47);
    expect(negative / totalNonzero).toBeLessThan(0.53);
  });

  it('reproduces batches from the same seed and differs for another seed', () => {
    const make = (seed: number) => new SparseFeatures({ instances: 2, features: 5, sparsity: 0.5, seed });
    const a = make(11).sample(64).data;
    const b = make(11).sample(64).data;
    const c = make(12).sample(64).data;
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
  });

  it('reuses an output buffer', () => {
    const gen = new SparseFeatures({ instances: 2, features: 5, seed: 1 });
    const buf = new Float32Array(2 * 8 * 5);
    const { data } = gen.sample(8, buf);
    expect(data.buffer).toBe(buf.buffer);
  });

  it('rejects bad configs naming the field and the allowed values', () => {
    expect(() => new SparseFeatures({ instances: 0, features: 5 })).toThrow(/"instances".*allowed: an integer in \[1,/);
    expect(() => new SparseFeatures({ instances: 2, features: 5, sparsity: 1.5 })).toThrow(
      /"sparsity".*allowed: a finite number in \[0, 1\]/,
    );
    expect(() => new SparseFeatures({ instances: 2, features: 3, sparsity: [0.1, 0.2] })).toThrow(ConfigError);
    expect(() => new SparseFeatures({ instances: 2, features: 2, sparsity: [[0.1, 0.2], [0.1, -1]] })).toThrow(
      /"sparsity\[1\]\[1\]"/,
    );
    expect(() => new SparseFeatures({ instances: 1, features: 2, sparsity: 0.1, featureProbability: 0.9 })).toThrow(
      /not both/,
    );
    try {
      new SparseFeatures({ instances: 1, features: 2, signed: 'yes' as unknown as boolean });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe('signed');
      expect((e as ConfigError).allowed).toBe('true or false');
    }
  });
});

describe('helpers', () => {
  it('expands per-feature values in all three forms', () => {
    expect(Array.from(expandPerFeature(0.5, 2, 2, 'x'))).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(expandPerFeature([1, 2], 2, 2, 'x'))).toEqual([1, 2, 1, 2]);
    expect(Array.from(expandPerFeature([[1, 2], [3, 4]], 2, 2, 'x'))).toEqual([1, 2, 3, 4]);
  });

  it('makes geometric importance', () => {
    const imp = geometricImportance(4, 0.7);
    expect(imp[0]).toBe(1);
    expect(imp[3]).toBeCloseTo(0.343, 10);
  });
});

describe('feature sets and finite datasets', () => {
  it('correlated features are present together; anticorrelated never co-occur; marginals keep p', () => {
    const n = 6;
    const p = 0.2;
    const gen = new SparseFeatures({
      instances: 1,
      features: n,
      featureProbability: p,
      sets: [
        { features: [0, 1], mode: 'correlated' },
        { features: [2, 3, 4], mode: 'anticorrelated' },
      ],
      seed: 3,
    });
    const B = 20_000;
    const { data } = gen.sample(B);
    const count = new Array<number>(n).fill(0);
    let together01 = 0;
    let coAnti = 0;
    for (let b = 0; b < B; b++) {
      const row = data.subarray(b * n, (b + 1) * n);
      row.forEach((v, f) => {
        if (v !== 0) count[f]++;
      });
      if ((row[0] !== 0) !== (row[1] !== 0)) together01++;
      if ([row[2], row[3], row[4]].filter((v) => v !== 0).length > 1) coAnti++;
    }
    expect(together01).toBe(0);
    expect(coAnti).toBe(0);
    for (const c of count) expect(Math.abs(c / B - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / B));
  });

  it('samples with sets exactly as drawing float() one by one does, batch after batch', () => {
    // the sampler reads its generator's draws from blocks taken ahead; this is the loop it replaces
    const sets = [
      { features: [1, 3], mode: 'correlated' as const },
      { features: [4, 0, 6], mode: 'anticorrelated' as const },
    ];
    const sparsity = [[0.9, 0.6, 0.2, 0.9, 0.8, 0.5, 0.8], [0.7, 0.95, 0.5, 0.95, 0.7, 0.1, 0.7]];
    for (const signed of [false, true]) {
      const gen = new SparseFeatures({ instances: 2, features: 7, sparsity, sets, signed, seed: 3, firstInstance: 5 });
      const rngs = [new Rng(3, 6), new Rng(3, 7)];
      const value = (rng: Rng) => (signed ? 2 * rng.float() - 1 : rng.float());
      for (const B of [700, 3, 1500]) {
        const got = gen.sample(B).data;
        const want = new Float32Array(2 * B * 7);
        for (let i = 0; i < 2; i++) {
          const rng = rngs[i];
          const p = gen.probability.subarray(i * 7, (i + 1) * 7);
          for (let b = 0; b < B; b++) {
            const row = (i * B + b) * 7;
            for (const f of [2, 5]) want[row + f] = rng.float() < p[f] ? value(rng) : 0;
            for (const set of sets) {
              const fs = set.features;
              if (set.mode === 'correlated') {
                if (rng.float() < p[fs[0]]) for (const f of fs) want[row + f] = value(rng);
              } else if (rng.float() < Math.min(1, fs.length * p[fs[0]])) {
                want[row + fs[rng.int(fs.length)]] = value(rng);
              }
            }
          }
        }
        expect(Array.from(got)).toEqual(Array.from(want));
      }
    }
  });

  it('rejects overlapping or malformed sets', () => {
    const base = { instances: 1, features: 4 };
    expect(() => new SparseFeatures({ ...base, sets: [{ features: [0], mode: 'correlated' }] })).toThrow(/"sets\[0\]\.features"/);
    expect(() => new SparseFeatures({ ...base, sets: [{ features: [0, 9], mode: 'correlated' }] })).toThrow(
      /"sets\[0\]\.features\[1\]".*\[0, 3\]/,
    );
    expect(() =>
      new SparseFeatures({
        ...base,
        sets: [
          { features: [0, 1], mode: 'correlated' },
          { features: [1, 2], mode: 'anticorrelated' },
        ],
      }),
    ).toThrow(/"sets\[1\]\.features\[0\]".*in no other set/);
    expect(() => new SparseFeatures({ ...base, sets: [{ features: [0, 1], mode: 'both' as never }] })).toThrow(/"sets\[0\]\.mode"/);
  });

  it('a finite dataset repeats its samples in order', () => {
    const ds = new FiniteDataset(new SparseFeatures({ instances: 2, features: 3, sparsity: 0.5, seed: 1 }), 4);
    const a = Array.from(ds.sample(4).data);
    const b = Array.from(ds.sample(4).data);
    expect(b).toEqual(a);
    const half1 = Array.from(ds.sample(2).data);
    // first two samples of instance 0 equal the start of the full batch
    expect(half1.slice(0, 6)).toEqual(a.slice(0, 6));
    expect(half1.slice(6, 12)).toEqual(a.slice(12, 18));
  });
});

describe('per-instance streams', () => {
  it('a source split into instance ranges produces the same data', () => {
    const S = [[0.1, 0.5, 0.9], [0.2, 0.2, 0.2], [0.9, 0.9, 0.9], [0, 0.5, 0.99]];
    const whole = new SparseFeatures({ instances: 4, features: 3, sparsity: S, seed: 9 });
    const a = new SparseFeatures({ instances: 1, features: 3, sparsity: S.slice(0, 1), seed: 9 });
    const b = new SparseFeatures({ instances: 3, features: 3, sparsity: S.slice(1), seed: 9, firstInstance: 1 });
    for (let step = 0; step < 3; step++) {
      const w = Array.from(whole.sample(16).data);
      expect([...a.sample(16).data, ...b.sample(16).data]).toEqual(w);
    }
  });
});

describe('streams: one stream key per instance', () => {
  const S = [[0.1, 0.5, 0.9], [0.2, 0.2, 0.2], [0.9, 0.9, 0.9], [0, 0.5, 0.99]];
  it.each(['xoshiro', 'philox'] as const)('%s: instances of two sources joined in one draw what each draws alone', (generator) => {
    const a = new SparseFeatures({ instances: 2, features: 3, sparsity: S.slice(0, 2), seed: 3, firstInstance: 5, generator });
    const b = new SparseFeatures({ instances: 2, features: 3, sparsity: S.slice(2), seed: 8, firstInstance: 5, generator });
    const joined = new SparseFeatures({ instances: 4, features: 3, sparsity: S, streams: { seeds: [3, 3, 8, 8], indices: [5, 6, 5, 6] }, generator });
    expect([Array.from(joined.streamSeeds), Array.from(joined.streamIndices)]).toEqual([[3, 3, 8, 8], [5, 6, 5, 6]]);
    for (let step = 0; step < 3; step++) {
      expect(Array.from(joined.sample(16).data)).toEqual([...a.sample(16).data, ...b.sample(16).data]);
    }
  });

  it('feature sets and unit-norm samples too; the default keys are (seed, firstInstance + i)', () => {
    const sets = [{ features: [0, 1], mode: 'correlated' as const }];
    const a = new SparseFeatures({ instances: 1, features: 3, sparsity: 0.5, seed: 1, sets, unitNorm: true });
    const b = new SparseFeatures({ instances: 1, features: 3, sparsity: 0.5, seed: 2, sets, unitNorm: true });
    const joined = new SparseFeatures({ instances: 2, features: 3, sparsity: 0.5, streams: { seeds: [1, 2], indices: [0, 0] }, sets, unitNorm: true });
    expect(Array.from(joined.sample(32).data)).toEqual([...a.sample(32).data, ...b.sample(32).data]);
    const same = new SparseFeatures({ instances: 2, features: 3, streams: { seeds: [4, 4], indices: [7, 8] } });
    expect([same.seed, same.firstInstance]).toEqual([4, 7]);
    const keys = (f: SparseFeatures) => [Array.from(f.streamSeeds), Array.from(f.streamIndices)];
    expect(keys(same)).toEqual([[4, 4], [7, 8]]);
    expect(keys(new SparseFeatures({ instances: 2, features: 3, seed: 4, firstInstance: 7 }))).toEqual([[4, 4], [7, 8]]);
  });

  it('refuses keys that do not match the instances, or together with seed / firstInstance, naming the field', () => {
    const base = { instances: 2, features: 3 };
    expect(() => new SparseFeatures({ ...base, streams: { seeds: [1], indices: [0, 1] } })).toThrow(/"streams".*two arrays of 2 integers/);
    expect(() => new SparseFeatures({ ...base, streams: { seeds: [1, -1], indices: [0, 1] } })).toThrow(/"streams.seeds\[1\]"/);
    expect(() => new SparseFeatures({ ...base, streams: { seeds: [1, 1], indices: [0, 0.5] } })).toThrow(/"streams.indices\[1\]"/);
    expect(() => new SparseFeatures({ ...base, firstInstance: 2, streams: { seeds: [1, 1], indices: [0, 1] } })).toThrow(/"firstInstance".*unset when streams/);
    expect(() => new SparseFeatures({ ...base, seed: 2, streams: { seeds: [1, 1], indices: [0, 1] } })).toThrow(/"seed".*unset when streams/);
  });
});

describe('validation vocabulary', () => {
  it('ConfigError and ShapeError name the field and print non-finite numbers as numbers', () => {
    expect(new ConfigError('lr', 'a number in [0, 10]', NaN).message).toBe('invalid config field "lr": got NaN; allowed: a number in [0, 10]');
    expect(new ConfigError('x', 'finite', -Infinity).message).toMatch(/got -Infinity/);
    expect(() => checkLength(new Float32Array(3), 4, 'b')).toThrow(ShapeError);
    expect(() => checkLength(new Float32Array(3), 4, 'b')).toThrow('invalid shape of "b": expected 4 values, got 3 values');
    expect(() => checkLength(null as never, 4, 'b')).toThrow(/"b": expected 4 values, got null/);
    expect(() => new Rng(NaN)).toThrow(ConfigError);
    expect(() => new Rng('1' as never)).toThrow(/"seed"/);
  });
});

describe('schemas declare each field once', () => {
  it('infer the config type and the defaults from one declaration', () => {
    const schema = {
      steps: { type: 'int', min: 1, doc: 'training steps', default: 100 },
      kinds: { type: 'enums', options: ['linear', 'relu'], doc: 'models', default: ['relu'] },
      optimizer: { type: 'enum', options: ['adam', 'adamw'], doc: 'optimizer', default: 'adam' },
      sparsities: { type: 'numbers', min: 0, max: 1, doc: 'S', default: [0, 0.9] },
    } as const;
    expectTypeOf<ConfigFromSchema<typeof schema>>().toEqualTypeOf<{
      steps: number;
      kinds: ('linear' | 'relu')[];
      optimizer: 'adam' | 'adamw';
      sparsities: number[];
    }>();
    const d = defaultsOf(schema);
    expect(d).toEqual({ steps: 100, kinds: ['relu'], optimizer: 'adam', sparsities: [0, 0.9] });
    d.sparsities.push(1); // a copy: the schema's default is untouched
    expect(schema.sparsities.default).toEqual([0, 0.9]);
    expect(validateConfig(schema, defaultsOf(schema), { steps: 5 })).toEqual({ ...defaultsOf(schema), steps: 5 });
    expect(() => defaultsOf({ x: { type: 'int', min: 0, doc: 'x' } })).toThrow(/"x\.default"/);
  });
});

describe('anticorrelated sets', () => {
  it('refuse k·p > 1, which no distribution with at most one present feature can give', () => {
    const sets = [{ features: [0, 1, 2], mode: 'anticorrelated' as const }];
    expect(() => new SparseFeatures({ instances: 1, features: 4, featureProbability: 0.5, sets })).toThrow(ConfigError);
    expect(() => new SparseFeatures({ instances: 1, features: 4, featureProbability: 0.5, sets })).toThrow(/"sets\[0\]".*probability ≤ 1\/3/);
    // k·p = 1 exactly: one of the three is always present
    const ok = new SparseFeatures({ instances: 1, features: 4, featureProbability: 1 / 3, sets, seed: 2 }).sample(3000).data;
    let present = 0;
    for (let s = 0; s < 3000; s++) present += [0, 1, 2].filter((f) => ok[s * 4 + f] !== 0).length;
    expect(present / 3000).toBeCloseTo(1, 5);
  });
});

describe('unit-norm samples and replicated finite datasets (double descent)', () => {
  it('unitNorm rescales every non-zero sample to norm 1 and leaves the pattern of zeros as it was', () => {
    const config = { instances: 2, features: 50, sparsity: 0.95, seed: 4 };
    const raw = new SparseFeatures(config).sample(400).data;
    const unit = new SparseFeatures({ ...config, unitNorm: true }).sample(400).data;
    let zeroRows = 0;
    for (let r = 0; r < 800; r++) {
      let q = 0;
      for (let j = 0; j < 50; j++) {
        expect(unit[r * 50 + j] === 0).toBe(raw[r * 50 + j] === 0);
        q += unit[r * 50 + j] ** 2;
      }
      if (q === 0) zeroRows++;
      else expect(Math.abs(Math.sqrt(q) - 1)).toBeLessThan(1e-6);
    }
    // with p = 0.05 over 50 features, about 8 % of samples are all zero: they stay zero
    expect(zeroRows).toBeGreaterThan(20);
    expect(() => new SparseFeatures({ ...config, unitNorm: 'yes' as unknown as boolean })).toThrow(/unitNorm/);
  });

  it('FiniteDataset replicas: consecutive instances share one dataset; full batches return the whole set every step', () => {
    const source = new SparseFeatures({ instances: 2, features: 6, sparsity: 0.5, seed: 1 });
    const direct = new FiniteDataset(new SparseFeatures({ instances: 2, features: 6, sparsity: 0.5, seed: 1 }), 10);
    const d = new FiniteDataset(source, 10, { replicas: 3 });
    expect(d.instances).toBe(6);
    const per = 60;
    for (let i = 0; i < 6; i++) expect(Array.from(d.data.subarray(i * per, (i + 1) * per))).toEqual(Array.from(direct.data.subarray(Math.floor(i / 3) * per, (Math.floor(i / 3) + 1) * per)));
    const a = Array.from(d.sample(10).data);
    expect(Array.from(d.sample(10).data)).toEqual(a);
    expect(a).toEqual(Array.from(d.data));
    // batches smaller than the set walk through it and wrap around
    const small = new FiniteDataset(new SparseFeatures({ instances: 1, features: 6, sparsity: 0.5, seed: 1 }), 10);
    small.sample(7);
    expect(Array.from(small.sample(7).data)).toEqual([...small.data.subarray(42, 60), ...small.data.subarray(0, 24)]);
    expect(() => new FiniteDataset(source, 10, { replicas: 0 })).toThrow(/replicas/);
  });
});

describe('geometric gaps by table lookup', () => {
  /** The sampler's loops written out with the logarithm: what the table must reproduce exactly. */
  function reference(seed: number, stream: number, q: number, len: number, signed: boolean): Float32Array {
    const rng = new Rng(seed, stream);
    const data = new Float32Array(len);
    let pos = -1;
    if (q < 0.6) {
      const logq = Math.log1p(-q);
      for (;;) {
        pos += 1 + Math.floor(Math.log(1 - rng.float()) / logq);
        if (pos >= len) break;
        const u = rng.float();
        data[pos] = signed ? 2 * u - 1 : u;
      }
    } else {
      rng.fillFloats(data, 0, len, signed);
      const logz = Math.log(q);
      for (;;) {
        pos += 1 + Math.floor(Math.log(1 - rng.float()) / logz);
        if (pos >= len) break;
        data[pos] = 0;
      }
    }
    // the next two draws show the generator's state
    return Float32Array.from([...data, rng.float(), rng.float()]);
  }

  it('SparseFeatures draws exactly the values of the logarithm formula, and leaves the generator in the same state', () => {
    const n = 37;
    const B = 300;
    for (const q of [0.001, 0.01, 0.05, 0.3, 0.59, 0.6, 0.8, 0.99]) {
      for (const signed of [false, true]) {
        const source = new SparseFeatures({ instances: 1, features: n, featureProbability: q, signed, seed: 7 });
        const got = Array.from(source.sample(B).data);
        // instance 0 draws from stream 1; its generator's next draws continue where the formula's would
        const rng = (source as unknown as { rngs: Rng[] }).rngs[0];
        got.push(Math.fround(rng.float()), Math.fround(rng.float()));
        expect(got, `q = ${q}, signed ${signed}`).toEqual(Array.from(reference(7, 1, q, B * n, signed)));
      }
    }
  });

  it('gapTable gives the formula for every threshold and its neighbours; very sparse data falls back to the formula', () => {
    for (const logBase of [Math.log1p(-0.05), Math.log(0.7)]) {
      const t = gapTable(logBase)!;
      const g = (r: number) => Math.floor(Math.log(1 - r * 2.3283064365386963e-10) / logBase);
      for (let k = 1; k < t.thresholds.length; k++) {
        expect(g(t.thresholds[k])).toBeGreaterThanOrEqual(k);
        // (far in the tail a step of the draw can skip a gap: thresholds may repeat)
        expect(g(t.thresholds[k] - 1)).toBeLessThan(k);
      }
      expect(gapTable(logBase)).toBe(t);
    }
    expect(gapTable(Math.log1p(-0.0001))).toBeNull();
  });
});
