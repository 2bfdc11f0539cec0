import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError } from '@tms/data';
import { autodiffEngine } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { createRunContext, experiments, getExperiment, resolveConfig, type ConfigOf, type IntroModelResult } from '../src/index.js';

const src = new URL('../src/', import.meta.url).pathname;

describe('the catalogue runs anywhere', () => {
  it('imports nothing from Node: no node: modules and no Node-only packages', () => {
    const nodeOnly = /from\s+['"](node:|fs['"]|path['"]|os['"]|worker_threads|child_process|@tms\/cli|@tms\/backend-node|@tms\/engine-fused\/node)/;
    for (const f of readdirSync(src).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(src, f), 'utf8');
      expect(text, f).not.toMatch(nodeOnly);
      expect(text, f).not.toMatch(/\bprocess\.|\bBuffer\b|\b__dirname\b/);
    }
  });

  it('runs an experiment from code with in-memory checkpoints (intro, dense: the top 5 features)', async () => {
    const exp = experiments.intro;
    const config = resolveConfig(exp, { models: ['relu-output'], sparsities: [0], steps: 1500 }, 'quick');
    const out = await exp.run(config, createRunContext({ engines: [fusedEngine, autodiffEngine] }));
    const [relu] = out.results.models as IntroModelResult[];
    expect(relu.instances[0].metrics.representedCount).toBe(5);
    expect(relu.instances[0].metrics.featureNorms.flatMap((v, i) => (v > 0.5 ? [i] : []))).toEqual([0, 1, 2, 3, 4]);
    expect(Object.keys(out.figures)).toContain('intro');
  });
});

describe('typed configs and cross-field checks', () => {
  it('types each config by experiment name', () => {
    expectTypeOf<ConfigOf<'phase'>['restarts']>().toEqualTypeOf<number>();
    expectTypeOf(experiments.geometry.defaults.chunkSize).toEqualTypeOf<number>();
    // @ts-expect-error: no such experiment
    void experiments.phaze;
    expect(getExperiment('phaze')).toBeUndefined();
    expect(getExperiment('intro-2d')).toBe(experiments['intro-2d']);
  });

  it('resolveConfig runs check() after the fields: phase needs fewer hidden dimensions than features', () => {
    expect(() => resolveConfig(experiments.phase, { hidden: 3 })).toThrow(ConfigError);
    expect(() => resolveConfig(experiments.phase, { hidden: 2 })).toThrow(/"hidden": got 2; allowed: an integer below features \(2\)/);
    expect(() => resolveConfig(experiments.phase, { features: 3, hidden: 2 })).not.toThrow();
    expect(() => resolveConfig(experiments.phase, { importanceMin: 3, importanceMax: 2 })).toThrow(/"importanceMin"/);
    for (const [name, exp] of Object.entries(experiments)) {
      for (const v of Object.keys(exp.variants)) expect(() => resolveConfig(exp as never, {}, v), `${name} ${v}`).not.toThrow();
    }
  });
});

describe('staged experiments: train → analyze → figures', () => {
  it('every experiment declares the three stages, and run chains them', () => {
    for (const exp of Object.values(experiments)) {
      expect(typeof exp.train, exp.name).toBe('function');
      expect(typeof exp.analyze, exp.name).toBe('function');
      expect(typeof exp.figures, exp.name).toBe('function');
    }
  });

  it('analyze is pure, and figures redraw from results read back from JSON (intro: linear keeps the top 5, ReLU packs more when sparse)', async () => {
    const exp = experiments.intro;
    const config = resolveConfig(exp, { sparsities: [0, 0.99] }, 'quick');
    const logs: string[] = [];
    const ctx = createRunContext({ engines: [fusedEngine, autodiffEngine], progress: { reset() {}, update() {}, log: (m) => logs.push(m) } });
    const trained = await exp.train(config, ctx);
    // weights and histories only: what the checkpoints hold
    expect(trained.map((t) => t.kind)).toEqual(['linear', 'relu-output']);
    expect(trained[0].W).toHaveLength(2);
    const a = exp.analyze(config, trained);
    expect(exp.analyze(config, structuredClone(trained))).toEqual(a);
    const head = exp.headline!(a.results);
    expect(head.linearDenseRepresented).toBe(5);
    expect(head.linearSparsestRepresented).toBe(5);
    expect(head.reluSparsestRepresented).toBeGreaterThan(5);
    expect(Object.keys(a.tensors!).sort()).toEqual(['linear.W', 'linear.b', 'relu-output.W', 'relu-output.b']);
    // what the docs do with a results.json: draw its figures without training
    const fromFile = JSON.parse(JSON.stringify(a.results));
    expect(exp.figures(config, fromFile)).toEqual(exp.figures(config, a.results));
    // run = the three stages (in-memory checkpoints: train is not repeated)
    const out = await exp.run(config, ctx);
    expect(out.results).toEqual(a.results);
    expect(out.figures).toEqual(exp.figures(config, a.results));
    expect(logs.some((l) => /^linear: represented features per sparsity S=0: 5, S=0.99: 5/.test(l))).toBe(true);
  });
});

