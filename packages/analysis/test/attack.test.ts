import { describe, expect, it } from 'vitest';
import { featureAttack, fromNested } from '../src/index.js';

describe('featureAttack (the paper analytic L2 attack)', () => {
  const imp = [1, 0.5];
  // two features, each non-zero in turn, plus an all-zero input that is skipped
  const inputs = [0.8, 0, 0, 0.6, 0, 0];

  it('costs I·ε² without superposition: the attack only moves its own feature', () => {
    const W = fromNested([
      [
        [1, 0],
        [0, 1],
      ],
    ]);
    const [a] = featureAttack(W, [0, 0], imp, inputs, 0.1);
    expect(a.samples).toBe(2);
    expect(a.epsilon).toBeCloseTo(0.1 * 0.7, 12);
    expect(a.cleanLoss).toBeCloseTo(0, 12);
    // each input picks the attack on the most important feature: (ε·1)² with importance 1
    expect(a.chosen).toEqual([2, 0]);
    expect(a.attackedLoss).toBeCloseTo(a.epsilon ** 2, 12);
    expect(a.vulnerability).toBeCloseTo(1, 10);
  });

  it('an antipodal pair leaks the attack into the partner feature', () => {
    // n = 2, m = 1, W = (1, −1): WᵀW = [[1, −1], [−1, 1]]
    const W = fromNested([[[1], [-1]]]);
    const [a] = featureAttack(W, [0, 0], imp, inputs, 0.1);
    const eps = a.epsilon;
    // attack along (WᵀW)₁/‖·‖ = (1, −1)/√2 shifts the pre-activations by ε(2, −2)/√2 = ε√2 (1, −1)
    // input (0.8, 0): feature 0 output 0.8 + ε√2 → error 2ε²; feature 1 stays clipped at 0
    // input (0, 0.6): attack 2 is worse: feature 1 output 0.6 + ε√2 → 2·0.5·ε² = ε²; attack 1 clips it: (0.6 − max(0, 0.6 − ε√2))²·0.5
    const second = Math.max(0.5 * 2 * eps * eps, 0.5 * (Math.SQRT2 * eps) ** 2);
    expect(a.attackedLoss).toBeCloseTo((2 * eps * eps + second) / 2, 12);
    expect(a.vulnerability).toBeGreaterThan(1);
  });

  it('checks shapes', () => {
    const W = fromNested([[[1], [0]]]);
    expect(() => featureAttack(W, [0], imp, inputs)).toThrow(/invalid shape of "b": expected 2 values, got 1 values/);
    expect(() => featureAttack(W, [0, 0], [1, 2, 3], inputs)).toThrow(/"importance": expected 2 values \(per feature\)/);
    expect(() => featureAttack(W, [0, 0], imp, [1, 2, 3])).toThrow(/"inputs": expected \[1, batch, 2\]/);
  });
});
