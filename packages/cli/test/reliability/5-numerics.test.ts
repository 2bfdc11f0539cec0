// Section 5 of the reliability probe: numerical failure. A run ends with finite
// results or exits 3; nothing non-finite is written.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { experiments } from '@tms/experiments';
import { NonFiniteResultError, nonFinitePath, runExperiment } from '../../src/index.js';
import { freshOut, probe, tms } from './probe.js';

/** Exit 0 with only finite numbers in results.json, or exit 3 with no results. */
async function finiteOrStopped(name: string, args: string[]): Promise<number> {
  const dir = await freshOut();
  const r = await tms(['run', name, '--out', dir, '--quiet', '--workers', '1', ...args]);
  expect([0, 3]).toContain(r.code);
  if (r.code === 0) {
    const text = await readFile(join(dir, 'results.json'), 'utf8');
    expect(text).not.toMatch(/\bnull\b/);
  } else {
    expect(existsSync(join(dir, 'results.json'))).toBe(false);
  }
  return r.code;
}

describe('reliability 5: numerical failure', () => {
  probe('88', 'intro at lr 10 (Adam) ends with finite results', async () => {
    expect(await finiteOrStopped('intro', ['--lr', '10', '--steps', '300', '--sparsities', '0,0.9', '--batch-size', '128'])).toBe(0);
  });

  probe('89, T21', 'AdamW with weight decay 10 at lr 10 diverges: exit 3 naming the step, instance and cause; no results', async () => {
    const dir = await freshOut();
    const r = await tms(['run', 'intro', '--out', dir, '--optimizer', 'adamw', '--weight-decay', '10', '--lr', '10', '--steps', '300', '--quiet', '--workers', '1']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/training diverged at step \d+ \(instance \d+.*\); the likely cause is a learning rate \(10\) too large .* or the weight decay \(10\)/);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  probe('90', 'phase with importance 10⁵–10⁶, density 10⁵ and lr 10 ends finite or exits 3', async () => {
    await finiteOrStopped('phase', ['--importance-min', '1e5', '--importance-max', '1e6', '--density-max', '1e5', '--lr', '10', '--steps', '100', '--importance-points', '2', '--density-points', '2', '--restarts', '1']);
  });

  probe('91', 'sae with l1 100, lr 10 and sae-lr 1 ends finite or exits 3', async () => {
    await finiteOrStopped('sae', ['--l1', '100', '--lr', '10', '--sae-lr', '1', '--steps', '100', '--sae-steps', '100', '--sparsities', '0.9']);
  });

  probe('89', 'the last guard: results holding NaN or Infinity are refused with their path, writing nothing', async () => {
    expect(nonFinitePath({ a: [1, { b: NaN }] }, 'results')).toBe('results.a[1].b');
    expect(nonFinitePath({ t: { data: Float32Array.from([0, Infinity]) } }, 'tensors')).toBe('tensors.t.data[1]');
    expect(nonFinitePath({ a: [1, 2], s: 'NaN' }, 'results')).toBeNull();
    const intro = experiments.intro;
    const broken = { ...intro, run: async (c: never, ctx: never) => ({ ...(await intro.run(c, ctx)), results: { metric: -Infinity } }) };
    const dir = await freshOut();
    await expect(runExperiment(broken as never, { models: ['relu-output'], sparsities: [0], steps: 2, logEvery: 1 }, { out: dir })).rejects.toThrow(NonFiniteResultError);
    expect(existsSync(dir)).toBe(false);
  });
});
