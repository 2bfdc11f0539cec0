import { Rng } from '@tms/data';
import { describe, expect, it } from 'vitest';
import { featureRecovery, principalAxes, trainSparseAutoencoder } from '../src/index.js';

/** k unit directions in `dim` dimensions, seeded. */
function directions(k: number, dim: number, rng: Rng): number[][] {
  return Array.from({ length: k }, () => {
    const v = Array.from({ length: dim }, () => rng.normal());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

describe('sparse autoencoder', () => {
  it('recovers more sparse directions than dimensions from their mixtures', () => {
    const rng = new Rng(3);
    const dim = 4;
    // eight directions in four dimensions, no two closer than |cos| 0.6
    const truth: number[][] = [];
    while (truth.length < 8) {
      const [u] = directions(1, dim, rng);
      if (truth.every((t) => Math.abs(t.reduce((a, x, j) => a + x * u[j], 0)) < 0.6)) truth.push(u);
    }
    const data = new Rng(4);
    // each sample: every direction active with probability 0.03, coefficient uniform [0, 1]
    const sample = (B: number, out: Float32Array) => {
      out.fill(0, 0, B * dim);
      for (let s = 0; s < B; s++) {
        for (const t of truth) {
          if (data.float() < 0.03) {
            const a = data.float();
            for (let j = 0; j < dim; j++) out[s * dim + j] += a * t[j];
          }
        }
      }
    };
    const sae = trainSparseAutoencoder(sample, { inputDim: dim, dictionarySize: 32, steps: 2500, seed: 1 });
    expect(sae.steps).toBe(2500);
    expect(sae.decoder).toHaveLength(32);
    for (const row of sae.decoder) expect(Math.hypot(...row)).toBeCloseTo(1, 6);
    const rec = featureRecovery(truth, sae.decoder);
    expect(rec.recovered).toBeGreaterThanOrEqual(7);
    expect(rec.mmcs).toBeGreaterThan(0.95);
    // the loss fell
    expect(sae.history.at(-1)!.reconstruction).toBeLessThan(sae.history[0].reconstruction);
    // four orthogonal axes match at most a few of eight directions
    const acts = new Float32Array(20_000 * dim);
    sample(20_000, acts);
    const pca = featureRecovery(truth, principalAxes(acts, dim), { signed: false });
    expect(pca.recovered).toBeLessThanOrEqual(2);
    expect(pca.mmcs).toBeLessThan(rec.mmcs - 0.1);
  });

  it('re-initialises latents that never fire, unless turned off', () => {
    // inputs only along +x: latents initialised pointing away never fire
    const sample = (B: number, out: Float32Array) => {
      for (let s = 0; s < B; s++) {
        out[2 * s] = (s % 7) / 7 + 0.1;
        out[2 * s + 1] = 0;
      }
    };
    const on = trainSparseAutoencoder(sample, { inputDim: 2, dictionarySize: 8, steps: 300, batchSize: 64, resampleEvery: 50, seed: 2 });
    const off = trainSparseAutoencoder(sample, { inputDim: 2, dictionarySize: 8, steps: 300, batchSize: 64, resampleEvery: 0, seed: 2 });
    expect(on.resampled).toBeGreaterThan(0);
    expect(off.resampled).toBe(0);
    // resampled latents point at what was left unexplained: along ±x
    const alongX = on.decoder.filter((r) => Math.abs(r[0]) > 0.99).length;
    expect(alongX).toBeGreaterThan(off.decoder.filter((r) => Math.abs(r[0]) > 0.99).length);
  });

  it('validates its options, naming the field', () => {
    const noop = () => {};
    expect(() => trainSparseAutoencoder(noop, { inputDim: 0, dictionarySize: 4 })).toThrow(/inputDim/);
    expect(() => trainSparseAutoencoder(noop, { inputDim: 2, dictionarySize: 4, l1: -1 })).toThrow(/l1/);
    expect(() => trainSparseAutoencoder(noop, { inputDim: 2, dictionarySize: 4, lr: 0 })).toThrow(/lr/);
  });

  it('stops when aborted and returns what it has', () => {
    const controller = new AbortController();
    let calls = 0;
    const sae = trainSparseAutoencoder(
      (B, out) => {
        if (++calls === 5) controller.abort();
        out.fill(0.5, 0, B * 2);
      },
      { inputDim: 2, dictionarySize: 3, steps: 100, signal: controller.signal },
    );
    expect(sae.steps).toBe(5);
  });
});

describe('featureRecovery and principalAxes', () => {
  it('matches directions by cosine, signed or not', () => {
    const truth = [
      [1, 0],
      [0, 2],
      [0, 0],
    ];
    const cands = [
      [0.6, 0.8],
      [0, -1],
      [3, 0.1],
    ];
    const signed = featureRecovery(truth, cands);
    expect(signed.match).toEqual([2, 0, -1]);
    expect(signed.maxCosine[0]).toBeCloseTo(3 / Math.hypot(3, 0.1), 10);
    expect(signed.maxCosine[1]).toBeCloseTo(0.8, 10);
    expect(signed.maxCosine[2]).toBe(0);
    expect(signed.recovered).toBe(1);
    const unsigned = featureRecovery(truth, cands, { signed: false });
    expect(unsigned.match[1]).toBe(1);
    expect(unsigned.recovered).toBe(2);
    expect(unsigned.mmcs).toBeCloseTo((3 / Math.hypot(3, 0.1) + 1) / 3, 10);
  });

  it('principal axes of stretched data point along the stretch', () => {
    const rng = new Rng(9);
    const c = Math.SQRT1_2;
    const acts = new Float32Array(2 * 5000);
    for (let s = 0; s < 5000; s++) {
      const a = 3 * rng.normal();
      const b = 0.5 * rng.normal();
      acts[2 * s] = c * a - c * b;
      acts[2 * s + 1] = c * a + c * b;
    }
    const [first, second] = principalAxes(acts, 2);
    expect(Math.abs(first[0] * c + first[1] * c)).toBeGreaterThan(0.999);
    expect(Math.abs(second[0] * c - second[1] * c)).toBeGreaterThan(0.999);
  });
});

describe('sparse autoencoder kernels', () => {
  /** Mixtures of 6 fixed directions in 3 dimensions, seeded. */
  function mixtures(seed: number) {
    const rng = new Rng(seed);
    const truth = directions(6, 3, new Rng(11));
    return (B: number, out: Float32Array) => {
      out.fill(0, 0, B * 3);
      for (let s = 0; s < B; s++) for (const t of truth) if (rng.float() < 0.1) {
        const a = rng.float();
        for (let j = 0; j < 3; j++) out[s * 3 + j] += a * t[j];
      }
    };
  }

  it('WebAssembly SIMD and JS train the same autoencoder (float32 rounding apart), resampling included', () => {
    const opts = { inputDim: 3, dictionarySize: 18, steps: 400, batchSize: 128, resampleEvery: 100, logEvery: 50, seed: 5 };
    const wasm = trainSparseAutoencoder(mixtures(1), { ...opts, kernel: 'wasm' });
    const js = trainSparseAutoencoder(mixtures(1), { ...opts, kernel: 'js' });
    expect(wasm.resampled).toBe(js.resampled);
    wasm.history.forEach((h, i) => {
      expect(h.reconstruction).toBeCloseTo(js.history[i].reconstruction, 4);
      expect(h.l1).toBeCloseTo(js.history[i].l1, 4);
    });
    wasm.decoder.forEach((row, k) => row.forEach((v, j) => expect(v).toBeCloseTo(js.decoder[k][j], 3)));
    // and a dictionary size that is not a multiple of 4 (padding lanes) trains the same way
    const odd = { ...opts, dictionarySize: 7, resampleEvery: 0 };
    const a = trainSparseAutoencoder(mixtures(2), { ...odd, kernel: 'wasm' });
    const b = trainSparseAutoencoder(mixtures(2), { ...odd, kernel: 'js' });
    expect(a.history.at(-1)!.reconstruction).toBeCloseTo(b.history.at(-1)!.reconstruction, 4);
    expect(a.encoderBias).toHaveLength(7);
    // inputs only along +x leave latents dead: both kernels resample the same ones
    const alongX = (B: number, out: Float32Array) => {
      for (let s = 0; s < B; s++) {
        out[2 * s] = (s % 7) / 7 + 0.1;
        out[2 * s + 1] = 0;
      }
    };
    const x = { inputDim: 2, dictionarySize: 8, steps: 300, batchSize: 64, resampleEvery: 50, seed: 2 };
    const rw = trainSparseAutoencoder(alongX, { ...x, kernel: 'wasm' });
    const rj = trainSparseAutoencoder(alongX, { ...x, kernel: 'js' });
    expect(rw.resampled).toBeGreaterThan(0);
    expect(rw.resampled).toBe(rj.resampled);
    rw.decoder.forEach((row, k) => row.forEach((v, j) => expect(v).toBeCloseTo(rj.decoder[k][j], 3)));
    expect(() => trainSparseAutoencoder(() => {}, { inputDim: 2, dictionarySize: 4, kernel: 'gpu' as 'js' })).toThrow(/kernel/);
  });

  it('the committed wasm module is what asm/sae.ts compiles to', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, [new URL('../scripts/build-wasm.mjs', import.meta.url).pathname, '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/matches asm\/sae\.ts/);
  });
});
