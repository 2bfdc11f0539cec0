import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '@tms/core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NodeGPU } from '@tms/engine-webgpu/node';
import { testGPU } from '../../engine-webgpu/test/gpu.js';
import { nodeCandidateOrder as candidateOrder, classifyNativeError, explainNativeError, useNodeBackend } from '../src/index.js';

const notFound = (pkg: string) =>
  Object.assign(new Error(`Cannot find package '${pkg}' imported from /x/index.js`), { code: 'ERR_MODULE_NOT_FOUND' });
const bindingMissing = () =>
  new Error(
    'The Node.js native addon module (tfjs_binding.node) can not be found at path: /n/lib/napi-v8/tfjs_binding.node. \nPlease run command ...',
  );
const cudaMissing = () => new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');

/** An importer where the native packages fail in the given ways and wasm/cpu load for real. */
function importer(failures: Record<string, () => Error>) {
  return async (spec: string) => {
    const f = failures[spec];
    if (f) throw f();
    return import(spec);
  };
}

const found = await testGPU();
if (typeof found === 'string') console.warn(`WebGPU tests skipped: ${found}`);

afterEach(async () => {
  await tf.setBackend('cpu');
});

describe('classifying native tfjs failures', () => {
  it('recognises each failure kind', () => {
    expect(classifyNativeError(notFound('@tensorflow/tfjs-node-gpu'))).toBe('not-installed');
    expect(classifyNativeError(Object.assign(new Error("Cannot find module '@tensorflow/tfjs-node'"), { code: 'MODULE_NOT_FOUND' }))).toBe(
      'not-installed',
    );
    expect(classifyNativeError(bindingMissing())).toBe('binding-not-built');
    expect(classifyNativeError(cudaMissing())).toBe('native-libs-missing');
    expect(classifyNativeError(new Error('something else'))).toBe('other');
    // a missing dependency *inside* the package is not "not installed"
    expect(classifyNativeError(Object.assign(new Error("Cannot find module 'adm-zip'"), { code: 'MODULE_NOT_FOUND' }))).toBe('other');
  });

  it('classifies the real import failure on this machine (package absent)', async () => {
    let error: unknown;
    try {
      await import('@tensorflow/tfjs-node-gpu' as string);
    } catch (e) {
      error = e;
    }
    expect(error).toBeDefined();
    expect(classifyNativeError(error)).toBe('not-installed');
  });

  it('explains what to do', () => {
    expect(explainNativeError('@tensorflow/tfjs-node-gpu', bindingMissing())).toMatch(/native addon was not built/);
    expect(explainNativeError('@tensorflow/tfjs-node-gpu', cudaMissing())).toMatch(/CUDA/);
    expect(explainNativeError('@tensorflow/tfjs-node-gpu', notFound('@tensorflow/tfjs-node-gpu'))).toMatch(/not installed/);
  });
});

describe('useNodeBackend fallback order', () => {
  it('orders candidates by preference', () => {
    expect(candidateOrder()).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(candidateOrder('tfjs-node')).toEqual(['tfjs-node', 'wasm', 'cpu']);
    expect(candidateOrder('wasm', true)).toEqual(['wasm']);
    expect(() => candidateOrder('cuda' as never)).toThrow(/"prefer".*"auto", "tfjs-node-gpu", "webgpu", "tfjs-node", "wasm", "cpu"/);
  });

  it('falls back to wasm when the native packages are missing or unbuilt, saying why', async () => {
    const logs: string[] = [];
    const info = await useNodeBackend({
      importer: importer({
        '@tensorflow/tfjs-node-gpu': bindingMissing,
        '@tensorflow/tfjs-node': () => notFound('@tensorflow/tfjs-node'),
      }),
      log: (m) => logs.push(m),
    });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped.map((s) => s.name)).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
    expect(info.skipped[0].reason).toMatch(/native addon was not built/);
    expect(info.skipped[2].reason).toMatch(/not installed/);
    expect(logs[0]).toMatch(/using backend wasm.*tfjs-node-gpu: installed but its native addon was not built/);
  });

  it('uses tfjs-node-gpu when it loads and registers its backend', async () => {
    const info = await useNodeBackend({
      importer: async (spec) => {
        if (spec === '@tensorflow/tfjs-node-gpu') {
          // stand-in for the real addon: registers a backend under tfjs-node's name
          tf.registerBackend('tensorflow', () => new MathBackendCPU(), 0);
          return {};
        }
        throw new Error('should not be reached');
      },
    });
    expect(info.name).toBe('tfjs-node-gpu');
    expect(info.tfBackend).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(info.skipped).toEqual([]);
    tf.removeBackend('tensorflow');
  });

  it('falls back to cpu when wasm fails too', async () => {
    const info = await useNodeBackend({
      importer: importer({
        '@tensorflow/tfjs-node-gpu': cudaMissing,
        '@tensorflow/tfjs-node': bindingMissing,
        '@tensorflow/tfjs-backend-wasm': () => new Error('WebAssembly unavailable'),
      }),
    });
    expect(info.name).toBe('cpu');
    expect(info.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['tfjs-node-gpu', expect.stringMatching(/native libraries failed to load/)],
      ['webgpu', expect.stringMatching(/software adapter|no WebGPU adapter|not installed/)],
      ['tfjs-node', expect.stringMatching(/native addon was not built/)],
      ['wasm', 'WebAssembly unavailable'],
    ]);
  });

  it('in strict mode fails with every reason instead of falling back', async () => {
    await expect(
      useNodeBackend({ prefer: 'tfjs-node-gpu', strict: true, importer: importer({ '@tensorflow/tfjs-node-gpu': cudaMissing }) }),
    ).rejects.toThrow(/no usable tfjs backend: tfjs-node-gpu: native libraries failed to load \(libcudart/);
  });

  it('honours an explicit preference with the real packages', async () => {
    expect((await useNodeBackend({ prefer: 'cpu' })).name).toBe('cpu');
    const auto = await useNodeBackend();
    expect(auto.name).toBe('wasm');
    expect(auto.skipped.map((s) => s.name)).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
    expect(auto.skipped[0].reason).toMatch(/not installed/);
  });
});

describe('the webgpu backend (Dawn)', () => {
  it('says so when the webgpu package is missing', async () => {
    const info = await useNodeBackend({ importer: importer({ webgpu: () => notFound('webgpu') }) });
    expect(info.skipped.find((s) => s.name === 'webgpu')?.reason).toMatch(/webgpu package \(Dawn\) is not installed/);
  });

  it.skipIf(typeof found === 'string')('auto skips a software adapter with the reason; asked for by name, it runs tfjs on it', async () => {
    const gpu = found as NodeGPU;
    expect(gpu.adapter.software).toBe(true); // this machine has no GPU: SwiftShader
    const auto = await useNodeBackend();
    expect(auto.name).toBe('wasm');
    expect(auto.skipped.find((s) => s.name === 'webgpu')?.reason).toMatch(/software adapter \(.*swiftshader.*\): slower than the CPU engines; ask for it by name/);
    const named = await useNodeBackend({ prefer: 'webgpu', strict: true });
    expect(named.name).toBe('webgpu');
    expect(named.webgpu?.adapter).toMatchObject({ software: true, architecture: 'swiftshader' });
    expect(tf.getBackend()).toBe('webgpu');
    const y = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
    expect(Array.from(await y.data())).toEqual([19, 22, 43, 50]);
    y.dispose();
  });
});