describe('the claims tms check evaluates', () => {
  it('every experiment has claims, with unique ids, and they fail on numbers that contradict the paper', async () => {
    const { CLAIMS, CLAIMS_VERSION, evaluateClaims } = await import('../src/index.js');
    expect(CLAIMS_VERSION).toBeGreaterThanOrEqual(1);
    for (const name of Object.keys(experiments)) expect(CLAIMS.some((c) => c.experiment === name), name).toBe(true);
    expect(new Set(CLAIMS.map((c) => c.id)).size).toBe(CLAIMS.length);
    const ok = evaluateClaims(
      'intro',
      { reluDenseRepresented: 5, reluSparsestRepresented: 14, linearDenseRepresented: 5, linearSparsestRepresented: 5, linearRatioToLinearMaxDeviation: 0.03, reluSparsestRatioToLinear: 0.2 },
      {},
    );
    expect(ok.map((r) => r.pass)).toEqual([true, true, true, true, true, true]);
    // a run without a linear model (or results from before held-out losses) skips those claims
    const bad = evaluateClaims('intro', { reluDenseRepresented: 7, reluSparsestRepresented: 6, reluSparsestRatioToLinear: 1.3 }, {});
    expect(bad.filter((r) => r.skipped).map((r) => r.id)).toEqual(['intro.linear-dense-top5', 'intro.linear-sparse-top5', 'intro.linear-at-optimum']);
    expect(bad.filter((r) => !r.pass && !r.skipped).map((r) => [r.id, r.value, r.expected])).toEqual([
      ['intro.relu-dense-top5', 7, '= 5'],
      ['intro.relu-sparse-superposition', 6, '≥ 10'],
      ['intro.relu-beats-linear', 1.3, '< 0.5'],
    ]);
    // missing numbers fail, never pass
    expect(evaluateClaims('geometry', {}, {}).every((r) => !r.pass && Number.isNaN(r.value))).toBe(true);
  });

  it('nonuniform: the unit-density pentagon must be regular (angles between neighbouring directions within 4° of 72°)', async () => {
    const { evaluateClaims } = await import('../src/index.js');
    const ring = (degrees: number[]) => degrees.map((d) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)]);
    const headline = (W: number[][]) =>
      experiments.nonuniform.headline!({ denserFeature: [{ densityFactor: 1, W, geometry: 'pentagon', geometryLoss: { pentagon: null, digons: null } }], correlated: { withinPairCosine: [0, 0] }, anticorrelated: { withinPairCosine: [-1, -1] }, pairCollapse: [] } as never);
    const regularOf = (h: Record<string, number>) => evaluateClaims('nonuniform', h, {}).find((r) => r.id === 'nonuniform.unit-density-regular')!;
    // a regular pentagon, rotated and listed out of order
    const regular = headline(ring([17, 161, 89, 305, 233]));
    expect(regular.unitDensityAngleDeviation).toBeCloseTo(0, 9);
    expect(regularOf(regular).pass).toBe(true);
    // five directions, but one 10° off its place: a pentagon by norms, not a regular one
    const bent = headline(ring([0, 72, 154, 216, 288]));
    expect(bent.unitDensityAngleDeviation).toBeCloseTo(10, 9);
    expect(regularOf(bent)).toMatchObject({ pass: false, value: bent.unitDensityAngleDeviation, expected: '< 4' });
    // results without the unit-density model skip it
    expect(regularOf({}).skipped).toBe(true);
  });
});

