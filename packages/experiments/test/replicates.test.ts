import { describe, expect, it } from 'vitest';
import { autodiffEngine, type Engine } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { DivergenceError, ReplicateBatcher, createRunContext, experiments, resolveConfig, trainToyModels, trainToyModelsTogether, type Experiment, type TrainToyOptions } from '../src/index.js';

const engines = [fusedEngine, autodiffEngine];

/** `value` without the timing fields (`seconds`), which differ from run to run. */
function untimed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untimed);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'seconds').map(([k, v]) => [k, untimed(v)]));
  return value;
}

/** Each seed's run alone, and the runs of all seeds at once through one batcher. */
async function aloneAndTogether(exp: Experiment<object>, input: object, seeds: number[]) {
  const alone = [];
  for (const seed of seeds) alone.push(await exp.run(resolveConfig(exp, { ...input, seed } as never, 'quick'), createRunContext({ engines })));
  const batcher = new ReplicateBatcher(seeds.length);
  const together = await Promise.all(
    seeds.map(async (seed, k) => {
      try {
        return await exp.run(resolveConfig(exp, { ...input, seed } as never, 'quick'), { ...createRunContext({ engines }), trainToy: batcher.hook(k) });
      } finally {
        batcher.done(k);
      }
    }),
  );
  return { alone, together, stats: batcher.stats };
}

describe('replicate seeds trained as extra instances of one batch', () => {
  it.each([
    // fused engine; finite training sets with best-of-k replicas; feature sets; autodiff (activation L1)
    ['intro', { steps: 600 }],
    ['double-descent', { steps: 300, warmupSteps: 30, sizes: [4, 64], gridHidden: [] }],
    ['nonuniform', { steps: 300, collapseDensities: [0.1], restarts: 4, pairRestarts: 4 }],
    ['l1', { steps: 300, lambdas: [0, 0.01] }],
    ['computation', { steps: 300 }],
    // the notebook's init counts one instance per sparsity, not the seeds' joint batch
    ['computation', { steps: 300, init: 'notebook' }],
  ] as const)('%s: every seed gets the results it gets alone, from joint batches', async (name, input) => {
    const { alone, together, stats } = await aloneAndTogether(experiments[name] as unknown as Experiment<object>, input, [0, 1, 7]);
    expect(stats.batches).toBeGreaterThan(0);
    expect(stats.calls).toBe(3 * stats.batches);
    for (let k = 0; k < 3; k++) {
      expect(untimed(together[k].results), `seed ${k}`).toEqual(untimed(alone[k].results));
      expect(untimed(together[k].tensors), `seed ${k} tensors`).toEqual(untimed(alone[k].tensors));
    }
    // the seeds differ
    expect(untimed(alone[0].tensors)).not.toEqual(untimed(alone[1].tensors));
  });

  it('a run that fails or finishes early does not hold the others; batches stay within maxBytes', async () => {
    const exp = experiments.intro;
    const batcher = new ReplicateBatcher(3, { maxBytes: 1 });
    const runs = [0, 1, 2].map(async (seed, k) => {
      try {
        if (k === 1) throw new Error('failed before training');
        return await exp.run(resolveConfig(exp, { seed, steps: 200 }, 'quick'), { ...createRunContext({ engines }), trainToy: batcher.hook(k) });
      } finally {
        batcher.done(k);
      }
    });
    const settled = await Promise.allSettled(runs);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // one part per batch under a 1-byte limit: nothing joined
    expect(batcher.stats.batches).toBe(0);
    expect(() => batcher.hook(3)).toThrow(/run 3 is not one of 0 … 2/);
  });

  it('a diverging part is rejected with its own DivergenceError; the other parts are kept', async () => {
    // an engine that reports a non-finite loss for instance 4 (of part 1, instances 3 … 5)
    const poisoned: Engine = {
      name: 'poisoned',
      unsupported: (plan) => fusedEngine.unsupported(plan),
      async start(plan) {
        const session = await fusedEngine.start(plan);
        return {
          ...session,
          run: async (from, to, signal) => {
            const loss = await session.run(from, to, signal);
            if (loss.length === 6) loss[4] = NaN;
            return loss;
          },
          sync: () => session.sync(),
          dispose: () => session.dispose(),
        };
      },
    };
    const base: TrainToyOptions = {
      kind: 'relu-output',
      instances: 3,
      features: 6,
      hidden: 2,
      sparsity: [[0.5], [0.7], [0.9]].map(([s]) => new Array(6).fill(s)),
      importance: 1,
      steps: 50,
      batchSize: 32,
      optimizer: { name: 'adam', lr: 1e-2 },
      seed: 3,
      logEvery: 10,
      heldOutSamples: 1024,
    };
    const ctx = createRunContext({ engines: [poisoned] });
    const [a, b] = await trainToyModelsTogether([base, { ...base, seed: 4 }], ctx, 'joint');
    expect(b.status).toBe('rejected');
    expect((b as PromiseRejectedResult).reason).toBeInstanceOf(DivergenceError);
    expect((b as PromiseRejectedResult).reason.diverged[0].instance).toBe(1);
    expect(a.status).toBe('fulfilled');
    const alone = await trainToyModels(base, createRunContext({ engines: [fusedEngine] }), 'alone');
    const kept = (a as PromiseFulfilledResult<Awaited<ReturnType<typeof trainToyModels>>>).value;
    expect(Array.from(kept.params.W.data)).toEqual(Array.from(alone.params.W.data));
    expect(kept.heldOut).toEqual(alone.heldOut);
    // only calls that differ in their seed join
    await expect(trainToyModelsTogether([base, { ...base, steps: 40, seed: 4 }], ctx, 'joint')).rejects.toThrow(/differ in their seed only/);
  });
});
