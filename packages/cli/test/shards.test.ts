// Sharded runs: `tms run --shard K/N` trains a balanced part of a run's units
// into <out>/.units, `tms merge` writes the results. A merged run must equal
// a one-machine run of the same config bit for bit, apart from timings.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@tms/core';
import { getExperiment } from '@tms/experiments';
import { MissingUnitsError, ShardLockedError, lockFolder, lockShard, main, mergeShards, parseShard, runExperiment, runShard, unitStore, writeFileAtomic } from '../src/index.js';

const phase = getExperiment('phase')!;
// 7 units of 7 cells (4 restarts each), a few hundred steps: seconds
const SHORT = { steps: 300, logEvery: 50, chunkSize: 7 };

async function fresh(name = 'out'): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'tms-shard-')), name);
}

/** results.json without what depends on the process that wrote it: its timing fields (createdAt, the seconds of the run and of each unit) and trainedBy. */
async function resultsWithoutTimes(dir: string): Promise<unknown> {
  return JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'), (k, v: unknown) => (k === 'seconds' || k === 'createdAt' || k === 'trainedBy' ? undefined : v));
}

async function sameRun(a: string, b: string): Promise<void> {
  expect((await readFile(join(a, 'weights.safetensors'))).equals(await readFile(join(b, 'weights.safetensors')))).toBe(true);
  expect(await resultsWithoutTimes(b)).toEqual(await resultsWithoutTimes(a));
  for (const f of (await readdir(a)).filter((f) => f.endsWith('.svg') || f.endsWith('.vl.json'))) {
    expect((await readFile(join(b, f))).equals(await readFile(join(a, f))), f).toBe(true);
  }
}

describe('parseShard', () => {
  it('takes K/N with 0 ≤ K < N', () => {
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
  });
  it.each(['3/3', '-1/3', '1/0', 'a/3', '1', '1/3/4', '0/10001'])('refuses %s, naming shard and the allowed form', (text) => {
    expect(() => parseShard(text)).toThrow(/field "shard": got .*allowed: K\/N with shards N from 1 to 10000 and K from 0 to N-1/);
  });
});

