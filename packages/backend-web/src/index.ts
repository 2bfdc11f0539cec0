/**
 * `@tms/backend-web`: choose the fastest tfjs backend available in a browser.
 *
 * Order: `webgpu` → `webgl` → `wasm` → `cpu`. Each backend package is imported
 * lazily, so a page only loads what it uses. `auto` skips a software GPU
 * (SwiftShader, llvmpipe, a fallback adapter), which is slower than the CPU
 * backends; ask for it by name to use it anyway.
 *
 * @example
 * ```ts
 * import { useWebBackend } from '@tms/backend-web';
 * const info = await useWebBackend({ wasmPaths: '/wasm/' });
 * status.textContent = info.message;
 * // later, let the user switch:
 * await useWebBackend({ prefer: 'wasm', strict: true });
 * ```
 *
 * @packageDocumentation
 */
/// <reference types="@webgpu/types" />
import { candidateOrder, selectBackend, type BackendCandidate, type BackendChoice } from '@tms/core';
import { SOFTWARE_RENDERER, describeAdapter, softwareAdapterReason, type AdapterDescription } from '@tms/engine-webgpu';

/**
 * The WebAssembly binaries the `wasm` backend fetches from `wasmPaths`, all
 * three in `@tensorflow/tfjs-backend-wasm/dist/` (which one loads depends on
 * the browser's SIMD and threads support). Copy them where your site serves
 * `wasmPaths`, e.g. with this package's `tms-copy-wasm <folder>` command.
 */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/** Backends this package can select, fastest first. */
export const WEB_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/** A browser backend name. */
export type WebBackendName = (typeof WEB_BACKENDS)[number];

/** Options of {@link useWebBackend}. */
export interface WebBackendOptions {
  /** `auto` (default) tries fastest first; a name is tried first, then the slower ones after it. */
  prefer?: 'auto' | WebBackendName;
  /** Only try `prefer`. Default false. */
  strict?: boolean;
  /** URL prefix where the tfjs wasm binaries ({@link WASM_FILES}) are served (needed by bundlers), e.g. `/wasm/`. */
  wasmPaths?: string;
  /** Where to report the choice. */
  log?: (message: string) => void;
  /** Module loader; tests and custom bundling can replace it. */
  importer?: (name: WebBackendName) => Promise<unknown>;
}

/** The result of {@link useWebBackend}. */
export interface WebBackendInfo extends BackendChoice {
  name: WebBackendName;
  /** With `webgpu`: the adapter (for `createWebGPUEngine` of `@tms/engine-webgpu`, which uses `navigator.gpu`). */
  adapter?: AdapterDescription;
}

const softwareSkip = (what: string) => new Error(softwareAdapterReason(what, 'the CPU backends', "prefer: 'webgpu' or 'webgl'"));

/** The WebGL renderer string, where the page may read it. */
function webglRenderer(): string {
  try {
    const canvas = typeof document !== 'undefined' ? document.createElement('canvas') : new OffscreenCanvas(1, 1);
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    return ext ? String(gl!.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : '';
  } catch {
    return '';
  }
}

async function defaultImporter(name: WebBackendName, wasmPaths: string | undefined, byName: boolean, found: { adapter?: AdapterDescription }): Promise<unknown> {
  switch (name) {
    case 'webgpu': {
      const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
      if (!nav?.gpu) throw new Error('navigator.gpu is not available (WebGPU unsupported or disabled)');
      const adapter = await nav.gpu.requestAdapter();
      if (!adapter) throw new Error('no WebGPU adapter available');
      const described = describeAdapter(adapter);
      if (described.software && !byName) throw softwareSkip(described.label);
      found.adapter = described;
      return import('@tensorflow/tfjs-backend-webgpu');
    }
    case 'webgl': {
      if (typeof document === 'undefined' && typeof OffscreenCanvas === 'undefined') {
        throw new Error('no canvas available for WebGL');
      }
      const renderer = byName ? '' : webglRenderer();
      if (SOFTWARE_RENDERER.test(renderer)) throw softwareSkip(renderer);
      return import('@tensorflow/tfjs-backend-webgl');
    }
    case 'wasm': {
      const mod = await import('@tensorflow/tfjs-backend-wasm');
      if (wasmPaths) mod.setWasmPaths(wasmPaths);
      return mod;
    }
    case 'cpu':
      return import('@tensorflow/tfjs-backend-cpu');
  }
}

/** The candidate list for a preference, in the order they will be tried. */
export function webCandidateOrder(prefer: 'auto' | WebBackendName = 'auto', strict = false): WebBackendName[] {
  return candidateOrder(WEB_BACKENDS, prefer, strict);
}

/**
 * Pick and activate a tfjs backend in the browser, reporting which one runs and
 * why the faster ones were skipped. Call again with another `prefer` to switch
 * at run time; models created before keep working (tfjs moves their data).
 */
export async function useWebBackend(options: WebBackendOptions = {}): Promise<WebBackendInfo> {
  const found: { adapter?: AdapterDescription } = {};
  const importer = options.importer ?? ((n: WebBackendName) => defaultImporter(n, options.wasmPaths, options.prefer === n, found));
  const candidates: BackendCandidate[] = webCandidateOrder(options.prefer, options.strict).map((name) => ({
    name,
    load: async () => {
      await importer(name);
      return name;
    },
  }));
  const choice = (await selectBackend(candidates)) as WebBackendInfo;
  if (choice.name === 'webgpu' && found.adapter) choice.adapter = found.adapter;
  options.log?.(choice.message);
  return choice;
}
