// `tms run computation --backend webgpu` end to end in Node (Dawn on the machine's GPU, or on
// SwiftShader here): the |x| model, with its ReLU hidden layer, trains on the fused WebGPU engine.
// A file of its own: a second `--backend webgpu` run of computation in one process crashes Dawn
// (std::system_error in its threads; also when the CPU engine trains and only the held-out loss
// runs on tfjs-webgpu), and vitest runs each file in a process of its own.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testGPU } from '../../engine-webgpu/test/gpu.js';
import { main } from '../src/index.js';

const gpu = await testGPU();
const why = typeof gpu === 'string' ? gpu : undefined;

describe.skipIf(why)(`tms run computation --variant n3m6 --backend webgpu${why ? ` (skipped: ${why})` : ''}`, () => {
  it("trains the |x| model (a ReLU hidden layer) on the WebGPU engine, says so in results.json, and shows the paper's exact circuit", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-webgpu-')), 'out');
    const err: string[] = [];
    const code = await main(['run', 'computation', '--variant', 'n3m6', '--sparsities', '0', '--backend', 'webgpu', '--out', dir, '--quiet'], { out: () => {}, err: (s) => err.push(s) });
    expect(err.join('\n')).not.toMatch(/tms: \w*Error/);
    expect(code).toBe(0);
    const r = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    // one call: the 2 restarts as instances of one batch
    expect(r.trainedBy).toEqual({ webgpu: 1 });
    const [dense] = r.models;
    expect(dense.pairedFeatures).toEqual([0, 1, 2]);
    expect(dense.heldOutToZero).toBeLessThan(0.01);
  });
});
