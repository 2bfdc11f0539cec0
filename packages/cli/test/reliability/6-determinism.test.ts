// Section 6 of the reliability probe: determinism. Results do not depend on
// repeats, worker counts or the tfjs backend (for the fused engine).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { useNodeBackend } from '@tms/backend-node';
import { experiments } from '@tms/experiments';
import { runExperiment } from '../../src/index.js';
import { freshOut, probe } from './probe.js';

async function weights(exp: keyof typeof experiments, config: object, workers: number): Promise<Buffer> {
  const dir = await freshOut();
  await runExperiment(experiments[exp] as never, config as never, { out: dir, workers });
  return readFile(join(dir, 'weights.safetensors'));
}

describe('reliability 6: determinism', () => {
  const intro = { models: ['linear', 'relu-output'], sparsities: [0, 0.7, 0.9, 0.99], steps: 200, logEvery: 50, batchSize: 128, lr: 1e-2 };

  probe('92, 93', 'intro twice, and on 1, 2, 5 and 256 worker threads: bit-identical weights', async () => {
    const first = await weights('intro', intro, 1);
    expect(await weights('intro', intro, 1)).toEqual(first);
    for (const workers of [2, 5, 256]) expect(await weights('intro', intro, workers)).toEqual(first);
  });

  probe('94, 95', 'sae and phase on 1 and 2 worker threads: bit-identical weights', async () => {
    const sae = { sparsities: [0, 0.9], steps: 150, saeSteps: 100, logEvery: 50, batchSize: 128 };
    expect(await weights('sae', sae, 2)).toEqual(await weights('sae', sae, 1));
    const phase = { importancePoints: 2, densityPoints: 2, restarts: 2, steps: 150, logEvery: 50, batchSize: 128 };
    expect(await weights('phase', phase, 2)).toEqual(await weights('phase', phase, 1));
  });

  probe('97', 'the fused engine gives the same weights on the cpu and wasm backends', async () => {
    const config = { ...intro, models: ['relu-output'] };
    const onWasm = await weights('intro', config, 1);
    await useNodeBackend({ prefer: 'cpu' });
    try {
      expect(await weights('intro', config, 1)).toEqual(onWasm);
    } finally {
      await useNodeBackend({ prefer: 'wasm' });
    }
  });
});
