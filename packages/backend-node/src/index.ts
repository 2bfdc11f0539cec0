/**
 * `@tms/backend-node`: choose the fastest tfjs backend available in Node.
 *
 * Order: `tfjs-node-gpu` (CUDA) → `tfjs-node` (native CPU) → `wasm` (SIMD) → `cpu`.
 * `@tensorflow/tfjs-node-gpu` and `@tensorflow/tfjs-node` are optional peer
 * dependencies: installs never fail without them, and they are detected at run time.
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

/** Backends this package can select, fastest first. */
export const NODE_BACKENDS = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;

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
}

const PACKAGES: Record<NodeBackendName, string> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const TF_NAMES: Record<NodeBackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
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
  const candidates: BackendCandidate[] = nodeCandidateOrder(options.prefer, options.strict).map((name) => {
    const pkg = PACKAGES[name];
    const native = name === 'tfjs-node-gpu' || name === 'tfjs-node';
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
  // The wasm backend's Emscripten runtime adds process handlers that rethrow from
  // inside the backend and exit with code 7: take them off, so an uncaught error
  // in the program exits as Node would (code 1, with the program's own stack).
  dropNewHandlers(handlers);
  options.log?.(choice.message);
  return choice;
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
