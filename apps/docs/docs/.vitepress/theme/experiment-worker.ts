// Web Worker of the experiment pages: runs an experiment of @tms/experiments off the
// main thread, through the same code path as the CLI (resolveConfig → run), with the
// fused engine on one Web Worker per core for the tied models (as the CLI uses worker
// threads), and autodiff on tfjs-wasm for the others. With `gpu`, the tied models train on
// the fused WebGPU engine (batches drawn on the GPU) and the others by autodiff on tfjs-webgpu.
import { autodiffEngine, type Engine } from '@tms/core';
import { useWebBackend } from '@tms/backend-web';
import { fusedEngine } from '@tms/engine-fused';
import { webWorkerFusedEngine } from '@tms/engine-fused/web';
import { createWebGPUEngine } from '@tms/engine-webgpu';
import FusedWorker from '@tms/engine-fused/web-worker?worker';
import { createRunContext, getExperiment, resolveConfig } from '@tms/experiments';

/** What the page asks for. */
export interface WorkerRequest {
  name: string;
  variant: string;
  input: Record<string, unknown>;
  wasmPaths: string;
  /** Train on the GPU: the WebGPU engine, tfjs-webgpu for the rest. */
  gpu?: boolean;
}

/** What the worker sends back. */
export type WorkerMessage =
  | { type: 'backend'; name: string; message: string; adapter?: string }
  | { type: 'progress'; label: string; done: number; total: number; extra?: string }
  | { type: 'engines'; engines: string[] }
  | { type: 'done'; results: Record<string, unknown>; figures: Record<string, unknown>; headline: Record<string, number>; seconds: number; engines: string[] }
  | { type: 'error'; message: string };

const post = (m: WorkerMessage) => (self as unknown as Worker).postMessage(m);
let label = '';

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const { name, variant, input, wasmPaths, gpu } = e.data;
  try {
    const exp = getExperiment(name);
    if (!exp) throw new Error(`unknown experiment ${name}`);
    const config = resolveConfig(exp, input as never, variant);
    const backend = await useWebBackend({ prefer: gpu ? 'webgpu' : 'wasm', strict: gpu, wasmPaths });
    const gpuEngine = gpu ? await createWebGPUEngine() : null;
    post({ type: 'backend', name: backend.name, message: backend.message, adapter: gpuEngine?.adapter.label });
    const t0 = performance.now();
    // which engines trained something, shown on the page
    const used = new Set<string>();
    const track = (e: Engine): Engine => ({
      name: e.name,
      unsupported: (p) => e.unsupported(p),
      start: (p) => {
        used.add(e.name);
        post({ type: 'engines', engines: [...used] });
        return e.start(p);
      },
    });
    const engines = (gpuEngine ? [gpuEngine, autodiffEngine] : [webWorkerFusedEngine({ createWorker: () => new FusedWorker() }), fusedEngine, autodiffEngine]).map(track);
    const ctx = createRunContext({
      engines,
      generator: gpuEngine ? 'philox' : undefined,
      progress: {
        reset: (l) => (label = l),
        update: (done, total, extra) => post({ type: 'progress', label, done, total, extra }),
        log: () => {},
      },
    });
    const out = await exp.run(config, ctx);
    post({
      type: 'done',
      results: out.results,
      figures: out.figures,
      headline: exp.headline?.(out.results as never) ?? {},
      seconds: (performance.now() - t0) / 1000,
      engines: [...used],
    });
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
};
