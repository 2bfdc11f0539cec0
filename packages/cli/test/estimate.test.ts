import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experiments, type ProgressSink } from '@tms/experiments';
import type { Engine } from '@tms/core';
import { TIME_ESTIMATE_ABOVE, nodeEngines, runExperiment } from '../src/index.js';

function logs(): { progress: ProgressSink; lines: string[] } {
  const lines: string[] = [];
  return { lines, progress: { reset() {}, update() {}, log: (m) => lines.push(m) } };
}

describe('the training time estimate', () => {
  it('is logged once, from the first unit’s step rate, and is close to the time the units take', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-estimate-')), 'out');
    const { progress, lines } = logs();
    // two units (linear, ReLU-output) of equal cost; the first one's rate predicts both
    const input = { steps: 3000, logEvery: 100 };
    const summary = await runExperiment(experiments.intro, input, { out: dir, variant: 'quick', progress, timeEstimateAbove: 0 });
    const told = lines.filter((l) => l.startsWith('estimated training time'));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^estimated training time: .* more for 2 units \(from the first unit's step rate; a GPU \(--backend webgpu\) or shards across machines/);
    const m = /time: (?:(\d+)m)?(\d+)s more/.exec(told[0])!;
    const estimate = Number(m[1] ?? 0) * 60 + Number(m[2]);
    const trained = (summary.results.models as { seconds: number }[]).reduce((a, x) => a + x.seconds, 0);
    // logged after ≥ 2 s of the first unit: what is left is most of the training, within a factor 2
    expect(estimate).toBeGreaterThan(trained * 0.25);
    expect(estimate).toBeLessThan(trained * 2);
  });

  it('on a run that has the WebGPU engine, suggests shards but not a GPU', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-estimate-')), 'out');
    const { progress, lines } = logs();
    // a WebGPU engine that declines every model: the CPU engines train, the hint follows the engines given
    const gpu: Engine = { name: 'webgpu', unsupported: () => 'a stand-in for the test', start: () => Promise.reject(new Error('never started')) };
    await runExperiment(experiments.intro, { steps: 1000, logEvery: 100 }, { out: dir, variant: 'quick', progress, timeEstimateAbove: 0, engines: [gpu, ...nodeEngines(2)] });
    const told = lines.filter((l) => l.startsWith('estimated training time'));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('(from the first unit\'s step rate; shards across machines (tms slurm, tms k8s) shorten it;');
    expect(told[0]).not.toContain('--backend webgpu');
  });

  it("suggests a GPU for models the WebGPU engine trains (computation's |x| model, a ReLU hidden layer), not for l1's activation penalty", async () => {
    const told = async (name: 'computation' | 'l1') => {
      const dir = join(await mkdtemp(join(tmpdir(), 'tms-estimate-')), 'out');
      const { progress, lines } = logs();
      const exp = experiments[name] as (typeof experiments)['l1'];
      await runExperiment(exp, { steps: 2000, logEvery: 100 }, { out: dir, variant: 'quick', progress, timeEstimateAbove: 0 });
      return lines.filter((l) => l.startsWith('estimated training time'));
    };
    const computation = await told('computation');
    expect(computation).toHaveLength(1);
    expect(computation[0]).toContain("(from the first unit's step rate; a GPU (--backend webgpu) or shards across machines (tms slurm, tms k8s) shorten it;");
    const l1 = await told('l1');
    expect(l1).toHaveLength(1);
    expect(l1[0]).toContain("(from the first unit's step rate; shards across machines (tms slurm, tms k8s) shorten it;");
    expect(l1[0]).not.toContain('--backend webgpu');
  });

  it("counts each step's parameter update, so units of small batches (double descent's small training sets) do not inflate it", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-estimate-')), 'out');
    const lines: { at: number; line: string }[] = [];
    const progress: ProgressSink = { reset() {}, update() {}, log: (line) => void lines.push({ at: performance.now(), line }) };
    // the first unit trains on 4 points per set: n = 400 parameters per output row weigh more than the 4 samples
    await runExperiment(experiments['double-descent'], {}, { out: dir, variant: 'quick', progress, timeEstimateAbove: 0, workers: 2 });
    const end = performance.now();
    const told = lines.filter((l) => l.line.startsWith('estimated training time'));
    expect(told).toHaveLength(1);
    const m = /time: (?:(\d+)m)?(\d+)s more/.exec(told[0].line)!;
    const estimate = Number(m[1] ?? 0) * 60 + Number(m[2]);
    const left = (end - told[0].at) / 1000;
    // within a factor 2.5 of the time the run still took (analysis and figures included); 6× too long when only samples counted
    expect(estimate, told[0].line).toBeLessThan(left * 2.5);
    expect(estimate, told[0].line).toBeGreaterThan(left * 0.4);
  });

  it('stays silent for runs shorter than the threshold (two minutes by default)', async () => {
    expect(TIME_ESTIMATE_ABOVE).toBe(120);
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-estimate-')), 'out');
    const { progress, lines } = logs();
    await runExperiment(experiments.intro, { steps: 300 }, { out: dir, variant: 'quick', progress });
    expect(lines.filter((l) => l.startsWith('estimated'))).toEqual([]);
  });
});