describe('summarizeSeeds', () => {
  it('gives min / median / max of each headline number and each claim’s pass count over seeds', async () => {
    const { spread, summarizeSeeds } = await import('../src/index.js');
    expect(spread([3, 1, NaN, 2])).toEqual({ min: 1, median: 2, max: 3 });
    expect(spread([4, 1, 2, 3])).toEqual({ min: 1, median: 2.5, max: 4 });
    expect(spread([NaN])).toEqual({ min: NaN, median: NaN, max: NaN });
    // intro headline numbers from three seeds' results (only the fields the headline reads)
    const model = (kind: string, dense: number, sparsest: number) => ({
      kind,
      instances: [{ metrics: { representedCount: dense } }, { metrics: { representedCount: sparsest } }],
    });
    const runs = [12, 9, 14].map((sparsest, k) => ({
      seed: 10 + k,
      config: experiments.intro.defaults,
      results: { models: [model('relu-output', 5, sparsest)], heldOut: {} },
    }));
    const s = summarizeSeeds(experiments.intro, runs as never);
    expect(s.seeds).toEqual([10, 11, 12]);
    expect(s.headline.reluSparsestRepresented).toEqual({ values: [12, 9, 14], min: 9, median: 12, max: 14 });
    const sparse = s.claims.find((c) => c.id === 'intro.relu-sparse-superposition')!;
    expect([sparse.passed, sparse.of, sparse.values]).toEqual([2, 3, [12, 9, 14]]);
    // no linear model: its claims apply to no seed
    expect(s.claims.find((c) => c.id === 'intro.linear-dense-top5')).toMatchObject({ passed: 0, of: 0 });
  });
});

describe('held-out evaluation of trained toy models', () => {
  it('measures on the samples asked for, has no linear optimum for correlated sets, and refuses a bad count', async () => {
    const { trainToyModels } = await import('../src/index.js');
    const { linearOptimumLoss } = await import('@tms/analysis');
    const ctx = createRunContext({ engines: [fusedEngine, autodiffEngine] });
    const base = { kind: 'relu-output' as const, instances: 2, features: 4, hidden: 2, sparsity: 0.5, importance: 1, steps: 50, batchSize: 64, optimizer: { name: 'adam' as const, lr: 1e-2 }, seed: 3, logEvery: 10 };
    const plain = await trainToyModels({ ...base, heldOutSamples: 2048 }, ctx, 't');
    expect(plain.heldOut!.samples).toEqual([2048, 2048]);
    expect(plain.heldOut!.linearOptimum).toEqual([linearOptimumLoss(0.5, [1, 1, 1, 1], 2), linearOptimumLoss(0.5, [1, 1, 1, 1], 2)].map((v) => Number(v.toPrecision(9))));
    // held-out, not the last training batch: close to the training loss after 50 steps, not equal
    expect(plain.heldOut!.loss[0] / plain.result.finalLoss[0]).toBeGreaterThan(0.7);
    expect(plain.heldOut!.loss[0] / plain.result.finalLoss[0]).toBeLessThan(1.3);
    const sets = await trainToyModels({ ...base, sets: [{ features: [0, 1], mode: 'correlated' }] }, ctx, 't');
    expect(sets.heldOut!.linearOptimum).toEqual([null, null]);
    expect(sets.heldOut!.samples).toEqual([16384, 16384]);
    expect((await trainToyModels({ ...base, heldOutSamples: 0 }, ctx, 't')).heldOut).toBeUndefined();
    await expect(trainToyModels({ ...base, heldOutSamples: -1 }, ctx, 't')).rejects.toThrow(/heldOutSamples/);
  });

  it('measures the restarts of a setting on the same samples, sixteen times as many (heldOutGroups)', async () => {
    const { trainToyModels, heldOutSampleCount } = await import('../src/index.js');
    const { sparsitySweepOptions } = await import('../src/common.js');
    const ctx = createRunContext({ engines: [fusedEngine, autodiffEngine] });
    // two sparsities, two restarts each: instances 0, 1 at S = 0.5 and 2, 3 at S = 0.9
    const config = resolveConfig(experiments.privileged, { features: 4, hidden: 2, sparsities: [0.5, 0.9], steps: 30, batchSize: 64, lr: 1e-2, seed: 3, logEvery: 10 });
    const options = sparsitySweepOptions(config, 'relu-hidden', 2);
    expect(options.heldOutGroups).toBe(2);
    const { heldOut } = await trainToyModels(options, ctx, 't');
    const count = heldOutSampleCount(4, 2, 0.1, true);
    expect(count).toBe(16 * heldOutSampleCount(4, 2, 0.1));
    expect(heldOut!.samples).toEqual([count, count, count, count]);
    // the target's moments depend on the samples alone: equal within a group, not across groups
    const square = heldOut!.targetSquare!;
    expect(square[1]).toEqual(square[0]);
    expect(square[3]).toEqual(square[2]);
    expect(square[2]).not.toEqual(square[0]);
    // the restarts of a setting are different models, so their losses on those samples differ
    expect(heldOut!.loss[1]).not.toBe(heldOut!.loss[0]);
    // without groups every instance draws its own samples
    const alone = await trainToyModels({ ...options, heldOutGroups: undefined }, ctx, 't');
    expect(alone.heldOut!.targetSquare![1]).not.toEqual(alone.heldOut!.targetSquare![0]);
    // a group must share its sparsity, and divide the instances
    await expect(trainToyModels({ ...options, heldOutGroups: 4 }, ctx, 't')).rejects.toThrow(/heldOutGroups.*instance 2 differs from 0/);
    await expect(trainToyModels({ ...options, heldOutGroups: 3 }, ctx, 't')).rejects.toThrow(/heldOutGroups/);
  });
});

