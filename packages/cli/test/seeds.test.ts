import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SeedSummary } from '@tms/experiments';
import { experiments } from '@tms/experiments';
import { main, runSeeds } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

describe('tms run --seeds K (replicate seeds)', () => {
  it('trains one run per seed, summarises every headline number and claim over them, and reuses finished seeds on --resume', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-seeds-')), 'out');
    const c = capture();
    expect(await main(['run', 'intro-2d', '--variant', 'quick', '--seeds', '2', '--seed', '4', '--out', dir, '--quiet'], c.io)).toBe(0);
    expect(c.err).toEqual([]);
    // seed 5's sparse model stays at 4 features (a local minimum): replicates show what one seed hides
    expect(c.out.at(-1)).toMatch(/^wrote 2 runs \(seeds 4–5\) and .*seeds\.json.*; 2 of 3 claims hold on every seed/);
    const runs = await Promise.all([4, 5].map(async (s) => JSON.parse(await readFile(join(dir, `seed-${s}`, 'results.json'), 'utf8'))));
    expect(runs.map((r) => r.seed)).toEqual([4, 5]);
    expect(runs.map((r) => r.config.seed)).toEqual([4, 5]);
    // different seeds train different models
    expect(runs[0].instances[0].W).not.toEqual(runs[1].instances[0].W);
    const summary: SeedSummary & { config: Record<string, unknown> } = JSON.parse(await readFile(join(dir, 'seeds.json'), 'utf8'));
    expect(summary.experiment).toBe('intro-2d');
    expect(summary.seeds).toEqual([4, 5]);
    expect(summary.config.seed).toBeUndefined();
    expect(summary.config.steps).toBe(runs[0].config.steps);
    for (const [key, s] of Object.entries(summary.headline)) {
      expect(s.values, key).toHaveLength(2);
      expect(s.min).toBe(Math.min(...s.values));
      expect(s.max).toBe(Math.max(...s.values));
      expect(s.median).toBeCloseTo((s.values[0] + s.values[1]) / 2, 12);
    }
    expect(summary.headline.denseRepresented.values).toEqual([2, 2]);
    expect(summary.headline.sparsestRepresented).toEqual({ values: [5, 4], min: 4, median: 4.5, max: 5 });
    expect(summary.claims.map((x) => [x.id, x.passed, x.of])).toEqual([
      ['intro-2d.dense-two', 2, 2],
      ['intro-2d.dense-linear-optimum', 2, 2],
      ['intro-2d.sparse-pentagon', 1, 2],
    ]);
    expect(existsSync(join(dir, 'seeds.svg'))).toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'seeds.vl.json'), 'utf8')).vconcat.length).toBe(Object.keys(summary.headline).length);
    // tms check reads the folder of seed runs and fails on the seed without a pentagon
    const checked = capture();
    expect(await main(['check', dir], checked.io)).toBe(1);
    expect(checked.out[0]).toMatch(/on 2 results$/);
    expect(checked.out.filter((l) => l.startsWith('FAIL'))).toEqual([expect.stringMatching(/^FAIL  intro-2d\.sparse-pentagon/)]);
    // --by-claim: one line per claim over the seeds (how many hold, the median and range); a folder of seed folders is found one level down
    const parent = join(dir, '..');
    const claims = capture();
    expect(await main(['check', parent, '--by-claim'], claims.io)).toBe(1);
    expect(claims.out[0]).toMatch(/on 2 results$/);
    expect(claims.out.slice(1)).toEqual([
      expect.stringMatching(/^PASS  intro-2d\.dense-two +2  \(= 2\)  2 of 2; dense: 2 of 5 features/),
      expect.stringMatching(/^PASS  intro-2d\.dense-linear-optimum +[\d.]+  \(in \(0\.98, 1\.02\)\)  2 of 2, [\d.]+–[\d.]+; dense: the ReLU-output model/),
      expect.stringMatching(/^FAIL  intro-2d\.sparse-pentagon +0\.500  \(= 1\)  1 of 2, 0–1; sparse: all 5 features/),
      '2 of 3 claims hold on every result',
    ]);

    // one more seed with --resume: the two finished runs are reused, not trained again
    const before = await readFile(join(dir, 'seed-4', 'results.json'), 'utf8');
    const more = capture();
    expect(await main(['run', 'intro-2d', '--variant', 'quick', '--seeds', '3', '--seed', '4', '--out', dir, '--quiet', '--resume'], more.io)).toBe(0);
    expect(more.out.at(-1)).toMatch(/^wrote 3 runs \(seeds 4–6, 2 reused\)/);
    expect(await readFile(join(dir, 'seed-4', 'results.json'), 'utf8')).toBe(before);
    const three: SeedSummary = JSON.parse(await readFile(join(dir, 'seeds.json'), 'utf8'));
    expect(three.seeds).toEqual([4, 5, 6]);
    expect(three.claims[2]).toMatchObject({ id: 'intro-2d.sparse-pentagon', passed: 2, of: 3 });
  });

  it('trains the seeds at once, each training call as one batch: the same files as one seed after another, timings aside', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tms-seeds-'));
    const logs: string[] = [];
    const progress = { reset() {}, update() {}, log: (m: string) => void logs.push(m) };
    const input = { seed: 2, steps: 400, sparsities: [0, 0.9] };
    const joint = await runSeeds(experiments.intro, input, 3, { out: join(root, 'joint'), variant: 'quick', progress, workers: 2 });
    expect(logs).toContain('seeds 2, 3, 4: trained at once, each training call of every seed in one batch');
    const apart = await runSeeds(experiments.intro, input, 3, { out: join(root, 'apart'), variant: 'quick', together: false });
    const untimed = (text: string) => JSON.parse(text, (k, v) => (k === 'seconds' || k === 'createdAt' || k === 'trainedBy' ? undefined : v));
    for (const s of [2, 3, 4]) {
      const [a, b] = await Promise.all([joint, apart].map((r) => readFile(join(r.outDir, `seed-${s}`, 'results.json'), 'utf8')));
      expect(untimed(a), `seed ${s}`).toEqual(untimed(b));
      const [wa, wb] = await Promise.all([joint, apart].map((r) => readFile(join(r.outDir, `seed-${s}`, 'weights.safetensors'))));
      expect(wa.equals(wb), `seed ${s} weights`).toBe(true);
    }
    expect(joint.summary.headline).toEqual(apart.summary.headline);
  });

  it('refuses --seeds with --shard, a count out of range, and a folder that holds a single run', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-seeds-')), 'one');
    const shard = capture();
    expect(await main(['run', 'intro-2d', '--seeds', '2', '--shard', '0/2', '--out', dir], shard.io)).toBe(2);
    expect(shard.err.join('\n')).toMatch(/"seeds".*not with --shard/);
    const zero = capture();
    expect(await main(['run', 'intro-2d', '--seeds', '0', '--out', dir], zero.io)).toBe(2);
    expect(zero.err.join('\n')).toMatch(/seeds/);
    expect(await main(['run', 'intro-2d', '--variant', 'quick', '--out', dir, '--quiet'], capture().io)).toBe(0);
    const single = capture();
    expect(await main(['run', 'intro-2d', '--variant', 'quick', '--seeds', '2', '--out', dir, '--quiet'], single.io)).toBe(2);
    expect(single.err.join('\n')).toMatch(/"out".*replicate runs/);
    expect(existsSync(join(dir, 'seed-0'))).toBe(false);
  });
});
