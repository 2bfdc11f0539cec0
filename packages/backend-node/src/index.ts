/// <reference types="@webgpu/types" />
/**
 * `@tms/backend-node`: choose the fastest tfjs backend available in Node.
 *
 * Order: `tfjs-node-gpu` (CUDA) → `webgpu` (Dawn: Vulkan / Metal / D3D12) →
 * `tfjs-node` (native CPU) → `wasm` (SIMD) → `cpu`. `@tensorflow/tfjs-node-gpu`,
 * `@tensorflow/tfjs-node` and `webgpu` (Dawn's Node bindings) are optional peer
 * dependencies: installs never fail without them, and they are detected at run
 * time. `auto` skips a software WebGPU adapter (SwiftShader, lavapipe): it is
 * slower than the CPU engines; ask for `webgpu` by name to use it anyway.
 *
 * @example
 * ```ts
 * import { useNodeBackend } from '@tms/backend-node';
 * const info = await useNodeBackend();
 * console.error(info.message); // "tms: using backend wasm (skipped tfjs-node-gpu: not installed; ...)"
 * ```
 *
 * @packageDocumentation
 */
import { candidateOrder, selectBackend, type BackendCandidate, type BackendChoice } from '@tms/core';
import { softwareAdapterReason, type AdapterDescription } from '@tms/engine-webgpu';
import { nodeGPU } from '@tms/engine-webgpu/node';

/** Backends this package can select, fastest first. */
export const NODE_BACKENDS = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;

/** A Node backend name. */
export type NodeBackendName = (typeof NODE_BACKENDS)[number];

/** Why a native tfjs package could not be used. */
export type NativeFailure = 'not-installed' | 'binding-not-built' | 'native-libs-missing' | 'other';

/** Options of {@link useNodeBackend}. */
export interface NodeBackendOptions {
  /**
   * `auto` (default) tries every backend fastest first; a backend name is tried
   * first, then the slower ones after it in the order above.
   */
  prefer?: 'auto' | NodeBackendName;
  /** Only try `prefer`, failing instead of falling back. Default false. */
  strict?: boolean;
  /** Where to report the choice (default: nothing). Pass `console.error` to print it. */
  log?: (message: string) => void;
  /**
   * Module loader, `import()` by default. Tests inject failures here; apps can
   * use it to resolve packages from another location.
   */
  importer?: (specifier: string) => Promise<unknown>;
}

/** The result of {@link useNodeBackend}. */
export interface NodeBackendInfo extends BackendChoice {
  name: NodeBackendName;
  /**
   * With the `webgpu` backend: Dawn's entry point and its adapter, for
   * `createWebGPUEngine({ gpu })` of `@tms/engine-webgpu` (the fused GPU engine).
   */
  webgpu?: { gpu: GPU; adapter: AdapterDescription };
}

const PACKAGES: Record<NodeBackendName, string> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const TF_NAMES: Record<NodeBackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  webgpu: 'webgpu',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

/**
 * Classify an error thrown while importing `@tensorflow/tfjs-node(-gpu)`:
 * - `not-installed`: the package is absent (`ERR_MODULE_NOT_FOUND` / `MODULE_NOT_FOUND`)
 * - `binding-not-built`: installed without running its install script, so `tfjs_binding.node` is missing
 * - `native-libs-missing`: the addon exists but libtensorflow / CUDA shared libraries do not load
 * - `other`: anything else
 */