describe('nonuniform: the restarts of every setting are compared on shared held-out samples', () => {
  it('pairs and pair collapse share samples per setting, and the pairs keep the lowest held-out loss, not the last batch', async () => {
    const ctx = createRunContext({ engines: [fusedEngine, autodiffEngine] });
    const exp = experiments.nonuniform;
    const config = resolveConfig(exp, { densityFactors: [1], collapseDensities: [0.1, 0.3], localBasisSparsity: 0, restarts: 3, steps: 40, batchSize: 64, lr: 1e-2, seed: 2 });
    const trained = (await exp.train(config, ctx)) as unknown as Record<'correlated' | 'anticorrelated' | 'collapse', { heldOut: { loss: number[]; targetSquare: number[][] }; finalLoss: number[] }>;
    const R = 3;
    for (const unit of ['correlated', 'anticorrelated', 'collapse'] as const) {
      const square = trained[unit].heldOut.targetSquare;
      for (let k = 0; k < square.length; k++) expect(square[k], `${unit} ${k}`).toEqual(square[k - (k % R)]);
    }
    expect(trained.collapse.heldOut.targetSquare[R]).not.toEqual(trained.collapse.heldOut.targetSquare[0]);
    const { results } = exp.analyze(config, trained as never);
    for (const mode of ['correlated', 'anticorrelated'] as const) {
      const { loss } = trained[mode].heldOut;
      const best = loss.indexOf(Math.min(...loss));
      expect((results[mode] as { loss: number }).loss, mode).toBe(trained[mode].finalLoss[best]);
    }
  });
});

describe('nonuniform: enough shared samples to pick the best restart', () => {
  it('three correlated pairs, seed 4, 1 − S = 0.03: keeps the side-by-side restart, 4.9 % below the one 65,536 samples picked', async () => {
    const ctx = createRunContext({ engines: [fusedEngine, autodiffEngine] });
    const exp = experiments.nonuniform;
    // the first two collapse densities of the defaults as they were (4 restarts: the same instances and streams as that full run), nothing else
    const config = resolveConfig(exp, { seed: 4, collapseDensities: [0.01, 0.03], densityFactors: [1], localBasisSparsity: 0, restarts: 4, pairRestarts: 1 });
    const { results } = await exp.run(config, ctx);
    const [, at03] = results.pairCollapse as { collapsedPairs: number; restartCollapsedPairs: number[] }[];
    // restart 2 keeps the pairs apart: on 2,000,000 fresh samples (numpy) 7.73e-4 against 8.10e-4 for restart 0,
    // which 65,536 shared samples picked (their 210 co-occurring pairs against 173 ± 15 expected hurt restart 2 most)
    expect(at03.restartCollapsedPairs).toEqual([1, 1, 0, 1]);
    expect(at03.collapsedPairs).toBe(0);
  });
});

