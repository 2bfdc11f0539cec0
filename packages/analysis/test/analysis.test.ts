import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@tms/data';
import {
  absolutePairs,
  outputSides,
  asymmetricMotifs,
  displayNeurons,
  dimensionsPerFeature,
  featureDimensionality,
  featureNorms,
  fromNested,
  hiddenActivations,
  hiddenLayerErrors,
  reconstructionErrors,
  reconstructionLoss,
  dataDimensionality,
  instanceMatrix,
  interference,
  representedCount,
  superposition,
} from '../src/index.js';

const polygon = (k: number, r = 1) =>
  Array.from({ length: k }, (_, i) => [r * Math.cos((2 * Math.PI * i) / k), r * Math.sin((2 * Math.PI * i) / k)]);

describe('metrics on hand-built geometries', () => {
  // instance 0: 2 orthogonal features + 1 unused; instance 1: an antipodal pair + 1 unused;
  const W = fromNested([
    [
      [1, 0],
      [0, 1],
      [0, 0],
    ],
    [
      [1, 0],
      [-1, 0],
      [0, 0.1],
    ],
  ]);

  it('feature norms and WᵀW', () => {
    expect(featureNorms(W)[0]).toEqual([1, 1, 0]);
    expect(featureNorms(W)[1][2]).toBeCloseTo(0.1);
    const G = interference(W);
    expect(G[0]).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
    expect(G[1][0][1]).toBe(-1);
  });

  it('superposition is 0 for orthogonal features and 1 for an antipodal pair', () => {
    const s = superposition(W);
    expect(s[0]).toEqual([0, 0, 0]);
    expect(s[1][0]).toBeCloseTo(1);
    expect(s[1][1]).toBeCloseTo(1);
    expect(s[1][2]).toBeCloseTo(0);
  });

  it('feature dimensionality: 1 dedicated, 1/2 antipodal, 0 unused', () => {
    const D = featureDimensionality(W);
    expect(D[0]).toEqual([1, 1, 0]);
    expect(D[1][0]).toBeCloseTo(0.5);
    expect(D[1][1]).toBeCloseTo(0.5);
    expect(D[1][2]).toBeCloseTo(1);
  });

  it('represented count uses the 0.5 norm threshold', () => {
    expect(representedCount(W)).toEqual([2, 2]);
    expect(representedCount(W, 0.05)).toEqual([2, 3]);
  });

  it('a pentagon has dimensionality 2/5 per feature and 2/5 dimensions per feature', () => {
    const P = fromNested([polygon(5)]);
    featureDimensionality(P)[0].forEach((d) => expect(d).toBeCloseTo(2 / 5, 10));
    expect(dimensionsPerFeature(P)[0]).toBeCloseTo(2 / 5, 10);
    // each feature's interference: Σ_{j≠i} cos² = 5/2 − 1
    superposition(P)[0].forEach((s) => expect(s).toBeCloseTo(1.5, 10));
  });

  it('a triangle has dimensionality 2/3 and a square (two antipodal pairs) 1/2', () => {
    featureDimensionality(fromNested([polygon(3)]))[0].forEach((d) => expect(d).toBeCloseTo(2 / 3, 10));
    featureDimensionality(fromNested([polygon(4)]))[0].forEach((d) => expect(d).toBeCloseTo(1 / 2, 10));
  });

  it('extracts one instance and checks shapes', () => {
    expect(instanceMatrix(W, 1)).toEqual([
      [1, 0],
      [-1, 0],
      [0, 0.1],
    ]);
    expect(() => instanceMatrix(W, 2)).toThrow(/"instance": got 2; allowed: an integer in \[0, 1\]/);
    expect(() => instanceMatrix(W, 2)).toThrow(ConfigError);
    expect(() => featureNorms({ data: [1, 2, 3], shape: [1, 2, 2] })).toThrow(/"W\.data": expected 4 values, got 3 values/);
    expect(() => featureNorms({ data: [1, 2], shape: [2] })).toThrow(ShapeError);
    expect(() => featureNorms({ data: [1, 2], shape: [2] })).toThrow(/"W": expected shape \[instances, features, hidden\], got \[2\]/);
  });
});

