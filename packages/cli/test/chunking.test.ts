// Results must not depend on how a sweep is cut into chunks (or worker ranges):
// every instance draws its weights and data from streams keyed by (seed, global
// instance index). Sweep points trained one by one use seeds derived from
// (seed, purpose, point), never `seed + point`.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@tms/core';
import { getExperiment } from '@tms/experiments';
import { runExperiment } from '../src/index.js';

async function weights(name: string, input: Record<string, unknown>, workers = 1) {
  const dir = join(await mkdtemp(join(tmpdir(), `tms-chunk-${name}-`)), 'out');
  await runExperiment(getExperiment(name)!, input as never, { out: dir, variant: 'quick', workers });
  const st = decodeSafetensors(new Uint8Array(await readFile(join(dir, 'weights.safetensors'))));
  return Object.fromEntries(Object.entries(st.tensors).map(([k, t]) => [k, { shape: t.shape, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) }]));
}

describe('geometry: chunk size does not change the science', () => {
  it('the quick variant with chunk sizes 8 (one chunk), 3 and 1 writes bit-identical weights', async () => {
    const short = { steps: 200, logEvery: 50 };
    const one = await weights('geometry', { ...short, chunkSize: 8 });
    const three = await weights('geometry', { ...short, chunkSize: 3 });
    const single = await weights('geometry', { ...short, chunkSize: 1 }, 2);
    expect(Object.keys(one).sort()).toEqual(['relu-output.W', 'relu-output.b']);
    for (const k of Object.keys(one)) {
      expect(three[k].shape).toEqual(one[k].shape);
      expect(three[k].bytes.equals(one[k].bytes)).toBe(true);
      expect(single[k].bytes.equals(one[k].bytes)).toBe(true);
    }
  });

  it('chunks on worker threads equal chunks on the calling thread', async () => {
    const short = { steps: 200, logEvery: 50, chunkSize: 3 };
    const t1 = await weights('geometry', short, 1);
    const t2 = await weights('geometry', short, 2);
    for (const k of Object.keys(t1)) expect(t2[k].bytes.equals(t1[k].bytes)).toBe(true);
  });
});
