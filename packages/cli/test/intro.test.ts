import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { experiments, type HeldOutResults, type IntroModelResult } from '@tms/experiments';
import { HEADLINE_CLAIMS } from '../../experiments/test/headlines.js';
import { main } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

/** Indices of features with ‖W_i‖ > 0.5. */
const represented = (norms: number[]) => norms.flatMap((v, i) => (v > 0.5 ? [i] : []));

describe('tms run intro (quick variant: 2000 steps, lr 1e-2)', () => {
  let dir: string;
  let results: { config: Record<string, unknown>; seed: number; backend: { name: string }; trainedBy: Record<string, number>; models: IntroModelResult[]; heldOut: Record<string, HeldOutResults> };
  const c = capture();

  beforeAll(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'tms-intro-')), 'out');
    const code = await main(['run', 'intro', '--variant', 'quick', '--out', dir, '--quiet'], c.io);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
  });

  it('records config, seed, backend and per-instance weights', () => {
    expect(results.config.steps).toBe(2000);
    expect(results.config.sparsities).toEqual([0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999]);
    expect(results.seed).toBe(0);
    expect(results.backend.name).toBe('wasm');
    expect(results.models.map((m) => m.kind)).toEqual(['linear', 'relu-output']);
    // one training call per model kind, each on a fused CPU engine (on worker threads, or on the calling thread)
    expect(Object.keys(results.trainedBy).every((e) => e === 'fused-threads' || e === 'fused')).toBe(true);
    expect(Object.values(results.trainedBy).reduce((a, k) => a + k, 0)).toBe(2);
    for (const m of results.models) {
      expect(m.instances).toHaveLength(7);
      expect(m.instances[0].W).toHaveLength(20);
      expect(m.instances[0].W[0]).toHaveLength(5);
      expect(m.instances[0].b).toHaveLength(20);
      expect(m.history.at(-1)!.step).toBe(2000);
    }
    expect(existsSync(join(dir, '.checkpoints'))).toBe(false);
    expect(existsSync(`${dir}.partial`)).toBe(false);
  });

  it('reports the held-out loss on fresh samples and its ratio to the analytic linear optimum', () => {
    const { linear, 'relu-output': relu } = results.heldOut;
    // more samples where features are rarer: about 256 non-zeros of each feature
    expect(linear.samples).toEqual([16384, 16384, 16384, 16384, 26624, 86016, 131072]);
    // trained linear models sit at the linear optimum (the top 5 features kept) at every sparsity
    for (const r of linear.ratioToLinear) expect(Math.abs(r! - 1)).toBeLessThan(0.08);
    // dense: ReLU-output also keeps 5 and does no better; sparse: superposition beats every linear model
    expect(relu.ratioToLinear[0]).toBeCloseTo(1, 1);
    expect(relu.ratioToLinear[6]).toBeLessThan(0.2);
    // the optimum of n = 20, m = 5, importance 0.7^i on dense features: (1/20) Σ_{i ≥ 5} 0.7^i / 12
    expect(linear.linearOptimum[0]).toBeCloseTo(0.0023232233, 9);
    // held-out, not training: the dense loss is near the training loss but not equal to it
    const train = results.models[0].instances[0].finalLoss;
    expect(Math.abs(linear.loss[0] / train - 1)).toBeLessThan(0.05);
    expect(linear.loss[0]).not.toBe(train);
  });

  it('tms check: every claim holds on the folder; a contradicted claim fails with exit 1 naming it', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const ok = capture();
    expect(await main(['check', dir], ok.io)).toBe(0);
    expect(ok.out[0]).toMatch(/^tms check: claims v\d+ on 1 result$/);
    expect(ok.out).toContainEqual(expect.stringMatching(/^PASS  intro\.relu-dense-top5 +5  \(= 5\)  a ReLU-output model with dense features represents exactly the m most important \(5 for n = 20, m = 5\)/));
    // a folder of run folders, one of them contradicting the paper
    const parent = join(dir, '..', 'many');
    await mkdir(join(parent, 'a'), { recursive: true });
    await mkdir(join(parent, 'b'), { recursive: true });
    await writeFile(join(parent, 'a', 'results.json'), JSON.stringify(results));
    const dense = results.models[1].instances[0];
    const wrong = structuredClone(results);
    wrong.models[1].instances[0] = { ...dense, metrics: { ...dense.metrics, representedCount: 7 } };
    await writeFile(join(parent, 'b', 'results.json'), JSON.stringify(wrong));
    const bad = capture();
    expect(await main(['check', parent], bad.io)).toBe(1);
    expect(bad.out.filter((l) => l.startsWith('FAIL'))).toEqual([expect.stringMatching(/^FAIL  intro\.relu-dense-top5 +7  \(= 5\)/)]);
    expect(bad.out.at(-1)).toBe('11 of 12 claims hold');
    // nothing to check: exit 2
    const none = capture();
    expect(await main(['check', join(dir, 'nope')], none.io)).toBe(2);
    expect(none.err.join('\n')).toMatch(/"dir"/);
  });

  it('meets its headline claim (the same check as the live run in the browser)', () => {
    HEADLINE_CLAIMS.intro(experiments.intro.headline!(results as never));
  });

  it('the linear model represents exactly the 5 most important features at every sparsity', () => {
    const linear = results.models[0];
    for (const inst of linear.instances) {
      expect(represented(inst.metrics.featureNorms)).toEqual([0, 1, 2, 3, 4]);
      expect(inst.metrics.representedCount).toBe(5);
      // they get dedicated, orthogonal dimensions of unit norm
      for (const i of [0, 1, 2, 3, 4]) {
        expect(inst.metrics.featureNorms[i]).toBeGreaterThan(0.95);
        expect(inst.metrics.superposition[i]).toBeLessThan(0.01);
      }
      expect(inst.metrics.dimensionsPerFeature).toBeCloseTo(1, 1);
    }
  });

  it('the ReLU-output model represents exactly 5 features when dense and ≥ 10 in superposition when sparse', () => {
    const relu = results.models[1].instances;
    expect(represented(relu[0].metrics.featureNorms)).toEqual([0, 1, 2, 3, 4]);
    for (const i of [0, 1, 2, 3, 4]) expect(relu[0].metrics.superposition[i]).toBeLessThan(0.01);
    const sparsest = relu[relu.length - 1];
    expect(sparsest.sparsity).toBe(0.999);
    expect(sparsest.metrics.representedCount).toBeGreaterThanOrEqual(10);
    // superposition among the represented features is substantial
    const sup = represented(sparsest.metrics.featureNorms).map((i) => sparsest.metrics.superposition[i]);
    expect(Math.max(...sup)).toBeGreaterThan(0.5);
    expect(sparsest.metrics.dimensionsPerFeature).toBeLessThan(0.5);
    // more sparsity, more features (allowing one step back from noise)
    const counts = relu.map((r) => r.metrics.representedCount);
    for (let k = 1; k < counts.length; k++) expect(counts[k]).toBeGreaterThanOrEqual(counts[k - 1] - 1);
  });

  it('writes the intro and loss figures as SVG and Vega-Lite JSON', async () => {
    const svg = await readFile(join(dir, 'intro.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    // 14 WᵀW heatmaps of 20×20 cells at least
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(14 * 400);
    expect(svg).toContain('ReLU output model');
    const spec = JSON.parse(await readFile(join(dir, 'intro.vl.json'), 'utf8'));
    expect(spec.vconcat).toHaveLength(2);
    expect((await readFile(join(dir, 'loss.svg'), 'utf8')).startsWith('<svg')).toBe(true);
  });
});
