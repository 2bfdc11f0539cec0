/// <reference types="@webgpu/types" />
/** What an adapter is, as reported by `describeAdapter`. */
export interface AdapterDescription {
  /** `GPUAdapterInfo.vendor`, e.g. `nvidia`, `google`. */
  vendor: string;
  /** `GPUAdapterInfo.architecture`, e.g. `hopper`, `swiftshader`. */
  architecture: string;
  /** `GPUAdapterInfo.device` (often empty in browsers). */
  device: string;
  /** `GPUAdapterInfo.description` (often empty in browsers). */
  description: string;
  /** True for a software or fallback adapter (SwiftShader, lavapipe/llvmpipe, WARP, `isFallbackAdapter`). */
  software: boolean;
  /** One line for logs, e.g. `nvidia hopper (NVIDIA H100 80GB HBM3)` or `google swiftshader (software)`. */
  label: string;
}

/** Names of software (CPU-emulated) GPUs, in adapter info or WebGL renderer strings. */
export const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|warp/i;

/**
 * Describe an adapter: vendor, architecture and whether it is a software
 * (CPU-emulated) adapter, which `auto` backend selection never prefers over
 * the CPU engines.
 *
 * @example
 * ```ts
 * const adapter = await navigator.gpu.requestAdapter();
 * describeAdapter(adapter!).label; // "nvidia hopper (NVIDIA H100 80GB HBM3)"
 * ```
 */
export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = (adapter.info ?? {}) as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const fallback = info.isFallbackAdapter === true || (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const software = fallback || SOFTWARE_RENDERER.test([vendor, architecture, device, description].join(' '));
  const name = [vendor, architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const detail = [description || device, software ? 'software' : ''].filter(Boolean).join(', ');
  return { vendor, architecture, device, description, software, label: detail ? `${name} (${detail})` : name };
}

/**
 * Why `auto` backend selection passed over a software adapter, with how to ask
 * for it anyway: the one message of `@tms/backend-node` and `@tms/backend-web`.
 *
 * @param what - the adapter's label or the WebGL renderer string
 * @param than - what it is slower than, e.g. `the CPU engines`
 * @param ask - how to ask for it by name, e.g. `prefer: 'webgpu'`
 */
export function softwareAdapterReason(what: string, than: string, ask: string): string {
  return `software adapter (${what}): slower than ${than}; ask for it by name (${ask})`;
}

/** Options of {@link requestGPUDevice}. */
export interface GPUDeviceRequest {
  /** The WebGPU entry point: default `navigator.gpu` (in Node, pass the `webgpu` package's `create([])`). */
  gpu?: GPU;
  /** Default `high-performance`. */
  powerPreference?: GPUPowerPreference;
}

/**
 * Request an adapter and a device with the adapter's largest buffer limits.
 *
 * @throws Error saying why no device could be had (no WebGPU, no adapter)
 */
export async function requestGPUDevice(request: GPUDeviceRequest = {}): Promise<{ device: GPUDevice; adapter: AdapterDescription }> {
  const gpu = request.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new Error('WebGPU is not available here (no navigator.gpu; in Node pass `gpu` from the `webgpu` package)');
  const adapter = await gpu.requestAdapter({ powerPreference: request.powerPreference ?? 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter (in Node: no Vulkan driver or ICD; see the backends guide)');
  const { limits } = adapter;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    },
  });
  return { device, adapter: describeAdapter(adapter) };
}