export function classifyNativeError(error: unknown): NativeFailure {
  const e = error as { code?: string; message?: string } | undefined;
  const msg = String(e?.message ?? error ?? '');
  const resolveFailed =
    e?.code === 'ERR_MODULE_NOT_FOUND' ||
    e?.code === 'MODULE_NOT_FOUND' ||
    /Cannot find (package|module)|Could not resolve|Failed to resolve/i.test(msg);
  // Only the package itself being absent counts; a missing dependency *inside* it is "other".
  if (resolveFailed && /['"]@tensorflow\/tfjs-node(-gpu)?['"]/.test(msg)) return 'not-installed';
  if (/tfjs_binding\.node/.test(msg) && /can ?not be found/i.test(msg)) return 'binding-not-built';
  if (/lib(tensorflow|cuda|cudart|cublas|cudnn|cufft|curand|cusolver|cusparse)[\w.-]*\.so/i.test(msg)) {
    return 'native-libs-missing';
  }
  return 'other';
}

/** A one-line explanation of a native-package failure, with what to do about it. */
export function explainNativeError(pkg: string, error: unknown): string {
  const kind = classifyNativeError(error);
  const first = String((error as Error)?.message ?? error).split('\n')[0];
  switch (kind) {
    case 'not-installed':
      return `not installed (optional: add ${pkg} to your project with your package manager, where its install script can download libtensorflow)`;
    case 'binding-not-built':
      return 'installed but its native addon was not built (tfjs_binding.node missing): install it with build scripts allowed and internet access to download libtensorflow';
    case 'native-libs-missing':
      return `native libraries failed to load (${first}); for the GPU build, CUDA 11.2 and cuDNN 8.1 must be on the library path`;
    default:
      return `failed to load: ${first}`;
  }
}

/** The candidate list for a preference, in the order they will be tried. */
export function nodeCandidateOrder(prefer: 'auto' | NodeBackendName = 'auto', strict = false): NodeBackendName[] {
  return candidateOrder(NODE_BACKENDS, prefer, strict);
}

/**
 * Pick and activate a tfjs backend for Node, reporting which one runs and why
 * the faster ones were skipped.
 *
 * @throws when no backend works (only possible with `strict`, or a broken install)
 */
export async function useNodeBackend(options: NodeBackendOptions = {}): Promise<NodeBackendInfo> {
  const importer = options.importer ?? ((s: string) => import(s));
  let webgpu: NodeBackendInfo['webgpu'];
  const candidates: BackendCandidate[] = nodeCandidateOrder(options.prefer, options.strict).map((name) => {
    const pkg = PACKAGES[name];
    const native = name === 'tfjs-node-gpu' || name === 'tfjs-node';
    if (name === 'webgpu') {
      return {
        name,
        load: async () => {
          webgpu = await loadWebGPU(importer, options.prefer === 'webgpu');
          return TF_NAMES[name];
        },
      };
    }
    return {
      name,
      load: async () => {
        await importer(pkg);
        return TF_NAMES[name];
      },
      explain: native ? (e: unknown) => explainNativeError(pkg, e) : undefined,
    };
  });
  const handlers = processHandlers();
  const choice = (await selectBackend(candidates)) as NodeBackendInfo;
  if (choice.name === 'webgpu') choice.webgpu = webgpu;
  // The wasm backend's Emscripten runtime adds process handlers that rethrow from
  // inside the backend and exit with code 7: take them off, so an uncaught error
  // in the program exits as Node would (code 1, with the program's own stack).
  dropNewHandlers(handlers);
  options.log?.(choice.message);
  return choice;
}

/**
 * Dawn's WebGPU for tfjs: load the `webgpu` package, refuse a software adapter
 * unless it was asked for by name, then register tfjs's WebGPU backend on it
 * (it registers only where `navigator.gpu` exists at import time).
 */
async function loadWebGPU(importer: (s: string) => Promise<unknown>, byName: boolean): Promise<NonNullable<NodeBackendInfo['webgpu']>> {
  const { gpu, adapter } = await nodeGPU({ importer });
  if (adapter.software && !byName) {
    throw new Error(softwareAdapterReason(adapter.label, 'the CPU engines', "prefer: 'webgpu', --backend webgpu"));
  }
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  if (g.navigator!.gpu !== gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  await importer(PACKAGES.webgpu);
  return { gpu, adapter };
}

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

type Handler = (...args: unknown[]) => void;
const listenersOf = (ev: string) => (process as unknown as { listeners(ev: string): Handler[] }).listeners(ev);

function processHandlers(): Map<string, Set<Handler>> {
  return new Map(PROCESS_EVENTS.map((ev) => [ev, new Set(listenersOf(ev))]));
}

function dropNewHandlers(before: Map<string, Set<Handler>>): void {
  for (const ev of PROCESS_EVENTS) {
    for (const fn of listenersOf(ev)) if (!before.get(ev)!.has(fn)) (process as unknown as { off(ev: string, fn: Handler): void }).off(ev, fn);
  }
}
