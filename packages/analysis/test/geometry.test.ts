import { describe, expect, it } from 'vitest';
import {
  adversarialVulnerability,
  classifyFeature,
  detectPolytopes,
  fromNested,
  logspace,
  neuronPolysemanticity,
  spectralNorm,
  symmetricEigen,
  theoreticalPhaseN2M1,
} from '../src/index.js';

const polygon = (k: number) => Array.from({ length: k }, (_, i) => [Math.cos((2 * Math.PI * i) / k), Math.sin((2 * Math.PI * i) / k)]);
const tetrahedron = () =>
  [
    [1, 1, 1],
    [1, -1, -1],
    [-1, 1, -1],
    [-1, -1, 1],
  ].map((v) => v.map((x) => x / Math.sqrt(3)));
const squareAntiprism = () => {
  const h = Math.sqrt(1 / 3);
  const r = Math.sqrt(2 / 3);
  return Array.from({ length: 8 }, (_, i) => {
    const a = (Math.PI / 4) * i;
    return [r * Math.cos(a), r * Math.sin(a), i % 2 ? h : -h];
  });
};
/** Embed vectors into `m` dims starting at `offset`. */
const embed = (vs: number[][], m: number, offset: number) =>
  vs.map((v) => Array.from({ length: m }, (_, j) => (j >= offset && j < offset + v.length ? v[j - offset] : 0)));

describe('linear algebra', () => {
  it('eigen-decomposes a symmetric matrix', () => {
    const { values, vectors } = symmetricEigen([
      [2, 1],
      [1, 2],
    ]);
    expect(values[0]).toBeCloseTo(3, 10);
    expect(values[1]).toBeCloseTo(1, 10);
    expect(Math.abs(vectors[0][0])).toBeCloseTo(Math.SQRT1_2, 10);
  });

  it('spectral norm of a diagonal and a rank-1 matrix', () => {
    expect(spectralNorm([[3, 0], [0, -4]])).toBeCloseTo(4, 10);
    expect(spectralNorm([[1, 1], [1, 1]])).toBeCloseTo(2, 10);
  });
});

describe('polytope detection', () => {
  it('names each uniform polytope', () => {
    const cases: [number[][], number, string][] = [
      [embed([[1]], 1, 0), 1, 'dedicated dimension'],
      [[[1], [-1]], 1, 'digon'],
      [polygon(3), 2, 'triangle'],
      [tetrahedron(), 3, 'tetrahedron'],
      [polygon(5), 2, 'pentagon'],
      [squareAntiprism(), 3, 'square antiprism'],
    ];
    for (const [vs, d, name] of cases) {
      const [groups] = detectPolytopes(fromNested([vs]));
      expect(groups).toHaveLength(1);
      expect(groups[0].name).toBe(name);
      expect(groups[0].dimension).toBe(d);
      expect(groups[0].uniform).toBe(true);
      expect(groups[0].meanDimensionality).toBeCloseTo(d / vs.length, 6);
    }
  });

  it('splits a tegum product into its factors and ignores unrepresented features', () => {
    const m = 4;
    const W = [...embed(polygon(5), m, 0), ...embed([[1], [-1]], m, 2), ...embed([[1]], m, 3), [0.01, 0.02, 0, 0]];
    const [groups] = detectPolytopes(fromNested([W]));
    expect(groups.map((g) => [g.name, g.features])).toEqual([
      ['pentagon', [0, 1, 2, 3, 4]],
      ['digon', [5, 6]],
      ['dedicated dimension', [7]],
    ]);
  });

  it('a group of more features than dimensions: its dimension from the m × m form equals the one from its Gram matrix', () => {
    // 3 planes of 7 features each in 6 dimensions, the planes mixed by small tilts: one group of 21
    let seed = 7;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
    const m = 6;
    const W = [0, 2, 4].flatMap((d) => embed(polygon(7), m, d).map((v) => v.map((x) => x + 0.3 * rnd())));
    const [groups] = detectPolytopes(fromNested([W]));
    expect(groups).toHaveLength(1);
    expect(groups[0].features).toHaveLength(21);
    const U = W.map((v) => v.map((x) => x / Math.hypot(...v)));
    const gram = U.map((a) => U.map((b) => a.reduce((t, x, h) => t + x * b[h], 0)));
    const want = symmetricEigen(gram).values.filter((e) => e > 0.05 * 21).length;
    expect(want).toBeGreaterThan(1);
    expect(groups[0].dimension).toBe(want);
    expect(groups[0].name).toBe(`21 features in ${want}D`);
  });

  it('flags a non-uniform group', () => {
    // three features in 2D, not evenly spread
    const [groups] = detectPolytopes(fromNested([[[1, 0], [0.6, 0.8], [-1, 0.1]]]));
    expect(groups[0].dimension).toBe(2);
    expect(groups[0].uniform).toBe(false);
  });
});

