// Section 3 of the reliability probe: interruption, resume, corrupt checkpoints.
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { experiments, type ProgressSink } from '@tms/experiments';
import { useNodeBackend } from '@tms/backend-node';
import { encodeCheckpoint, readCheckpoint, runExperiment } from '../../src/index.js';
import { freshOut, probe, tms } from './probe.js';

const INTRO = { sparsities: [0, 0.9, 0.99], steps: 200, logEvery: 50, batchSize: 256, lr: 1e-2 };
const ARGS = ['--sparsities', '0,0.9,0.99', '--steps', '200', '--log-every', '50', '--batch-size', '256', '--lr', '0.01', '--quiet', '--workers', '1'];

/** Abort a run as soon as its `n`-th unit starts; returns the progress sink and the signal. */
function abortAtUnit(n: number): { progress: ProgressSink; signal: AbortSignal } {
  const controller = new AbortController();
  let units = 0;
  return {
    progress: {
      reset() {
        if (++units === n) controller.abort();
      },
      update() {},
      log() {},
    },
    signal: controller.signal,
  };
}

/** An intro run into a new folder, interrupted when its second model starts; the checkpoint folder. */
async function interrupted(): Promise<{ dir: string; ckpt: string }> {
  const dir = await freshOut();
  await expect(runExperiment(experiments.intro, INTRO, { out: dir, ...abortAtUnit(2) })).rejects.toThrow(/aborted/);
  const ckpt = join(`${dir}.partial`, '.checkpoints');
  expect(existsSync(join(ckpt, 'model-linear.safetensors'))).toBe(true);
  return { dir, ckpt };
}

let straight: Buffer | undefined;
/** weights.safetensors of an uninterrupted run. */
async function straightWeights(): Promise<Buffer> {
  if (!straight) {
    const dir = await freshOut();
    await runExperiment(experiments.intro, INTRO, { out: dir });
    straight = await readFile(join(dir, 'weights.safetensors'));
  }
  return straight;
}