describe('nonuniform: enough restarts for the pairs', () => {
  it('anticorrelated pairs, seed 3: its first 8 runs all pair features across the sets; of the default 16, the kept one is antipodal', async () => {
    const ctx = createRunContext({ engines: [fusedEngine, autodiffEngine] });
    const exp = experiments.nonuniform;
    // the defaults' pairs (16 runs each), one model for the rest
    const config = resolveConfig(exp, { seed: 3, densityFactors: [1], collapseDensities: [], localBasisSparsity: 0, restarts: 1 });
    expect(config.pairRestarts).toBe(16);
    const trained = (await exp.train(config, ctx)) as unknown as { anticorrelated: { heldOut: { loss: number[] }; params: { W: number[][][] } } };
    const { loss } = trained.anticorrelated.heldOut;
    expect(loss).toHaveLength(16);
    // antipodal within the pairs reconstructs exactly (they never co-occur); across the pairs costs about 4e-4
    const exact = loss.flatMap((v, k) => (v < 1e-6 ? [k] : []));
    expect(exact.length).toBeGreaterThan(0);
    expect(exact.every((k) => k >= 8)).toBe(true);
    expect(Math.min(...loss.slice(0, 8))).toBeGreaterThan(3e-4);
    const { results } = exp.analyze(config, trained as never);
    const { withinPairCosine } = results.anticorrelated as { withinPairCosine: number[] };
    for (const c of withinPairCosine) expect(c).toBeLessThan(-0.99);
  });
});

describe('phase: n > 3 has no exact loss', () => {
  it("compares a cell's restarts on held-out samples they share, not on the last training batch", async () => {
    const ctx = createRunContext({ engines: [fusedEngine, autodiffEngine] });
    const exp = experiments.phase;
    const R = 3;
    const config = resolveConfig(exp, { features: 4, importancePoints: 2, densityPoints: 2, restarts: R, protocol: 'best', steps: 60, batchSize: 64, lr: 1e-2, chunkSize: 4 });
    const trained = await exp.train(config, ctx);
    const { sweep } = trained as unknown as { sweep: { heldOut: { loss: number[]; targetSquare: number[][] }; params: { W: number[][][] } } };
    const square = sweep.heldOut.targetSquare;
    for (let k = 0; k < square.length; k++) expect(square[k], `instance ${k}`).toEqual(square[k - (k % R)]);
    const { results } = exp.analyze(config, trained);
    (results.cells as { W: number[][] }[]).forEach((cell, i) => {
      const losses = sweep.heldOut.loss.slice(i * R, (i + 1) * R);
      expect(cell.W, `cell ${i}`).toEqual(sweep.params.W[i * R + losses.indexOf(Math.min(...losses))]);
    });
  });
});

describe('phase: the paper protocol', () => {
  it('drops the worst restart, takes the most common phase of the others, and shades the figure by its share', async () => {
    const ctx = createRunContext({ engines: [fusedEngine, autodiffEngine] });
    const config = resolveConfig(experiments.phase, { importancePoints: 2, densityPoints: 2, restarts: 5, protocol: 'paper', steps: 400, lr: 1e-2, chunkSize: 4 });
    const { results, figures } = await experiments.phase.run(config, ctx);
    const cells = results.cells as { empirical: string; phaseShares: Record<string, number> }[];
    expect(cells).toHaveLength(4);
    for (const cell of cells) {
      const shares = Object.values(cell.phaseShares);
      // 4 of the 5 restarts are kept: shares are quarters and add up to 1
      expect(shares.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 9);
      for (const v of shares) expect(Number.isInteger(v * 4)).toBe(true);
      expect(cell.phaseShares[cell.empirical]).toBe(Math.max(...shares));
    }
    const empirical = (figures.phase as { hconcat: { encoding: Record<string, unknown>; data: { values: { share?: number }[] } }[] }).hconcat[0];
    expect(empirical.encoding.opacity).toMatchObject({ field: 'share' });
    expect(empirical.data.values.map((v) => v.share)).toEqual(cells.map((c) => c.phaseShares[c.empirical]));
    // the theoretical diagram has no shares
    expect((figures.phase as { hconcat: { encoding: Record<string, unknown> }[] }).hconcat[1].encoding.opacity).toBeUndefined();
  });
});