describe('phases', () => {
  it('theory: dense favours the more important feature, sparse favours superposition', () => {
    expect(theoreticalPhaseN2M1(0.2, 1).phase).toBe('not-represented');
    expect(theoreticalPhaseN2M1(5, 1).phase).toBe('dedicated');
    expect(theoreticalPhaseN2M1(1, 0.01).phase).toBe('superposition');
    expect(theoreticalPhaseN2M1(0.2, 0.02).phase).toBe('superposition');
    // boundary between not-represented and superposition is r = 2p/(4 − 5p)
    const p = 0.3;
    const r = (2 * p) / (4 - 5 * p);
    expect(theoreticalPhaseN2M1(r * 0.95, p).phase).toBe('not-represented');
    expect(theoreticalPhaseN2M1(r * 1.05, p).phase).toBe('superposition');
  });

  it('classifies trained-looking weights', () => {
    const W = fromNested([
      [[1], [0.01]],
      [[0.01], [1]],
      [[1], [-1]],
    ]);
    expect(classifyFeature(W, 1)).toEqual(['not-represented', 'dedicated', 'superposition']);
  });

  it('logspace', () => {
    const v = logspace(0.1, 10, 3);
    expect(v[0]).toBeCloseTo(0.1);
    expect(v[1]).toBeCloseTo(1);
    expect(v[2]).toBeCloseTo(10);
  });
});

describe('neurons and vulnerability', () => {
  it('monosemantic and polysemantic neurons', () => {
    // instance 0: neuron 0 reads feature 0 only; neuron 1 reads features 1 and 2 equally; neuron 2 dead
    const W = fromNested([
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, -1, 0],
      ],
    ]);
    const [stats] = neuronPolysemanticity(W);
    expect(stats[0]).toMatchObject({ dominantFeature: 0, maxShare: 1, effectiveFeatures: 1 });
    expect(stats[1].maxShare).toBeCloseTo(0.5);
    expect(stats[1].effectiveFeatures).toBeCloseTo(2);
    expect(stats[2].dominantFeature).toBe(-1);
  });

  it('superposition raises the optimal attack gain above that of orthogonal features', () => {
    const ortho = fromNested([[[1, 0], [0, 1]]]);
    const [o] = adversarialVulnerability(ortho, [0, 0]);
    expect(o.mean).toBeCloseTo(1, 10);
    const pent = fromNested([polygon(5)]);
    const [p] = adversarialVulnerability(pent, [0, 0, 0, 0, 0]);
    expect(p.mean).toBeGreaterThan(1.3);
    expect(() => adversarialVulnerability(pent, [0])).toThrow(/invalid shape of "b": expected 5 values, got 1 values/);
  });
});

