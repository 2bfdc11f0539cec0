// Section 2 of the reliability probe: resource abuse. Sizes that cannot fit are
// refused before anything is allocated; Ctrl-C and SIGTERM stop any run at once.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { experiments, resolveConfig } from '@tms/experiments';
import { runExperiment } from '../../src/index.js';
import { expectRefused, freshOut, probe, spawnTms, until } from './probe.js';

/** `tms run intro` into `dir`, sent SIGINT `afterMs` after it started training; how it ended and how long after the signal. */
async function interruptRun(dir: string, args: string[], afterMs: number) {
  const run = spawnTms(['run', 'intro', '--out', dir, ...args, '--quiet']);
  await until(() => existsSync(join(`${dir}.partial`, '.checkpoints', 'manifest.json')), 60_000, 'the run to start');
  await new Promise((r) => setTimeout(r, afterMs));
  const sent = Date.now();
  run.child.kill('SIGINT');
  const end = await run.done;
  return { end, ms: Date.now() - sent };
}

describe('reliability 2: resource abuse', () => {
  probe('57', 'intro 4096 × 4096 at batch 10⁶ is refused up front, naming batchSize, with nothing allocated or written', async () => {
    const dir = await freshOut();
    const before = process.memoryUsage().rss;
    await expectRefused(
      ['run', 'intro', '--out', dir, '--features', '4096', '--hidden', '4096', '--batch-size', '1000000'],
      /"batchSize": got 1000000; allowed: a smaller value: training would need one tensor of 28672000000 values, more than an array may hold .*; lower batchSize, features or hidden/,
      dir,
    );
    expect(process.memoryUsage().rss - before).toBeLessThan(200e6);
  });

  probe('58', 'geometry 4096 × 1024, 200 points, chunks of 1000 at batch 10⁶ is refused up front', async () => {
    const dir = await freshOut();
    await expectRefused(
      ['run', 'geometry', '--out', dir, '--features', '4096', '--hidden', '1024', '--density-points', '200', '--chunk-size', '1000', '--batch-size', '1000000'],
      /"batchSize": got 1000000; allowed: a smaller value/,
      dir,
    );
  });

  probe('57', 'the budget is stated and --max-memory moves it both ways', async () => {
    const dir = await freshOut();
    // 7 × 20 × 5 at batch 1024: about 5.7 MB
    await expectRefused(['run', 'intro', '--out', dir, '--max-memory', '1MB'], /about 5\.75 MB for 7 instances × 20 features × 5 hidden at batch 1024, more than the budget --max-memory \(1\.00 MB\)/, dir);
    await expectRefused(['run', 'intro', '--out', dir, '--max-memory', 'lots'], /"maxMemory": got "lots"; allowed: a size in bytes, or with a unit/, dir);
    // a budget that holds it lets the library run
    const config = resolveConfig(experiments.intro, { models: ['relu-output'], sparsities: [0], steps: 2, logEvery: 1 });
    await expect(runExperiment(experiments.intro, config, { out: dir, maxMemory: 6e6 })).resolves.toBeTruthy();
  });

  probe('59', 'Ctrl-C stops a run whose single step takes seconds (1024 × 1024 at batch 8192) at once', async () => {
    const dir = await freshOut();
    const { end, ms } = await interruptRun(dir, ['--features', '1024', '--hidden', '1024', '--batch-size', '8192', '--models', 'relu-output', '--workers', '1', '--max-memory', '1TB'], 1500);
    expect(end.code).toBe(130);
    expect(ms).toBeLessThan(5000);
    expect(end.err).toMatch(/interrupted by SIGINT; finished parts are saved in .*\.partial — rerun with --resume to continue/);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  probe('60', 'Ctrl-C during a long run of a tiny model exits 130 at once', async () => {
    const dir = await freshOut();
    const { end, ms } = await interruptRun(dir, ['--steps', '10000000', '--models', 'relu-output', '--sparsities', '0'], 500);
    expect(end.code).toBe(130);
    expect(ms).toBeLessThan(3000);
  });

  probe('61', 'SIGTERM after the first unit exits 143 with a message; --resume then gives the uninterrupted result bit for bit', async () => {
    const args = ['--variant', 'quick', '--sparsities', '0,0.9,0.99', '--quiet'];
    const dir = await freshOut();
    const run = spawnTms(['run', 'intro', '--out', dir, ...args]);
    await until(() => existsSync(join(`${dir}.partial`, '.checkpoints', 'model-linear.safetensors')), 120_000, 'the first unit');
    run.child.kill('SIGTERM');
    const end = await run.done;
    expect(end.code).toBe(143);
    expect(end.err).toMatch(/interrupted by SIGTERM/);
    const resumed = spawnTms(['run', 'intro', '--out', dir, ...args, '--resume']);
    expect((await resumed.done).code).toBe(0);
    const straight = await freshOut();
    expect((await spawnTms(['run', 'intro', '--out', straight, ...args]).done).code).toBe(0);
    expect(await readFile(join(dir, 'weights.safetensors'))).toEqual(await readFile(join(straight, 'weights.safetensors')));
  });
});
