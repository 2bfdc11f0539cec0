import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '@tms/core';
import { useWebBackend, webCandidateOrder } from '../src/index.js';
import { testGPU } from '../../engine-webgpu/test/gpu.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('useWebBackend (selection logic, run under Node)', () => {
  it('orders candidates', () => {
    expect(webCandidateOrder()).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(webCandidateOrder('webgl')).toEqual(['webgl', 'wasm', 'cpu']);
    expect(webCandidateOrder('wasm', true)).toEqual(['wasm']);
    expect(() => webCandidateOrder('metal' as never)).toThrow(/"prefer": got "metal"; allowed: one of "auto", "webgpu"/);
  });

  it('without WebGPU or a canvas falls back to wasm and says why', async () => {
    const info = await useWebBackend();
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped).toEqual([
      { name: 'webgpu', reason: 'navigator.gpu is not available (WebGPU unsupported or disabled)' },
      { name: 'webgl', reason: 'no canvas available for WebGL' },
    ]);
    expect(info.message).toMatch(/using backend wasm \(skipped webgpu: navigator\.gpu/);
  });

  it('switches at run time', async () => {
    expect((await useWebBackend({ prefer: 'cpu', strict: true })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await useWebBackend({ prefer: 'wasm', strict: true })).name).toBe('wasm');
  });
});

describe('useWebBackend with a WebGPU adapter (Dawn standing in for the browser)', () => {
  it('auto skips a software adapter, naming it; asked for by name it uses it', async (ctx) => {
    const found = await testGPU();
    if (typeof found === 'string') return ctx.skip();
    expect(found.adapter.software).toBe(true); // no GPU here: SwiftShader
    const g = globalThis as { navigator?: unknown };
    const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: found.gpu }, configurable: true, writable: true });
    try {
      const auto = await useWebBackend();
      expect(auto.name).toBe('wasm');
      expect(auto.skipped[0]).toEqual({ name: 'webgpu', reason: expect.stringMatching(/^software adapter \(google swiftshader.*\): slower than the CPU backends; ask for it by name/) });
      const named = await useWebBackend({ prefer: 'webgpu', strict: true });
      expect(named.name).toBe('webgpu');
      expect(named.adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader', software: true });
      expect(tf.getBackend()).toBe('webgpu');
    } finally {
      if (before) Object.defineProperty(globalThis, 'navigator', before);
      else delete g.navigator;
    }
  });
});

describe('tms-copy-wasm (the wasm binaries a site must serve)', () => {
  it('copies exactly the .wasm files of the installed tfjs-backend-wasm, and refuses a missing folder argument', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, readdirSync, readFileSync, symlinkSync } = await import('node:fs');
    const { createRequire } = await import('node:module');
    const { tmpdir } = await import('node:os');
    const { dirname, join } = await import('node:path');
    const { WASM_FILES } = await import('../src/index.js');
    const bin = new URL('../bin/tms-copy-wasm.mjs', import.meta.url).pathname;
    const source = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    // the list stays current with the installed backend
    expect([...WASM_FILES].sort()).toEqual(readdirSync(source).filter((f) => f.endsWith('.wasm')).sort());
    const dir = mkdtempSync(join(tmpdir(), 'tms-wasm-'));
    // as `npx tms-copy-wasm` starts it: through a symlink (node_modules/.bin/tms-copy-wasm)
    const link = join(dir, 'tms-copy-wasm');
    symlinkSync(bin, link);
    const dest = join(dir, 'public', 'wasm');
    const run = spawnSync(process.execPath, [link, dest], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(WASM_FILES.length);
    expect(readdirSync(dest).sort()).toEqual([...WASM_FILES].sort());
    for (const f of WASM_FILES) expect(readFileSync(join(dest, f)).equals(readFileSync(join(source, f)))).toBe(true);
    const usage = spawnSync(process.execPath, [bin], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: tms-copy-wasm <folder>/);
  });
});