describe('plain-array forward passes', () => {
  it('hiddenActivations and reconstructionLoss match a direct evaluation', () => {
    const W = [
      [1, 0],
      [0, 1],
      [0.6, 0.8],
    ];
    const x = [1, 0, 0.5, 0, 0, 0];
    const h = hiddenActivations(W, x);
    expect(Array.from(h)).toEqual([1 + 0.3, 0.4, 0, 0].map((v) => Math.fround(v)));
    // x' = ReLU(WᵀW x + b) for x = [1, 0, 0.5]: pre_j = W_j · h + b_j
    const b = [-0.1, 0, 0.2];
    const pre = W.map((w, j) => w[0] * 1.3 + w[1] * 0.4 + b[j]);
    const imp = [1, 0.5, 0.25];
    const want0 = (imp[0] * (1 - Math.max(0, pre[0])) ** 2 + imp[1] * (0 - Math.max(0, pre[1])) ** 2 + imp[2] * (0.5 - Math.max(0, pre[2])) ** 2) / 3;
    // the all-zero sample reconstructs ReLU(b)
    const want1 = (imp[0] * 0 + imp[1] * 0 + imp[2] * 0.2 ** 2) / 3;
    const [loss] = reconstructionLoss(fromNested([W]), b, x, imp);
    expect(loss).toBeCloseTo((want0 + want1) / 2, 12);
    expect(() => reconstructionLoss(fromNested([W]), [0], x, imp)).toThrow(ShapeError);
  });

  it('reconstructionErrors: the mean squared error, ReLU or identity, over the first samples[k] inputs', () => {
    const W = [
      [1, 0],
      [0, 1],
      [0.6, 0.8],
    ];
    const b = [-0.1, 0, 0.2];
    // two instances with the same weights; instance 1 counts only its first input
    const Wb = fromNested([W, W]);
    const x = [1, 0, 0.5, 0, 0, 0, 1, 0, 0.5, 0, 0, 0];
    const pre0 = W.map((w, j) => w[0] * 1.3 + w[1] * 0.4 + b[j]);
    const relu = (v: number) => Math.max(0, v);
    const target = [1, 0, 0.5];
    const errRelu = target.map((t, j) => ((t - relu(pre0[j])) ** 2 + (0 - relu(b[j])) ** 2) / 2);
    const errLin = target.map((t, j) => ((t - pre0[j]) ** 2 + b[j] ** 2) / 2);
    const got = reconstructionErrors(Wb, [...b, ...b], x, { samples: [2, 1] });
    for (let j = 0; j < 3; j++) {
      expect(got[0][j]).toBeCloseTo(errRelu[j], 12);
      expect(got[1][j]).toBeCloseTo((target[j] - relu(pre0[j])) ** 2, 12);
    }
    const lin = reconstructionErrors(Wb, [...b, ...b], x, { activation: 'identity' });
    for (let j = 0; j < 3; j++) expect(lin[0][j]).toBeCloseTo(errLin[j], 12);
    expect(() => reconstructionErrors(Wb, [...b, ...b], x, { activation: 'tanh' as never })).toThrow(/"activation": .*one of "relu", "identity"/);
    expect(() => reconstructionErrors(Wb, [...b, ...b], x, { samples: [1] })).toThrow(/"samples"/);
  });
});

