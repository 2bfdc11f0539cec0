// Section 4 of the reliability probe: output safety. A run owns its folder,
// builds its files beside it and moves them into place whole.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { experiments, type Experiment } from '@tms/experiments';
import { runExperiment } from '../../src/index.js';
import { TINY, expectRefused, freshOut, probe, spawnTms, tms, until } from './probe.js';

const FILES = ['intro.svg', 'intro.vl.json', 'loss.svg', 'loss.vl.json', 'results.json', 'weights.safetensors'];

/** The files of a folder and their bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = (await readFile(join(dir, f))).toString('base64');
  return out;
}

/** intro, failing after its results are computed: at results.json or at a figure. */
function failingIntro(where: 'results' | 'figure'): Experiment<never> {
  const intro = experiments.intro as unknown as Experiment<never>;
  return {
    ...intro,
    async run(c, ctx) {
      const o = await intro.run(c, ctx);
      if (where === 'results') return { ...o, results: { ...o.results, unwritable: 1n } };
      return { ...o, figures: { ...o.figures, zz: { mark: { type: 'nonsense' } } as never } };
    },
  };
}

describe('reliability 4: output safety', () => {
  probe('78', '--out under /proc exits 2 at once, naming --out (no hang)', async () => {
    const t0 = Date.now();
    await expectRefused(['run', 'intro', '--out', '/proc/tms-out', ...TINY], /"out": got "\/proc\/tms-out"; allowed: a folder this process can create and write/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  probe('79, 80, 81', '--out that is a file, under a file, or /dev/null exits 2 and leaves the file as it was', async () => {
    const dir = await freshOut();
    await mkdir(join(dir, '..'), { recursive: true });
    const file = join(dir, '..', 'a-file');
    await writeFile(file, 'keep me');
    await expectRefused(['run', 'intro', '--out', file, ...TINY], /"out": got ".*a-file"; allowed: a folder this process can create and write \(ENOTDIR/);
    await expectRefused(['run', 'intro', '--out', join(file, 'sub'), ...TINY], /"out": .*allowed: a folder this process can create and write/);
    await expectRefused(['run', 'intro', '--out', '/dev/null', ...TINY], /"out": got "\/dev\/null"/);
    expect(await readFile(file, 'utf8')).toBe('keep me');
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
  });

  probe('82', 'a path with spaces and non-ASCII characters works', async () => {
    const dir = await freshOut('dir with spaces/ünïcödé ✓ 日本');
    expect((await tms(['run', 'intro', '--out', dir, ...TINY])).code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(FILES);
  });

  probe('new', 'a folder holding files a run did not write is not replaced', async () => {
    const dir = await freshOut();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await expectRefused(['run', 'intro', '--out', dir, ...TINY], /"out": got ".*\(it holds notes\.txt\)"; allowed: a new folder, or one holding only an earlier run's files/);
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  probe('82', 'an --out given with a trailing slash names the same folder, lock and staging folder; a second run replaces it', async () => {
    const dir = await freshOut();
    const config = { models: ['relu-output' as const], sparsities: [0], steps: 2, logEvery: 1 };
    await runExperiment(experiments.intro, config, { out: `${dir}/` });
    await runExperiment(experiments.intro, { ...config, seed: 3 }, { out: `${dir}/` });
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).seed).toBe(3);
    expect((await readdir(dir)).sort()).toEqual(['intro.svg', 'intro.vl.json', 'loss.svg', 'loss.vl.json', 'results.json', 'weights.safetensors']);
    for (const suffix of ['.lock', '.partial', '.previous']) expect(existsSync(`${dir}${suffix}`)).toBe(false);
  });

  probe('83, 84', 'two runs into one folder: the second exits 2 naming the holder; the folder holds the first run only', async () => {
    const dir = await freshOut();
    const a = spawnTms(['run', 'intro', '--out', dir, '--seed', '1', '--variant', 'quick', '--quiet']);
    await until(() => existsSync(`${dir}.lock`), 60_000, 'the first run to lock');
    const b = spawnTms(['run', 'intro', '--out', dir, '--seed', '2', '--sparsities', '0,0.5', '--steps', '20', '--quiet']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(rb.code).toBe(2);
    expect(rb.err).toMatch(/in use by another run \(pid \d+, lock .*\.lock\); wait for it, or choose another --out/);
    expect(ra.code).toBe(0);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results.seed).toBe(1);
    // every figure comes from the same run (7 sparsities in the quick variant)
    const spec = JSON.parse(await readFile(join(dir, 'loss.vl.json'), 'utf8'));
    expect(JSON.stringify(spec)).toContain('S=0.999');
    expect((await readdir(dir)).sort()).toEqual(FILES);
  });

  probe('85, 86', 'a run failing after its results are computed leaves the previous run whole, with nothing mixed in', async () => {
    const dir = await freshOut();
    const first = { models: ['relu-output'] as const, sparsities: [0], steps: 20, logEvery: 10, batchSize: 64 };
    await runExperiment(experiments.intro, { ...first, models: [...first.models] }, { out: dir });
    const before = await snapshot(dir);
    for (const where of ['results', 'figure'] as const) {
      await expect(runExperiment(failingIntro(where), { ...first, models: [...first.models], seed: 5, sparsities: [0, 0.9] } as never, { out: dir })).rejects.toThrow();
      expect(await snapshot(dir)).toEqual(before);
    }
    // the next run replaces it whole, leaving nothing of the failed ones
    await runExperiment(experiments.intro, { ...first, models: [...first.models], seed: 6 }, { out: dir });
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).seed).toBe(6);
    expect(existsSync(`${dir}.partial`)).toBe(false);
    expect(existsSync(`${dir}.previous`)).toBe(false);
  });

  probe('87', 'SIGKILL at any moment leaves the folder holding one whole run, old or new', async () => {
    const dir = await freshOut();
    expect((await tms(['run', 'intro', '--out', dir, ...TINY, '--seed', '1'])).code).toBe(0);
    for (const delay of [300, 700, 1100, 1500, 1900, 2300]) {
      const run = spawnTms(['run', 'intro', '--out', dir, ...TINY, '--seed', '2']);
      await new Promise((r) => setTimeout(r, delay));
      run.child.kill('SIGKILL');
      await run.done;
      // a killed commit is finished or undone by the next run; here we read what is on disk
      const folder = existsSync(dir) ? dir : `${dir}.previous`;
      expect((await readdir(folder)).filter((f) => !f.startsWith('.')).sort()).toEqual(FILES);
      expect([1, 2]).toContain(JSON.parse(await readFile(join(folder, 'results.json'), 'utf8')).seed);
      // the next run takes over the dead run's lock and starts clean
      expect((await tms(['run', 'intro', '--out', dir, ...TINY, '--seed', '1'])).code).toBe(0);
    }
  });
});
