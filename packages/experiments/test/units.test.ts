import { describe, expect, it } from 'vitest';
import {
  assignShards,
  createRunContext,
  experiments,
  joinSweeps,
  resolveConfig,
  toyModelCost,
  trainUnits,
  type RunContext,
  type SweepResult,
  type TrainingUnit,
  type UnitsOptions,
} from '../src/index.js';

describe('assignShards: balanced by cost, the same everywhere', () => {
  it('gives the costliest units first to the least-loaded shard', () => {
    // LPT: 9 → s0, 7 → s1, 5 → s2, 4 → s2 (5 < 7), 3 → s1 (7 < 9) ... loads 9+1, 7+3, 5+4
    const owner = assignShards([9, 7, 5, 4, 3, 1], 3);
    expect(owner).toEqual([0, 1, 2, 2, 1, 0]);
    const load = [0, 0, 0];
    [9, 7, 5, 4, 3, 1].forEach((c, i) => (load[owner[i]] += c));
    expect(load).toEqual([10, 10, 9]);
  });

  it('spreads equal (and zero) costs round-robin, by count', () => {
    expect(assignShards([1, 1, 1, 1, 1, 1, 1], 3)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(assignShards([0, 0, 0, 0], 2)).toEqual([0, 1, 0, 1]);
  });

  it('keeps every unit on shard 0 of 1, and leaves shards empty when there are more shards than units', () => {
    expect(assignShards([5, 3], 1)).toEqual([0, 0]);
    expect(assignShards([5, 3], 4)).toEqual([0, 1]);
  });

  it('refuses a shard count that is not a positive integer', () => {
    expect(() => assignShards([1], 0)).toThrow(/shards is 0/);
    expect(() => assignShards([1], 1.5)).toThrow(/integer ≥ 1/);
  });
});

describe('trainUnits', () => {
  const unit = (key: string, value: number, log: string[]): TrainingUnit<number> => ({
    key,
    cost: value,
    async compute() {
      log.push(key);
      return value;
    },
  });

  it('falls back to one checkpoint per unit, in order, where the context has no units()', async () => {
    const log: string[] = [];
    const ctx = createRunContext();
    expect(await trainUnits(ctx, [unit('a', 1, log), unit('b', 2, log)])).toEqual([1, 2]);
    // the in-memory context keeps them: a second call trains nothing
    expect(await trainUnits(ctx, [unit('a', 1, log), unit('b', 2, log)])).toEqual([1, 2]);
    expect(log).toEqual(['a', 'b']);
  });

  it('refuses a key given twice and a cost that is not a finite number ≥ 0', async () => {
    const ctx = createRunContext();
    await expect(trainUnits(ctx, [unit('a', 1, []), unit('a', 2, [])])).rejects.toThrow(/"a" is given twice/);
    await expect(trainUnits(ctx, [{ key: 'x', cost: NaN, compute: async () => 0 }])).rejects.toThrow(/cost NaN/);
  });

  it("toyModelCost counts 6 multiply-adds per weight, sample and step, and each step's update of every parameter", () => {
    expect(toyModelCost({ instances: 2, steps: 10, batchSize: 4, features: 5, hidden: 3 })).toBe(6 * 2 * 10 * (4 * 5 * 3 + 15 * 5 * 4));
    // large batches: the samples dominate; a 5-point full batch of n = 1,000, m = 2: the update does
    const big = { instances: 1, steps: 1, batchSize: 1024, features: 100, hidden: 20 };
    expect(toyModelCost(big) / (6 * 1024 * 100 * 20)).toBeLessThan(1.02);
    expect(toyModelCost({ instances: 1, steps: 1, batchSize: 5, features: 1000, hidden: 2 }) / (6 * 5 * 1000 * 2)).toBeGreaterThan(4);
  });
});

describe('joinSweeps', () => {
  const sweep = (w: number, loss: number): SweepResult => ({
    params: { W: [[[w]]], b: [[w]] },
    finalLoss: [loss],
    history: [{ step: 0, loss: [loss * 2] }, { step: 10, loss: [loss] }],
    seconds: 1.5,
  });
  it('concatenates instances, history records per step, and sums seconds', () => {
    const j = joinSweeps([sweep(1, 0.1), sweep(2, 0.2)]);
    expect(j.params).toEqual({ W: [[[1]], [[2]]], b: [[1], [2]] });
    expect(j.finalLoss).toEqual([0.1, 0.2]);
    expect(j.history).toEqual([{ step: 0, loss: [0.2, 0.4] }, { step: 10, loss: [0.1, 0.2] }]);
    expect(j.seconds).toBe(3);
  });
});

/** Stops `train` at its split units, recording every call: what a shard sees before it trains. */
class Stop extends Error {}
function recordingContext(calls: { keys: string[]; costs: number[]; prerequisite: boolean }[]): RunContext {
  return {
    progress: { reset() {}, update() {}, log() {} },
    async checkpoint(key) {
      throw new Error(`checkpoint("${key}") outside trainUnits`);
    },
    async units<T>(units: readonly TrainingUnit<T>[], options?: UnitsOptions): Promise<T[]> {
      calls.push({ keys: units.map((u) => u.key), costs: units.map((u) => u.cost), prerequisite: Boolean(options?.prerequisite) });
      if (options?.prerequisite) return Promise.all(units.map((u) => u.compute()));
      throw new Stop();
    },
  };
}

describe('every experiment can be sharded: its units are declared in one split call', () => {
  // what each experiment's quick variant splits into (sae trains its sweep first, on every shard)
  const expected: Record<string, { prerequisites: string[][]; split: string[] }> = {
    intro: { prerequisites: [], split: ['model-linear', 'model-relu-output'] },
    'intro-2d': { prerequisites: [], split: ['relu-output'] },
    phase: { prerequisites: [], split: ['cells-0', 'cells-25'] },
    geometry: { prerequisites: [], split: ['chunk-0'] },
    nonuniform: { prerequisites: [], split: ['denser-feature', 'correlated', 'anticorrelated', 'pair-collapse', 'local-bases'] },
    dynamics: { prerequisites: [], split: ['model'] },
    adversarial: { prerequisites: [], split: ['relu-output', 'adversarial-training'] },
    computation: { prerequisites: [], split: ['abs'] },
    privileged: { prerequisites: [], split: ['relu-hidden'] },
    sae: { prerequisites: [['relu-output']], split: ['sae-0', 'sae-1', 'sae-2', 'sae-3'] },
    l1: { prerequisites: [], split: ['relu-output'] },
    'double-descent': { prerequisites: [], split: ['T-4', 'T-16', 'T-64', 'T-256', 'T-1024', 'T-4-m1', 'T-16-m1', 'T-64-m1', 'T-256-m1', 'T-1024-m1'] },
  };

  it('covers the whole catalogue', () => {
    expect(Object.keys(expected).sort()).toEqual(Object.keys(experiments).sort());
  });

  for (const [name, want] of Object.entries(expected)) {
    it(`${name}: ${want.prerequisites.length ? 'prerequisites, then ' : ''}${want.split.length} split unit${want.split.length > 1 ? 's' : ''} with positive costs`, async () => {
      const exp = experiments[name as keyof typeof experiments];
      const calls: { keys: string[]; costs: number[]; prerequisite: boolean }[] = [];
      const config = resolveConfig(exp as never, (name === 'sae' ? { steps: 50, logEvery: 10 } : {}) as never, 'quick');
      await expect(exp.train(config as never, recordingContext(calls))).rejects.toBeInstanceOf(Stop);
      expect(calls.filter((c) => c.prerequisite).map((c) => c.keys)).toEqual(want.prerequisites);
      const last = calls.at(-1)!;
      expect(last.prerequisite).toBe(false);
      expect(last.keys).toEqual(want.split);
      for (const c of calls) for (const cost of c.costs) expect(cost).toBeGreaterThan(0);
    });
  }
});