describe('hiddenLayerErrors', () => {
  const relu = (v: number) => Math.max(0, v);
  it('the |x| circuit ReLU(x) + ReLU(−x) has zero error against |x| and the error of |x| against x', () => {
    // n = 1, m = 2: W₁ = [1, −1], W₂ = [[1], [1]], b = 0
    const W1 = fromNested([[[1, -1]]]);
    const W2 = fromNested([[[1], [1]]]);
    const x = [0.7, -0.5, 0];
    expect(hiddenLayerErrors(W1, W2, [0], x, { target: 'abs' })[0][0]).toBe(0);
    // against x itself only the negative input errs: (−0.5 − 0.5)² = 1, mean over 3 inputs
    expect(hiddenLayerErrors(W1, W2, [0], x)[0][0]).toBeCloseTo(1 / 3, 12);
  });

  it('matches a direct forward pass, tied (W₂ = W₁ᵀ) and untied, over the first samples[k] inputs', () => {
    let state = 7;
    const rand = () => ((state = (state * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const [I, n, m, B] = [2, 4, 3, 5];
    const w1 = Array.from({ length: I }, () => Array.from({ length: n }, () => Array.from({ length: m }, rand)));
    const w2 = Array.from({ length: I }, () => Array.from({ length: m }, () => Array.from({ length: n }, rand)));
    const b = Array.from({ length: I * n }, () => rand() * 0.3);
    const x = Array.from({ length: I * B * n }, (_, i) => (i % 3 === 0 ? 0 : rand()));
    const direct = (k: number, count: number, tied: boolean, abs: boolean) =>
      Array.from({ length: n }, (_, j) => {
        let sum = 0;
        for (let s = 0; s < count; s++) {
          const xs = x.slice((k * B + s) * n, (k * B + s + 1) * n);
          const h = Array.from({ length: m }, (_, c) => relu(xs.reduce((a, v, i) => a + v * w1[k][i][c], 0)));
          const out = relu(h.reduce((a, v, c) => a + v * (tied ? w1[k][j][c] : w2[k][c][j]), b[k * n + j]));
          sum += ((abs ? Math.abs(xs[j]) : xs[j]) - out) ** 2;
        }
        return sum / count;
      });
    const tied = hiddenLayerErrors(fromNested(w1), null, b, x);
    const untied = hiddenLayerErrors(fromNested(w1), fromNested(w2), b, x, { target: 'abs', samples: [5, 2] });
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < I; k++) expect(tied[k][j]).toBeCloseTo(direct(k, B, true, false)[j], 12);
      expect(untied[0][j]).toBeCloseTo(direct(0, B, false, true)[j], 12);
      expect(untied[1][j]).toBeCloseTo(direct(1, 2, false, true)[j], 12);
    }
    expect(() => hiddenLayerErrors(fromNested(w1), fromNested(w1), b, x)).toThrow(/"W2": expected \[2, 3, 4\]/);
    expect(() => hiddenLayerErrors(fromNested(w1), null, b, x, { target: 'square' as never })).toThrow(/"target": .*one of "identity", "abs"/);
    // errors name the argument at fault, W1 or W2
    expect(() => hiddenLayerErrors({ data: [1, 2], shape: [2] }, null, b, x)).toThrow(/"W1"/);
    expect(() => hiddenLayerErrors(fromNested(w1), { data: [1, 2], shape: [2] }, b, x)).toThrow(/"W2"/);
  });
});

describe('dataDimensionality', () => {
  it('gives m/T to the hidden vectors of T points at the vertices of a regular T-gon, 1 to orthogonal points and 0 to an ignored point', () => {
    // 5 features, each its own point, embedded at the vertices of a pentagon in 2 dimensions
    const pentagon = Array.from({ length: 5 }, (_, i) => [Math.cos((2 * Math.PI * i) / 5), Math.sin((2 * Math.PI * i) / 5)]);
    const x = Array.from({ length: 25 }, (_, t) => (t % 6 === 0 ? 1 : 0)); // sample s has feature s
    const [D] = dataDimensionality(fromNested([pentagon]), x);
    for (const v of D) expect(v).toBeCloseTo(2 / 5, 12);
    // two orthogonal points and one the model maps to 0
    const W = [[1, 0], [0, 2], [0, 0]];
    const [D2] = dataDimensionality(fromNested([W]), [1, 0, 0, 0, 0.5, 0, 0, 0, 1]);
    expect(D2).toEqual([1, 1, 0]);
    expect(() => dataDimensionality(fromNested([W]), [1, 0])).toThrow(ShapeError);
  });
});

describe('neuron views and circuits of the computation model', () => {
  it('displayNeurons scales each neuron to a largest input weight of ±1, W₂ inversely, and sorts by top feature', () => {
    // 3 features, 3 neurons: neuron 0 reads feature 2, neuron 1 feature 0, neuron 2 is dead
    const W1 = [
      [0.1, 4, 0],
      [0, -1, 0],
      [-0.5, 0, 0],
    ];
    const W2 = [
      [1, 2, 3],
      [0.5, 0, 0],
      [9, 9, 9],
    ];
    const v = displayNeurons(W1, W2);
    expect(v.order).toEqual([1, 0, 2]);
    expect(v.W1.map((row) => row[0])).toEqual([1, -0.25, 0]);
    expect(v.W1.map((row) => row[1])).toEqual([0.2, 0, -1]);
    expect(v.W2![0]).toEqual([2, 0, 0]);
    // every path W₁ᵢ·W₂ⱼ through a neuron is unchanged
    expect(v.W1[2][1] * v.W2![1][0]).toBeCloseTo(W1[2][0] * W2[0][0], 12);
    expect(v.W2![2]).toEqual([9, 9, 9]);
  });

  it('absolutePairs finds features read by ReLU(x) and ReLU(−x) neurons that both write to them', () => {
    // feature 0: neurons 0 (+) and 1 (−), both writing +; feature 1: neurons 2 (+) and 3 (+): same sign, no circuit
    const W1 = [
      [1, -1, 0, 0.01],
      [0.01, 0, 1, 1],
    ];
    const W2 = [
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 1],
    ];
    expect(absolutePairs(W1, W2)).toEqual([0]);
    // a negative output weight breaks the circuit
    expect(absolutePairs(W1, [[1, 0], [-1, 0], [0, 1], [0, 1]])).toEqual([]);
  });

  it('outputSides counts the signs of a lone feature that reach its output, as the forward pass does', () => {
    expect(outputSides([[1, -1], [0.5, 0]], [[1, 0], [1, -1]], [0, 0])).toEqual([2, 0]);
    // a positive bias keeps an output alive at small |x| whatever the weights; a negative one needs |W₁|·W₂ to beat it
    expect(outputSides([[1, -1], [0.5, 0]], [[1, 0], [1, -1]], [0.1, 0.1])).toEqual([2, 2]);
    expect(outputSides([[1, -1]], [[2], [0.5]], [-1])).toEqual([1]);
    // against y′ = ReLU(W₂ ReLU(W₁ x) + b) at lone inputs x = v·eᵢ, v in [−1, 1], on random weights
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const [n, m] = [12, 5];
    const W1 = Array.from({ length: n }, () => Array.from({ length: m }, rand));
    const W2 = Array.from({ length: m }, () => Array.from({ length: n }, rand));
    const b = Array.from({ length: n }, () => 0.3 * rand());
    const out = (i: number, v: number) => b[i] + W1[i].reduce((a, w, c) => a + Math.max(0, w * v) * W2[c][i], 0);
    const grid = Array.from({ length: 200 }, (_, k) => (k + 1) / 200);
    const brute = W1.map((_, i) => Number(grid.some((v) => out(i, v) > 0)) + Number(grid.some((v) => out(i, -v) > 0)));
    expect(outputSides(W1, W2, b)).toEqual(brute);
    expect(new Set(brute).size).toBe(3);
  });

  it("asymmetricMotifs finds the paper's motif (inputs 2 and −½, outputs ½ and 2) and its inhibitor", () => {
    // neuron 0 holds features 0 (strong) and 1 (weak); neuron 1 reads feature 0 and writes −1 to feature 1
    const W1 = [
      [2, 1],
      [-0.5, 0],
      [0, 0.05],
    ];
    const W2 = [
      [0.5, 2, 0],
      [0, -1, 0],
    ];
    expect(asymmetricMotifs(W1, W2)).toEqual([{ neuron: 0, strong: 0, weak: 1, inputRatio: 4, outputRatio: 4, inhibitor: 1 }]);
    // outputs not reciprocal (equal): no motif
    expect(asymmetricMotifs(W1, [[1, 1, 0], [0, -1, 0]])).toEqual([]);
  });
});
