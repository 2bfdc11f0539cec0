import { describe, expect, it } from 'vitest';
import {
  biasFreeLossSurface,
  biasFreeN2M1,
  expectedReluOutputLoss,
  linearOptimumLoss,
  logspace,
  nelderMead,
  paperPhaseN3M2,
  targetVariance,
  zeroOutputLoss,
  theoreticalPhaseN2M1,
  theoreticalPhaseN3M2,
} from '../src/index.js';

/** Small seeded generator (mulberry32) so the Monte Carlo check is reproducible. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('expectedReluOutputLoss', () => {
  it('matches the closed forms of the n = 2, m = 1 solutions', () => {
    for (const [r, p] of [
      [2, 0.3],
      [0.5, 0.05],
      [1, 1],
    ]) {
      const theory = theoreticalPhaseN2M1(r, p).losses;
      const I = [1, r];
      // the kink of the ReLU along x₁ = x₂ limits the quadrature: error falls with the panel count
      const coarse = Math.abs(expectedReluOutputLoss([[1], [-1]], [0, 0], I, p) / theory.superposition - 1);
      const fine = Math.abs(expectedReluOutputLoss([[1], [-1]], [0, 0], I, p, { panels: 24 }) / theory.superposition - 1);
      expect(coarse).toBeLessThan(2e-3);
      expect(fine).toBeLessThan(coarse / 4);
      expect(expectedReluOutputLoss([[1], [0]], [0, p / 2], I, p) / theory['not-represented']).toBeCloseTo(1, 6);
      expect(expectedReluOutputLoss([[0], [1]], [p / 2, 0], I, p) / theory.dedicated).toBeCloseTo(1, 6);
    }
  });

  it('agrees with a Monte Carlo estimate for arbitrary weights, biases and per-feature densities', () => {
    const W = [
      [0.9, -0.3],
      [-0.2, 1.1],
      [-0.7, -0.6],
    ];
    const b = [-0.05, 0.1, -0.2];
    const I = [1, 0.7, 0.49];
    const p = [0.8, 0.3, 0.5];
    const exact = expectedReluOutputLoss(W, b, I, p, { panels: 12 });
    const rand = mulberry32(7);
    const N = 400_000;
    let sum = 0;
    let sumSq = 0;
    const x = [0, 0, 0];
    for (let s = 0; s < N; s++) {
      for (let i = 0; i < 3; i++) x[i] = rand() < p[i] ? rand() : 0;
      let err = 0;
      for (let i = 0; i < 3; i++) {
        let h = b[i];
        for (let j = 0; j < 3; j++) h += (W[i][0] * W[j][0] + W[i][1] * W[j][1]) * x[j];
        const d = x[i] - Math.max(0, h);
        err += I[i] * d * d;
      }
      sum += err;
      sumSq += err * err;
    }
    const mean = sum / N;
    const se = Math.sqrt((sumSq / N - mean * mean) / N);
    expect(Math.abs(exact - mean)).toBeLessThan(4 * se);
    expect(se / mean).toBeLessThan(0.01);
  });

  it('refuses too many features', () => {
    const W = Array.from({ length: 6 }, () => [1]);
    expect(() => expectedReluOutputLoss(W, new Array(6).fill(0), new Array(6).fill(1), 0.5)).toThrow(/at most 5/);
  });
});

describe('nelderMead', () => {
  it('finds the minimum of a shifted quadratic bowl and of the Rosenbrock function', () => {
    const bowl = nelderMead((x) => (x[0] - 1) ** 2 + 3 * (x[1] + 2) ** 2 + (x[2] - 0.5) ** 2, [0, 0, 0], { iterations: 2000 });
    expect(bowl.x[0]).toBeCloseTo(1, 4);
    expect(bowl.x[1]).toBeCloseTo(-2, 4);
    expect(bowl.x[2]).toBeCloseTo(0.5, 4);
    const rosen = nelderMead((x) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2, [-1.2, 1], { iterations: 5000, tolerance: 1e-16 });
    expect(rosen.x[0]).toBeCloseTo(1, 3);
    expect(rosen.x[1]).toBeCloseTo(1, 3);
  });
});

describe('theoreticalPhaseN3M2', () => {
  it('has the three regions: dense drops the weaker feature, sparse puts the extra one in superposition unless it is important', () => {
    expect(theoreticalPhaseN3M2(0.1, 1).phase).toBe('not-represented');
    expect(theoreticalPhaseN3M2(10, 1).phase).toBe('dedicated');
    expect(theoreticalPhaseN3M2(0.2, 0.01).phase).toBe('superposition');
    expect(theoreticalPhaseN3M2(0.5, 0.05).phase).toBe('superposition');
    // sparse and important: the two others share a dimension as an antipodal pair
    const important = theoreticalPhaseN3M2(5, 0.01);
    expect(important.phase).toBe('dedicated');
    const best = important.candidates.reduce((a, c) => (c.loss < a.loss ? c : a));
    expect(best.loss).toBeCloseTo((2 * 0.01 * 0.01) / 6, 6);
  });

  it('closed-form candidate losses equal the quadrature of their weights', () => {
    for (const [r, p] of [
      [0.3, 0.2],
      [3, 0.6],
    ]) {
      const t = theoreticalPhaseN3M2(r, p);
      expect(t.candidates.map((c) => c.name)).toEqual(['orthogonal', 'drop-one', 'pair-others', 'pair-extra', 'triangle']);
      for (const c of t.candidates) {
        expect(expectedReluOutputLoss(c.W, c.b, [1, 1, r], p, { panels: 10 }) / c.loss).toBeCloseTo(1, 3);
      }
      // the reported phase is the phase of the lowest-loss candidate
      const best = t.candidates.reduce((a, c) => (c.loss < a.loss ? c : a));
      expect(t.phase).toBe(best.phase);
      expect(t.losses[t.phase]).toBe(best.loss);
    }
  });

  it('the optimised triangle beats dropping a feature for three equally important dense features', () => {
    const t = theoreticalPhaseN3M2(1, 1);
    const tri = t.candidates.find((c) => c.name === 'triangle')!;
    const drop = t.candidates.find((c) => c.name === 'drop-one')!;
    expect(tri.loss).toBeLessThan(drop.loss);
    // all three features have non-zero norm and the biases are positive
    for (const w of tri.W) expect(Math.hypot(...w)).toBeGreaterThan(0.5);
    for (const v of tri.b) expect(v).toBeGreaterThan(0.2);
  });
});

describe("the paper's four n = 3, m = 2 closed forms", () => {
  it('give the dedicated phase for every r > 1, and agree with the quadrature of their weights', () => {
    for (const r of logspace(1.01, 100, 9)) for (const p of logspace(0.001, 1, 9)) expect(paperPhaseN3M2(r, p).phase, `r=${r}, p=${p}`).toBe('dedicated');
    // below r = 1: dropped when dense, in superposition when sparse (pair-extra p²(1 + r)/6 against r·V)
    expect(paperPhaseN3M2(0.5, 1).phase).toBe('not-represented');
    expect(paperPhaseN3M2(0.5, 0.05).phase).toBe('superposition');
    const { candidates } = paperPhaseN3M2(0.7, 0.2);
    expect(candidates.map((c) => c.name)).toEqual(['orthogonal', 'drop-one', 'pair-others', 'pair-extra']);
    for (const c of candidates) expect(expectedReluOutputLoss(c.W, c.b, [1, 1, 0.7], 0.2, { panels: 12 }), c.name).toBeCloseTo(c.loss, 5);
    // the extended diagram's candidates start from the same closed forms and are never worse
    const ext = theoreticalPhaseN3M2(0.7, 0.2);
    for (const ph of ['not-represented', 'dedicated', 'superposition'] as const) expect(ext.losses[ph]).toBeLessThanOrEqual(paperPhaseN3M2(0.7, 0.2).losses[ph] + 1e-9);
  });
});

describe('bias-free n = 2, m = 1 (Tom McGrath)', () => {
  it('dense, equally important features: the minimum is the confused w₁ = w₂ = 1/√2, loss 1/12 against 1/3', () => {
    const best = biasFreeN2M1(1, 1);
    expect(best.phase).toBe('confused');
    for (const w of best.W) expect(Math.abs(w - Math.SQRT1_2)).toBeLessThan(0.005);
    // the top principal direction of E[xxᵀ] = [[1/3, 1/4], [1/4, 1/3]]: loss 2/3 − 7/12
    expect(best.loss).toBeCloseTo(1 / 12, 6);
    expect(expectedReluOutputLoss([[1], [0]], [0, 0], [1, 1], 1)).toBeCloseTo(1 / 3, 6);
    expect(expectedReluOutputLoss([[1], [-1]], [0, 0], [1, 1], 1, { panels: 24 })).toBeCloseTo(1 / 3, 4);
  });

  it('sparse features: an antipodal pair; a far more important extra feature: dedicated; a far less important one: dropped', () => {
    const sparse = biasFreeN2M1(1, 0.01);
    expect(sparse.phase).toBe('superposition');
    expect(sparse.W[0]).toBeCloseTo(1, 1);
    expect(sparse.W[1]).toBeCloseTo(-1, 1);
    expect(biasFreeN2M1(10, 1).phase).toBe('dedicated');
    expect(biasFreeN2M1(0.1, 1).phase).toBe('not-represented');
    // W and −W are one model: w₁ ≥ 0 is returned
    expect(biasFreeN2M1(1, 0.2).W[0]).toBeGreaterThan(0);
  });

  it('the loss surface is symmetric under w → −w and lowest near the minimum found', () => {
    const { w, loss } = biasFreeLossSurface(1, 1, { points: 21 });
    expect(w[0]).toBe(-1.5);
    expect(w[20]).toBe(1.5);
    for (let i = 0; i < 21; i++) for (let j = 0; j < 21; j++) expect(loss[i][j]).toBeCloseTo(loss[20 - i][20 - j], 12);
    const flat = loss.flat();
    const k = flat.indexOf(Math.min(...flat));
    const [a, c] = [w[Math.floor(k / 21)], w[k % 21]];
    expect(Math.abs(Math.abs(a) - Math.SQRT1_2)).toBeLessThan(0.1);
    expect(Math.sign(a)).toBe(Math.sign(c));
  });
});

describe('linearOptimumLoss', () => {
  /** Monte Carlo loss of y′ = A x + c with A keeping the features `keep` and c the other features' means. */
  function sampledLoss(p: number[], I: number[], keep: Set<number>, signed: boolean, abs: boolean, samples: number, zero = false): number {
    const rand = mulberry32(7);
    const n = I.length;
    const mean = p.map((pi) => (abs || !signed ? pi / 2 : 0));
    let total = 0;
    for (let s = 0; s < samples; s++) {
      for (let i = 0; i < n; i++) {
        const on = rand() < p[i];
        const u = rand();
        const x = on ? (signed ? 2 * u - 1 : u) : 0;
        const y = abs ? Math.abs(x) : x;
        const pred = zero ? 0 : keep.has(i) && !(abs && signed) ? y : mean[i];
        total += I[i] * (y - pred) ** 2;
      }
    }
    return total / (samples * n);
  }

  it('equals the sampled loss of the best rank-m map, unsigned, signed and |x|', () => {
    const I = [1, 0.9, 0.5, 0.3, 0.2, 0.1];
    const p = [0.05, 1, 0.5, 0.2, 1, 0.3];
    // the kept features are the m of largest I·Var: here 1 (0.9·1/12) and 2 (0.5·(1/6 − 1/16))
    const expected = linearOptimumLoss(p, I, 2);
    expect(sampledLoss(p, I, new Set([1, 2]), false, false, 200_000) / expected).toBeCloseTo(1, 1);
    // any other pair of kept features does worse
    expect(sampledLoss(p, I, new Set([0, 1]), false, false, 50_000)).toBeGreaterThan(expected * 1.05);
    const signed = linearOptimumLoss(p, I, 2, { signed: true });
    expect(sampledLoss(p, I, new Set([1, 2]), true, false, 200_000) / signed).toBeCloseTo(1, 1);
    const abs = linearOptimumLoss(p, I, 2, { signed: true, target: 'abs' });
    expect(sampledLoss(p, I, new Set(), true, true, 200_000) / abs).toBeCloseTo(1, 1);
    expect(linearOptimumLoss(p, I, 5, { signed: true, target: 'abs' })).toBe(abs);
  });

  it('sums targetVariance over the dropped features; the variance of a constant-free target', () => {
    expect(targetVariance(1)).toBeCloseTo(1 / 12, 15);
    expect(targetVariance(0.3, { signed: true })).toBeCloseTo(0.1, 15);
    expect(targetVariance(0.3, { signed: true, target: 'abs' })).toBeCloseTo(0.1 - 0.15 ** 2, 15);
    expect(linearOptimumLoss([1, 0.5], [2, 1], 1)).toBeCloseTo(targetVariance(0.5) / 2, 15);
  });

  it('zeroOutputLoss is the mean of Iᵢ·pᵢ/3, as sampled, for x and for |x| of signed inputs', () => {
    const I = [1, 0.9, 0.5, 0.3, 0.2, 0.1];
    const p = [0.05, 1, 0.5, 0.2, 1, 0.3];
    expect(zeroOutputLoss(1, [1, 1, 1])).toBeCloseTo(1 / 3, 15);
    expect(zeroOutputLoss(p, I)).toBeCloseTo(p.reduce((a, v, i) => a + I[i] * v, 0) / 3 / p.length, 15);
    // the all-zero output, sampled
    for (const [signed, abs] of [[false, false], [true, true]] as const) {
      expect(sampledLoss(p, I, new Set(), signed, abs, 200_000, true) / zeroOutputLoss(p, I)).toBeCloseTo(1, 1);
    }
    expect(() => zeroOutputLoss([1, 1], [1, 1, 1])).toThrow(/density/);
  });

  it('gives the closed form for uniform features and is zero when every feature fits', () => {
    const I = Array.from({ length: 20 }, (_, i) => 0.7 ** i);
    const lost = I.slice(5).reduce((a, v) => a + v, 0);
    expect(linearOptimumLoss(1, I, 5)).toBeCloseTo((lost * (1 / 3 - 1 / 4)) / 20, 12);
    expect(linearOptimumLoss(0.1, I, 20)).toBe(0);
    expect(() => linearOptimumLoss([0.1, 0.2], I, 5)).toThrow(/density/);
  });
});
