// `tms run --backend webgpu` end to end in Node: Dawn on the machine's GPU, or on
// SwiftShader (a software Vulkan driver) here. The tied models train on the fused
// WebGPU engine; everything after training (held-out loss, read-backs) runs on
// tfjs-webgpu, which in Node has no synchronous read.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@tms/core';
import { createRunContext, trainToyModels, type HeldOutResults, type IntroModelResult } from '@tms/experiments';
import { testGPU } from '../../engine-webgpu/test/gpu.js';
import { main } from '../src/index.js';

const gpu = await testGPU();
const why = typeof gpu === 'string' ? gpu : undefined;

describe.skipIf(why)(`tms run intro --backend webgpu${why ? ` (skipped: ${why})` : ''}`, () => {
  let results: { backend: { name: string; adapter?: { software: boolean } }; models: IntroModelResult[]; heldOut: Record<string, HeldOutResults> };
  const err: string[] = [];

  beforeAll(async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-webgpu-')), 'out');
    const code = await main(['run', 'intro', '--variant', 'quick', '--steps', '300', '--sparsities', '0,0.99', '--backend', 'webgpu', '--out', dir, '--quiet'], { out: () => {}, err: (s) => err.push(s) });
    expect(err.join('\n')).not.toMatch(/tms: \w*Error/);
    expect(code).toBe(0);
    results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
  });

  it('trains on the WebGPU engine and records the adapter', () => {
    expect(results.backend.name).toBe('webgpu');
    expect(typeof results.backend.adapter?.software).toBe('boolean');
    for (const m of results.models) expect(m.instances).toHaveLength(2);
  });

  it('measures the held-out loss of the tied models', () => {
    const { linear, 'relu-output': relu } = results.heldOut;
    // after 300 steps: the linear model within 10 % of the linear optimum, dense and sparse; superposition beats it at S = 0.99
    expect(linear.samples).toEqual([16384, 26624]);
    for (const r of linear.ratioToLinear) expect(Math.abs(r! - 1)).toBeLessThan(0.1);
    expect(relu.ratioToLinear[0]).toBeLessThan(1.15);
    expect(relu.ratioToLinear[1]).toBeLessThan(0.3);
  });
});

describe.skipIf(why)('held-out loss of a model that is not tied, on tfjs-webgpu in Node', () => {
  it('reads back asynchronously (a synchronous read needs OffscreenCanvas, which Node lacks)', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    // ReLU hidden layer: trained by autodiff and evaluated through forward() on tfjs-webgpu
    const o = { kind: 'relu-hidden', instances: 2, features: 6, hidden: 3, sparsity: 0.5, importance: 1, steps: 20, batchSize: 64, optimizer: { name: 'adam', lr: 1e-2 }, seed: 0, logEvery: 10, heldOutSamples: 1024 } as const;
    const r = await trainToyModels(o, createRunContext(), 'relu-hidden');
    expect(r.result.engine).toBe('autodiff');
    expect(r.heldOut!.samples).toEqual([1024, 1024]);
    for (const l of r.heldOut!.loss) expect(l).toBeGreaterThan(0);
    for (const l of r.heldOut!.loss) expect(l).toBeLessThan(1);
  });
});
