/// <reference types="@webgpu/types" />
/**
 * `@tms/engine-webgpu/node`: WebGPU in Node through Dawn (the `webgpu` npm
 * package, an optional dependency with prebuilt binaries).
 *
 * @packageDocumentation
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describeAdapter, type AdapterDescription } from './adapter.js';

/** A WebGPU entry point in Node, with the adapter it gives. */
export interface NodeGPU {
  /** The entry point (what `navigator.gpu` is in a browser). */
  gpu: GPU;
  /** The default high-performance adapter. */
  adapter: AdapterDescription;
  /** The Vulkan ICD file set for it (SwiftShader's), or null when the system's drivers were used. */
  icd: string | null;
}

/** Where Debian's chromium package keeps its SwiftShader Vulkan driver. */
export const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

/**
 * Whether the Vulkan loader would find a driver of its own on Linux: an ICD
 * manifest (`*.json`) in `vulkan/icd.d` under the folders it searches
 * (`XDG_CONFIG_DIRS`, `/etc`, `XDG_DATA_HOME`, `XDG_DATA_DIRS`). Elsewhere, true.
 */
export function systemVulkanDriver(env: NodeJS.ProcessEnv = process.env, platform: string = process.platform): boolean {
  if (platform !== 'linux') return true;
  const dirs = [
    ...(env.XDG_CONFIG_DIRS || '/etc/xdg').split(':'),
    '/etc',
    env.XDG_DATA_HOME || join(homedir(), '.local/share'),
    ...(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':'),
  ];
  return dirs.some((d) => {
    try {
      return d !== '' && readdirSync(join(d, 'vulkan', 'icd.d')).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

/** Options of {@link nodeGPU}. */
export interface NodeGPUOptions {
  /**
   * When the system's Vulkan drivers give no adapter (and neither
   * `VK_ICD_FILENAMES` nor `VK_DRIVER_FILES` is set): try SwiftShader's ICD from
   * the chromium package (a software adapter). Default true.
   */
  swiftshaderFallback?: boolean;
  /** Module loader, `import()` by default. */
  importer?: (specifier: string) => Promise<unknown>;
}

/**
 * Load Dawn (the `webgpu` package), define the WebGPU globals (`GPUBufferUsage`
 * and friends) where missing, and return its entry point with the adapter it
 * gives.
 *
 * @throws Error with the reason (package not installed, no Vulkan loader, no adapter)
 *
 * @example
 * ```ts
 * const { gpu, adapter } = await nodeGPU();
 * console.log(adapter.label, adapter.software);
 * const engine = await createWebGPUEngine({ gpu });
 * ```
 */
export function nodeGPU(options: NodeGPUOptions = {}): Promise<NodeGPU> {
  // one Dawn instance per process for the default options
  if (options.importer || options.swiftshaderFallback === false) return loadNodeGPU(options);
  shared ??= loadNodeGPU(options).catch((e) => {
    shared = null;
    throw e;
  });
  return shared;
}

let shared: Promise<NodeGPU> | null = null;

async function loadNodeGPU(options: NodeGPUOptions): Promise<NodeGPU> {
  const importer = options.importer ?? ((s: string) => import(s));
  let dawn: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    dawn = (await importer('webgpu')) as typeof dawn;
  } catch (e) {
    throw new Error(`the webgpu package (Dawn) is not installed (optional: add webgpu to your project): ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const attempt = async () => {
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    return adapter ? { gpu, adapter: describeAdapter(adapter) } : null;
  };
  const pinned = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  const icd = SWIFTSHADER_ICDS.find((f) => existsSync(f));
  // without any driver Dawn prints Vulkan errors on stderr: go straight to SwiftShader then
  const skipSystem = !pinned && icd && options.swiftshaderFallback !== false && !systemVulkanDriver();
  const found = skipSystem ? null : await attempt();
  if (found) return { ...found, icd: null };
  if (!pinned && icd && options.swiftshaderFallback !== false) {
    process.env.VK_ICD_FILENAMES = icd;
    const soft = await attempt();
    if (soft) return { ...soft, icd };
    delete process.env.VK_ICD_FILENAMES;
  }
  throw new Error(
    pinned
      ? `no WebGPU adapter from the Vulkan driver in ${pinned} (is libvulkan1 installed?)`
      : `no WebGPU adapter: Dawn found no Vulkan driver${icd ? ' (SwiftShader was tried too)' : ''}; install libvulkan1 and a GPU driver, or chromium for its software (SwiftShader) driver`,
  );
}
