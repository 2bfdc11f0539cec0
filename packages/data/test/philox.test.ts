import { describe, expect, it } from 'vitest';
import { ConfigError, SparseFeatures, philox4x32 } from '../src/index.js';

describe('philox4x32', () => {
  it('matches the Random123 known-answer vectors', () => {
    const o = new Uint32Array(4);
    expect([...philox4x32(0, 0, 0, 0, 0, 0, o)]).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    const f = 0xffffffff;
    expect([...philox4x32(f, f, f, f, f, f, o)]).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    expect([...philox4x32(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, o)]).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });
});

describe("SparseFeatures({ generator: 'philox' })", () => {
  const config = { instances: 3, features: 9, sparsity: [0, 0.5, 0.99].map((s) => new Array<number>(9).fill(s)), seed: 7, generator: 'philox' as const };

  it('draws each batch as a function of (seed, instance, draw): instance ranges and skipped draws give the same values', () => {
    const whole = new SparseFeatures(config);
    const a = whole.sample(64).data.slice();
    const b = whole.sample(64).data.slice();
    expect(whole.draws).toBe(2);
    expect(a).not.toEqual(b);
    // instance 2 alone, as a worker's range would build it
    const tail = new SparseFeatures({ ...config, instances: 1, sparsity: 0.99, firstInstance: 2 });
    tail.skip(1);
    expect(tail.sample(64).data).toEqual(b.subarray(2 * 64 * 9));
  });

  it('has the requested feature probability and values uniform in [0, 1) (or [−1, 1) when signed)', () => {
    const B = 20_000;
    for (const signed of [false, true]) {
      const d = new SparseFeatures({ ...config, signed }).sample(B).data;
      const per = B * 9;
      [1, 0.5, 0.01].forEach((p, i) => {
        const row = d.subarray(i * per, (i + 1) * per);
        const nz = row.filter((v) => v !== 0);
        expect(nz.length / per).toBeCloseTo(p, p === 1 ? 6 : 2);
        const mean = nz.reduce((s, v) => s + v, 0) / nz.length;
        expect(mean).toBeCloseTo(signed ? 0 : 0.5, 1);
        expect(nz.every((v) => v >= (signed ? -1 : 0) && v < 1)).toBe(true);
      });
    }
  });

  it('rejects feature sets and skipping on the xoshiro generator', () => {
    expect(() => new SparseFeatures({ ...config, sets: [{ features: [0, 1], mode: 'correlated' }] })).toThrow(ConfigError);
    expect(() => new SparseFeatures({ ...config, generator: 'xoshiro' }).skip(1)).toThrow(/philox/);
    expect(() => new SparseFeatures({ ...config, generator: 'mt' as 'philox' })).toThrow(/generator/);
  });
});