describe('sharded runs', () => {
  it('three shards, merged, equal a one-machine run bit for bit (weights, figures, results apart from timings)', async () => {
    const single = await fresh('single');
    await runExperiment(phase, SHORT, { out: single, variant: 'quick', workers: 2 });
    const out = await fresh();
    const shards = await Promise.all([0, 1, 2].map((index) => runShard(phase, SHORT, { out, variant: 'quick', shard: { index, count: 3 } })));
    // balanced: 7 equal units over 3 shards go 3, 2, 2, and each unit once
    expect(shards.map((s) => s.trained.length)).toEqual([3, 2, 2]);
    expect(shards.flatMap((s) => s.trained).sort()).toEqual(['cells-0', 'cells-14', 'cells-21', 'cells-28', 'cells-35', 'cells-42', 'cells-7']);
    expect(shards.map((s) => s.others)).toEqual([4, 5, 5]);
    expect(existsSync(join(out, 'results.json'))).toBe(false);
    const merged = await mergeShards(out);
    expect(merged.outDir).toBe(out);
    await sameRun(single, out);
    // the store went with the old contents of out
    expect(existsSync(unitStore(out))).toBe(false);
  }, 120_000);

  it('a merge before every shard is done lists the missing units and their shards (exit 4), and writes nothing', async () => {
    const out = await fresh();
    await runShard(phase, SHORT, { out, variant: 'quick', shard: { index: 1, count: 3 } });
    const err = await mergeShards(out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingUnitsError);
    expect((err as MissingUnitsError).missing.map((m) => `${m.key}@${m.shard}`).sort()).toEqual(
      ['cells-0@0', 'cells-14@2', 'cells-21@0', 'cells-35@2', 'cells-42@0'].sort(),
    );
    expect((err as Error).message).toMatch(/5 units are not in .*\.units yet: .*cells-0 \(shard 0\/3\).*--shard 0\/3, --shard 2\/3/);
    expect(existsSync(join(out, 'results.json'))).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
    const lines: string[] = [];
    expect(await main(['merge', out], { out: (s) => lines.push(s), err: (s) => lines.push(s) })).toBe(4);
    expect(lines.join('\n')).toMatch(/tms: 5 units are not in/);
  }, 120_000);

  it('a shard run again (a requeued task) reuses its saved units and trains only what is missing', async () => {
    const out = await fresh();
    const first = await runShard(phase, SHORT, { out, variant: 'quick', shard: { index: 0, count: 3 } });
    expect(first.trained).toEqual(['cells-0', 'cells-21', 'cells-42']);
    // a task killed after one unit: two of its units are gone
    await rm(join(unitStore(out), 'cells-21.safetensors'));
    await rm(join(unitStore(out), 'cells-42.safetensors'));
    const again = await runShard(phase, SHORT, { out, variant: 'quick', shard: { index: 0, count: 3 } });
    expect(again.reused).toEqual(['cells-0']);
    expect(again.trained).toEqual(['cells-21', 'cells-42']);
  }, 120_000);

  it('merge --wait picks up units that arrive while it waits', async () => {
    const out = await fresh();
    await runShard(phase, SHORT, { out, variant: 'quick', shard: { index: 0, count: 2 } });
    const waiting = mergeShards(out, { wait: 120, pollSeconds: 0.2 });
    await runShard(phase, SHORT, { out, variant: 'quick', shard: { index: 1, count: 2 } });
    const merged = await waiting;
    expect(merged.results.experiment).toBe('phase');
    expect(existsSync(join(out, 'weights.safetensors'))).toBe(true);
  }, 120_000);

  it('refuses a shard of another config or shard count into the same store, naming shard and what differs', async () => {
    const out = await fresh();
    await runShard(phase, SHORT, { out, variant: 'quick', shard: { index: 0, count: 3 } });
    await expect(runShard(phase, { ...SHORT, steps: 301 }, { out, variant: 'quick', shard: { index: 1, count: 3 } })).rejects.toThrow(
      /field "shard": got "1\/3"; allowed: a shard of the run whose units .*\.units holds .*3 shards.*delete .*\.units to start over/,
    );
    await expect(runShard(phase, SHORT, { out, variant: 'quick', shard: { index: 1, count: 4 } })).rejects.toThrow(/this one: experiment phase, 4 shards/);
  }, 120_000);

  it('autoencoders shard after their prerequisite sweep, which every shard trains or reuses', async () => {
    const sae = getExperiment('sae')!;
    const input = { steps: 200, logEvery: 50, saeSteps: 200 };
    const single = await fresh('single');
    await runExperiment(sae, input, { out: single, variant: 'quick' });
    const out = await fresh();
    const a = await runShard(sae, input, { out, variant: 'quick', shard: { index: 0, count: 2 } });
    const b = await runShard(sae, input, { out, variant: 'quick', shard: { index: 1, count: 2 } });
    expect(a.trained).toEqual(['relu-output', 'sae-0', 'sae-2']);
    expect(b.reused).toEqual(['relu-output']);
    expect(b.trained).toEqual(['sae-1', 'sae-3']);
    await mergeShards(out);
    await sameRun(single, out);
  }, 180_000);

  it('a merged run passes tms check like a one-machine run', async () => {
    const out = await fresh();
    const cfg = { chunkSize: 20 };
    await Promise.all([0, 1].map((index) => runShard(phase, cfg, { out, variant: 'quick', shard: { index, count: 2 } })));
    await mergeShards(out);
    const lines: string[] = [];
    expect(await main(['check', out], { out: (s) => lines.push(s), err: (s) => lines.push(s) })).toBe(0);
    expect(lines.join('\n')).toMatch(/PASS {2}phase\./);
  }, 180_000);

  it('tms merge on a folder without a unit store exits 2 naming out', async () => {
    const out = await fresh();
    const lines: string[] = [];
    expect(await main(['merge', out], { out: (s) => lines.push(s), err: (s) => lines.push(s) })).toBe(2);
    expect(lines.join('\n')).toMatch(/field "out": got .*it has no .*\.units.*allowed: the --out of a sharded run/);
  });

  it('tms run --shard with --resume is refused before anything is written', async () => {
    const out = await fresh();
    const lines: string[] = [];
    expect(await main(['run', 'phase', '--out', out, '--shard', '0/2', '--resume', '--quiet'], { out: (s) => lines.push(s), err: (s) => lines.push(s) })).toBe(2);
    expect(lines.join('\n')).toMatch(/field "resume": .*allowed: not with --shard/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('atomic writes from concurrent shards', () => {
  it('many writes of one file in one process all land (their temporary names collided within a millisecond)', async () => {
    const path = join(await fresh(), 'manifest.json');
    await Promise.all(Array.from({ length: 50 }, (_, i) => writeFileAtomic(path, `{"writer": ${i}}`)));
    expect(JSON.parse(await readFile(path, 'utf8')).writer).toBeGreaterThanOrEqual(0);
    expect((await readdir(join(path, '..'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('shard locks', () => {
  it('a live shard holds its lock; other shards lock their own', async () => {
    const store = unitStore(await fresh());
    const release = await lockShard(store, { index: 0, count: 2 });
    await expect(lockShard(store, { index: 0, count: 2 })).rejects.toBeInstanceOf(ShardLockedError);
    const other = await lockShard(store, { index: 1, count: 2 });
    await other();
    await release();
    await (await lockShard(store, { index: 0, count: 2 }))();
  });

  it('takes over a lock of a dead process on this host, and one on another host not refreshed for 2 minutes', async () => {
    const store = unitStore(await fresh());
    const notices: string[] = [];
    await lockShard(store, { index: 0, count: 1 }).then((r) => r());
    await writeFile(join(store, 'shard-0.lock'), `${hostname()} 999999999\n`);
    await (await lockShard(store, { index: 0, count: 1 }, (m) => notices.push(m)))();
    expect(notices.join('\n')).toMatch(/stale lock .*not running/);
    // another host, refreshed just now: held
    await writeFile(join(store, 'shard-0.lock'), 'node-7 1234\n');
    await expect(lockShard(store, { index: 0, count: 1 })).rejects.toThrow(/pid 1234 on node-7/);
    // another host, silent for 3 minutes: stale
    const old = new Date(Date.now() - 180_000);
    await utimes(join(store, 'shard-0.lock'), old, old);
    await (await lockShard(store, { index: 0, count: 1 }, (m) => notices.push(m)))();
    expect(notices.join('\n')).toMatch(/node-7 1234, last refreshed 180 s ago/);
  });
});

describe('output-folder locks share the same mechanism', () => {
  it('a folder locked from another host is held while refreshed, and taken over once silent for 2 minutes', async () => {
    const out = await fresh();
    await writeFile(`${out}.lock`, 'node-7 1234\n');
    await expect(lockFolder(out)).rejects.toThrow(/in use by another run \(pid 1234 on node-7, lock .*\.lock\)/);
    const old = new Date(Date.now() - 180_000);
    await utimes(`${out}.lock`, old, old);
    const notices: string[] = [];
    const release = await lockFolder(out, (m) => notices.push(m));
    expect(notices.join('\n')).toMatch(/stale lock .*node-7 1234, last refreshed 180 s ago/);
    expect((await readFile(`${out}.lock`, 'utf8')).trim()).toBe(`${hostname()} ${process.pid}`);
    await release();
    expect(existsSync(`${out}.lock`)).toBe(false);
  });
});

describe('phase: cells per unit do not change the science', () => {
  it('chunk sizes 49 (one unit), 7 and 3 write bit-identical weights', async () => {
    const weights = async (chunkSize: number) => {
      const out = await fresh();
      await runExperiment(phase, { ...SHORT, chunkSize }, { out, variant: 'quick' });
      return decodeSafetensors(new Uint8Array(await readFile(join(out, 'weights.safetensors')))).tensors;
    };
    const one = await weights(49);
    for (const other of [await weights(7), await weights(3)]) {
      for (const k of Object.keys(one)) expect(Buffer.from(other[k].data.buffer).equals(Buffer.from(one[k].data.buffer)), k).toBe(true);
    }
  }, 120_000);
});
