import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '@tms/core';
import { useWebBackend, webCandidateOrder } from '../src/index.js';

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