describe('keepLowestLoss (restarts per setting)', () => {
  it('keeps the instance of lowest held-out loss in each group, with its parameters, history and held-out results', async () => {
    const { keepLowestLoss } = await import('../src/common.js');
    const sweep = {
      params: { W: [[[0]], [[1]], [[2]], [[3]], [[4]], [[5]]], b: [[0], [1], [2], [3], [4], [5]] },
      finalLoss: [0.1, 0.2, 0.3, 0.4, 0.5, 0.05],
      history: [{ step: 10, loss: [1, 2, 3, 4, 5, 6] }],
      seconds: 1,
      heldOut: { loss: [0.3, 0.1, 0.2, 0.6, 0.4, 0.5], samples: [1, 1, 1, 1, 1, 1], linearOptimum: [1, 1, 1, 2, 2, 2], featureError: [[0], [1], [2], [3], [4], [5]] },
    };
    // groups of 3: held-out picks instance 1 (not 0, the lowest training loss) and instance 4 (not 5)
    const kept = keepLowestLoss(sweep, 3);
    expect(kept.params.W).toEqual([[[1]], [[4]]]);
    expect(kept.params.b).toEqual([[1], [4]]);
    expect(kept.finalLoss).toEqual([0.2, 0.5]);
    expect(kept.history).toEqual([{ step: 10, loss: [2, 5] }]);
    expect(kept.heldOut).toEqual({ loss: [0.1, 0.4], samples: [1, 1], linearOptimum: [1, 2], featureError: [[1], [4]] });
    // without a held-out evaluation, the final training loss decides
    const { heldOut: _, ...noHeld } = sweep;
    expect(keepLowestLoss(noHeld, 3).params.b).toEqual([[0], [5]]);
    expect(keepLowestLoss(sweep, 1)).toBe(sweep);
  });
});

describe('notebook variants: the official notebook\'s settings', () => {
  it('intro, intro-2d and geometry resolve to its sizes, density grids and AdamW with weight decay 0.01', () => {
    const grid = (count: number) => Array.from({ length: count }, (_, k) => 1 - 20 ** -(k / (count - 1)));
    const close = (a: number[], b: number[]) => {
      expect(a).toHaveLength(b.length);
      a.forEach((v, k) => expect(v).toBeCloseTo(b[k], 8));
    };
    const intro = resolveConfig(experiments.intro, {}, 'notebook') as Record<string, unknown>;
    expect(intro).toMatchObject({ features: 100, hidden: 20, optimizer: 'adamw', weightDecay: 0.01 });
    // I = 100^−linspace(0, 1, 100): importance base 100^(−1/99)
    expect(intro.importanceBase as number).toBeCloseTo(100 ** (-1 / 99), 8);
    close(intro.sparsities as number[], grid(20));
    const intro2d = resolveConfig(experiments['intro-2d'], {}, 'notebook') as Record<string, unknown>;
    expect(intro2d).toMatchObject({ optimizer: 'adamw', weightDecay: 0.01 });
    close(intro2d.sparsities as number[], grid(10));
    // geometry: n = 200, m = 20, 20 densities 1/(1 − S) from 1 to 20 (log-spaced, as 20^linspace), 10,000 steps
    const geometry = resolveConfig(experiments.geometry, {}, 'notebook') as Record<string, unknown>;
    expect(geometry).toMatchObject({ features: 200, hidden: 20, densityPoints: 20, densityMax: 20, steps: 10_000, lr: 1e-3, optimizer: 'adamw', weightDecay: 0.01 });
  });
});