describe('sticky plateaus', async () => {
  const { stickyPlateaus } = await import('../src/index.js');
  it('finds the levels a feature rests on, ignoring passing through and unlearned snapshots', () => {
    const D = [0.1, 0.5, 0.5, 0.5, 0.45, 0.41, 0.4, 0.4, 0.33, 0.3, 0.375, 0.375, 0.375];
    const norms = D.map((_, t) => (t === 0 ? 0.1 : 1));
    expect(stickyPlateaus(D, norms)).toEqual([0.5, 0.4, 0.375]);
    expect(stickyPlateaus(D, norms, 0.02, 4)).toEqual([]);
  });

  it('stickyRuns gives each rest with its first and last snapshot', async () => {
    const { stickyRuns } = await import('../src/index.js');
    const D = [0.1, 0.5, 0.5, 0.5, 0.45, 0.41, 0.4, 0.4, 0.33, 0.3, 0.375, 0.375, 0.375];
    const norms = D.map((_, t) => (t === 0 ? 0.1 : 1));
    expect(stickyRuns(D, norms)).toEqual([
      { level: 0.5, first: 1, last: 3 },
      { level: 0.4, first: 5, last: 7 },
      { level: 0.375, first: 10, last: 12 },
    ]);
    expect(() => stickyRuns(D, [1])).toThrow(/"norms"/);
  });
});

describe('energy jumps and the loss', async () => {
  const { energyJumps } = await import('../src/index.js');
  // feature 0 rests on 1/3, then jumps to 1/2 between steps 40 and 80; feature 1 drifts from 3/8 to 2/5 (a gap under 0.1)
  const steps = [10, 20, 40, 80, 160, 320, 640];
  const D = [
    [1 / 3, 0.375],
    [1 / 3, 0.375],
    [1 / 3, 0.375],
    [1 / 2, 0.4],
    [1 / 2, 0.4],
    [1 / 2, 0.4],
    [1 / 2, 0.4],
  ];
  const norms = D.map(() => [1, 1]);
  it('pairs a jump with how fast the loss fell during it, against the run average (per log step)', () => {
    // the loss halves between 40 and 80 and falls by 10 % per doubling elsewhere
    const loss = [1, 0.9, 0.81, 0.405, 0.3645, 0.328, 0.2952];
    const [j, ...rest] = energyJumps(steps, D, norms, loss);
    expect(rest).toEqual([]);
    expect(j).toMatchObject({ feature: 0, from: 1 / 3, to: 1 / 2, leftAt: 40, arrivedAt: 80 });
    expect(j.lossDrop).toBeCloseTo(0.5, 10);
    // over the run: log(1 / 0.2952) / log(64) = 0.2932 per log step; during the jump log 2 / log 2 = 1
    expect(j.dropRate).toBeCloseTo(1 / (Math.log(1 / 0.2952) / Math.log(64)), 3);
    expect(j.dropRate).toBeGreaterThan(3);
    // a jump while the loss does not move is not paired with a drop
    const flat = [1, 0.5, 0.3, 0.3, 0.2, 0.15, 0.1];
    expect(energyJumps(steps, D, norms, flat)[0].dropRate).toBe(0);
    // a smaller gap counts when asked
    expect(energyJumps(steps, D, norms, loss, 0.02).map((x) => x.feature)).toEqual([0, 1]);
    expect(() => energyJumps(steps, D, norms, [1])).toThrow(/"loss"/);
  });
});

describe('detectPolytopes: only centred groups are named polytopes', () => {
  it('two features pointing the same way are not a digon; an antipodal pair is', () => {
    const same = fromNested([[[1, 0], [0.9, 0], [0, 1]]]);
    const [g] = detectPolytopes(same);
    const pair = g.find((x) => x.features.length === 2)!;
    expect(pair.name).toBe('2 features in 1D');
    expect(pair.uniform).toBe(false);
    const anti = fromNested([[[1, 0], [-1, 0], [0, 1]]]);
    const [h] = detectPolytopes(anti);
    expect(h.find((x) => x.features.length === 2)).toMatchObject({ name: 'digon', uniform: true });
  });
});
