// Section 8 of the reliability probe: weights files as plain NumPy reads them
// (8-byte little-endian header length, JSON header, raw '<f4' data), parsed here
// by hand rather than with our own decoder.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { freshOut, probe, tms } from './probe.js';

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** What `np.frombuffer(buf, '<f4', offset=8 + n + begin)` gives for each tensor, after checking the layout. */
function readLikeNumpy(bytes: Buffer): { header: Record<string, Entry | Record<string, string>>; arrays: Record<string, Float32Array> } {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, Entry | Record<string, string>>;
  expect((8 + n) % 8).toBe(0);
  const arrays: Record<string, Float32Array> = {};
  let next = 0;
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as [string, Entry][];
  for (const [name, e] of entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])) {
    expect(e.dtype).toBe('F32');
    expect(e.data_offsets[0]).toBe(next);
    expect(e.data_offsets[1] - e.data_offsets[0]).toBe(4 * e.shape.reduce((a, b) => a * b, 1));
    next = e.data_offsets[1];
    const copy = Buffer.from(bytes.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]));
    arrays[name] = new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4);
  }
  expect(8 + n + next).toBe(bytes.length);
  return { header, arrays };
}

describe('reliability 8: NumPy interop', () => {
  probe('P1, P2', 'intro and sae weights: F32, contiguous, 8-byte aligned, shapes from the config, values equal results.json', async () => {
    const dir = await freshOut('ünï out');
    const r = await tms(['run', 'intro', '--out', dir, '--sparsities', '0,0.9', '--steps', '40', '--log-every', '20', '--batch-size', '64', '--quiet', '--workers', '1']);
    expect(r.code).toBe(0);
    const { header, arrays } = readLikeNumpy(await readFile(join(dir, 'weights.safetensors')));
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect((header.__metadata__ as Record<string, string>).configHash).toBe(results.configHash);
    for (const model of results.models as { kind: string; instances: { W: number[][]; b: number[] }[] }[]) {
      expect((header[`${model.kind}.W`] as Entry).shape).toEqual([2, 20, 5]);
      const W = arrays[`${model.kind}.W`];
      model.instances.forEach((inst, k) => inst.W.flat().forEach((v, j) => expect(Math.fround(v)).toBe(W[k * 100 + j])));
    }
    const sae = await freshOut();
    expect((await tms(['run', 'sae', '--out', sae, '--sparsities', '0,0.9', '--steps', '40', '--sae-steps', '20', '--quiet', '--workers', '1'])).code).toBe(0);
    const s = readLikeNumpy(await readFile(join(sae, 'weights.safetensors')));
    expect((s.header['relu-output.W'] as Entry).shape).toEqual([2, 20, 5]);
    expect((s.header['sae.decoder'] as Entry).shape).toEqual([2, 80, 5]);
  });

  probe('P3', 'a diverged run writes no weights, so no file disagrees with another', async () => {
    const dir = await freshOut();
    const r = await tms(['run', 'intro', '--out', dir, '--optimizer', 'adamw', '--weight-decay', '10', '--lr', '10', '--steps', '300', '--quiet', '--workers', '1']);
    expect(r.code).toBe(3);
    expect(existsSync(join(dir, 'weights.safetensors'))).toBe(false);
  });
});
