/// <reference types="@webgpu/types" />
/**
 * `@tms/engine-webgpu`: the fused WebGPU training engine for `@tms/core`'s
 * `train()`. Per step, WGSL compute kernels draw the sparse batch on the GPU
 * (Philox4x32-10, the same batches as `SparseFeatures({ generator: 'philox' })`
 * on the CPU), run the forward pass, the analytic backward pass and
 * Adam/AdamW with its schedule; many steps go into one queue submission. It
 * trains the tied models (linear, ReLU-output) and the models with a ReLU
 * hidden layer (privileged basis, absolute value). In
 * browsers it uses `navigator.gpu`; in Node, the `webgpu` package (Dawn).
 *
 * @example
 * ```ts
 * const engine = await createWebGPUEngine(); // navigator.gpu
 * const result = await train({ model, data, steps: 10_000, engines: [engine, autodiffEngine] });
 * result.engine; // "webgpu"
 * ```
 *
 * @packageDocumentation
 */
export { createWebGPUEngine, webgpuPlanUnsupported, type WebGPUEngine, type WebGPUEngineOptions } from './engine.js';
export { SOFTWARE_RENDERER, describeAdapter, requestGPUDevice, softwareAdapterReason, type AdapterDescription, type GPUDeviceRequest } from './adapter.js';
export { PHILOX_WGSL, paramCount, trainingModule, type KernelShape } from './wgsl.js';