describe('reliability 3: interruption and resume', () => {
  probe('63', 'intro interrupted after its first model resumes to the uninterrupted result, bit for bit', async () => {
    const { dir } = await interrupted();
    const logs: string[] = [];
    await runExperiment(experiments.intro, INTRO, { out: dir, resume: true, progress: { reset() {}, update() {}, log: (m) => logs.push(m) } });
    expect(logs).toContain('model-linear: resumed from checkpoint');
    expect(await readFile(join(dir, 'weights.safetensors'))).toEqual(await straightWeights());
    expect(existsSync(`${dir}.partial`)).toBe(false);
  });

  probe('64, 96', 'geometry in chunks of 2, interrupted after 2 chunks, resumes to the uninterrupted result', async () => {
    const config = { features: 12, hidden: 4, densityPoints: 6, chunkSize: 2, steps: 150, logEvery: 50, batchSize: 128, lr: 1e-2 };
    const dir = await freshOut();
    await expect(runExperiment(experiments.geometry, config, { out: dir, ...abortAtUnit(3) })).rejects.toThrow(/aborted/);
    expect((await readdir(join(`${dir}.partial`, '.checkpoints'))).filter((f) => f.startsWith('chunk-')).sort()).toEqual(['chunk-0.safetensors', 'chunk-2.safetensors']);
    await runExperiment(experiments.geometry, config, { out: dir, resume: true });
    const other = await freshOut();
    await runExperiment(experiments.geometry, config, { out: other });
    expect(await readFile(join(dir, 'weights.safetensors'))).toEqual(await readFile(join(other, 'weights.safetensors')));
  });

  probe('65, 66, 67, 69, 70, 71', 'a truncated, random, empty or edited checkpoint is refused (exit 2) naming the file and offering --restart', async () => {
    const edits: [string, (bytes: Buffer) => Buffer | Uint8Array][] = [
      ['truncated', (b) => b.subarray(0, Math.floor(b.length / 2))],
      ['random bytes', (b) => Buffer.from(Array.from({ length: b.length }, (_, i) => (i * 7919 + 13) % 256))],
      ['empty', () => Buffer.alloc(0)],
      // one float of the payload changed (W×10, a ragged row or another structure all change the bytes the sha-256 covers)
      ['one weight changed', (b) => {
        const c = Buffer.from(b);
        c.writeFloatLE(c.readFloatLE(c.length - 4) * 10 + 1, c.length - 4);
        return c;
      }],
      ['its structure changed', (b) => {
        const c = Buffer.from(b);
        const at = c.indexOf('"kind');
        c.write('"kinx', at);
        return c;
      }],
    ];
    for (const [what, edit] of edits) {
      const { dir, ckpt } = await interrupted();
      const file = join(ckpt, 'model-linear.safetensors');
      await writeFile(file, edit(await readFile(file)));
      const r = await tms(['run', 'intro', '--out', dir, ...ARGS, '--resume']);
      expect(r.code, what).toBe(2);
      expect(r.err, what).toMatch(new RegExp(`checkpoint ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (is corrupt|cannot be read).*; rerun with --restart to start over`));
      expect(existsSync(join(dir, 'results.json')), what).toBe(false);
      // --restart recomputes it
      expect((await tms(['run', 'intro', '--out', dir, ...ARGS, '--restart'])).code).toBe(0);
    }
  });

  probe('68', 'a corrupt manifest is refused naming the file', async () => {
    const { dir, ckpt } = await interrupted();
    await writeFile(join(ckpt, 'manifest.json'), 'garbage{');
    const r = await tms(['run', 'intro', '--out', dir, ...ARGS, '--resume']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/checkpoint .*manifest\.json is corrupt: .*rerun with --restart/);
  });

  probe('72', 'without its manifest, a run resumes through the hash in each checkpoint', async () => {
    const { dir, ckpt } = await interrupted();
    await rm(join(ckpt, 'manifest.json'));
    const logs: string[] = [];
    await runExperiment(experiments.intro, INTRO, { out: dir, resume: true, progress: { reset() {}, update() {}, log: (m) => logs.push(m) } });
    expect(logs).toContain('model-linear: resumed from checkpoint');
    expect(await readFile(join(dir, 'weights.safetensors'))).toEqual(await straightWeights());
  });

  probe('73, 75', 'a changed config, or another experiment, is refused under --resume; the checkpoints stay', async () => {
    const { dir, ckpt } = await interrupted();
    const r = await tms(['run', 'intro', '--out', dir, ...ARGS.map((a) => (a === '200' ? '300' : a)), '--resume']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/"resume".*the config, backend and engines of the interrupted run.*rerun with --restart/);
    const s = await tms(['run', 'sae', '--out', dir, '--variant', 'quick', '--resume', '--quiet']);
    expect(s.code).toBe(2);
    expect(existsSync(join(ckpt, 'model-linear.safetensors'))).toBe(true);
  });

  probe('74', 'the same config written another way resumes', async () => {
    const { dir } = await interrupted();
    const logs: string[] = [];
    const spelled = { ...INTRO, models: ['linear', 'relu-output'] as ('linear' | 'relu-output')[], features: 20 };
    await runExperiment(experiments.intro, spelled, { out: dir, resume: true, progress: { reset() {}, update() {}, log: (m) => logs.push(m) } });
    expect(logs).toContain('model-linear: resumed from checkpoint');
  });

  probe('76', 'a run interrupted on one backend is not resumed on another', async () => {
    const { dir } = await interrupted();
    await useNodeBackend({ prefer: 'cpu' });
    try {
      await expect(runExperiment(experiments.intro, INTRO, { out: dir, resume: true })).rejects.toThrow(/backend "wasm".*this run: backend "cpu"/);
    } finally {
      await useNodeBackend({ prefer: 'wasm' });
    }
  });

  probe('77, P4', 'checkpoints keep every float exactly: NaN, ±Infinity, −0, float32 and float64 values', async () => {
    const value = {
      W: [[NaN, 1.5, -0, Infinity], [-Infinity, 2 ** -140, 3.4e38, 0.1]],
      loss: [0.1, 1 / 3, NaN, -0],
      f32: Float32Array.from([NaN, -0, 1e-45, Infinity]),
      f64: Float64Array.from([Math.PI, NaN, -0]),
      name: 'relu-output',
      steps: 10,
    };
    const dir = await freshOut();
    const file = `${dir}.safetensors`;
    await writeFile(file, encodeCheckpoint(value, 'abcd1234'));
    const back = await readCheckpoint<typeof value>(file, 'abcd1234');
    expect(back.status).toBe('ok');
    if (back.status !== 'ok') return;
    expect(back.value.W[0][0]).toBeNaN();
    expect(Object.is(back.value.W[0][2], -0)).toBe(true);
    expect(back.value.W[1]).toEqual([-Infinity, 2 ** -140, 3.4e38, 0.1]);
    expect(back.value.loss[1]).toBe(1 / 3);
    expect(Object.is(back.value.loss[3], -0)).toBe(true);
    expect(back.value.f32).toEqual(value.f32);
    expect(back.value.f64).toEqual(value.f64);
    expect(back.value.name).toBe('relu-output');
    expect((await readCheckpoint(file, 'other')).status).toBe('other-run');
  });
});
