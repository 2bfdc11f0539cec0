/// <reference types="@webgpu/types" />
import { hiddenLayout, learningRateAt, nonFiniteRows, tiedLayout, tiedPlanUnsupported, type Engine, type EngineSession, type TrainPlan } from '@tms/core';
import { FiniteDataset, SparseFeatures, adamScalars, checkInt, checkOneOf } from '@tms/data';
import { requestGPUDevice, type AdapterDescription, type GPUDeviceRequest } from './adapter.js';
import { WORKGROUP, dispatchSize, paramCount, scratchLayout, splitInvocations, trainingModule, type KernelShape } from './wgsl.js';

/** Options of {@link createWebGPUEngine}. */
export interface WebGPUEngineOptions extends GPUDeviceRequest {
  /** A device to use instead of requesting one (its adapter is then described as `adapter`). */
  device?: GPUDevice;
  /** With `device`: the adapter it came from, for reports. */
  adapter?: AdapterDescription;
  /**
   * Where batches come from: `device` generates them on the GPU (needs a
   * `SparseFeatures` with `generator: 'philox'` and no feature sets: the same
   * batches the CPU would draw from it, per-instance `streams` included);
   * `host` samples them on the CPU and copies each to the GPU (any
   * `BatchSource`; one submission per step);
   * `auto` (default) is `device` where it can be, else `host`. Full batches of
   * a `FiniteDataset` are copied once.
   */
  data?: 'auto' | 'device' | 'host';
  /**
   * Kernel layout: `sample` (one invocation per sample does its whole forward
   * and backward pass), `split` (one kernel per stage, one invocation per
   * output: more parallel, for large models on GPUs) or `auto` (default:
   * `split` where features × hidden ≥ 1,024 on a hardware adapter). Models
   * with a ReLU hidden layer always take `split`.
   */
  path?: 'auto' | 'sample' | 'split';
  /**
   * Most steps encoded into one queue submission (1…256, default 256). The
   * engine sizes submissions to about 50 ms of GPU work each, up to this, and
   * checks for abort between them.
   */
  stepsPerSubmit?: number;
}

/** A WebGPU engine bound to one device. */
export interface WebGPUEngine extends Engine {
  /** The adapter the engine computes on. */
  readonly adapter: AdapterDescription;
  /** The device (shared by every session of this engine). */
  readonly device: GPUDevice;
  /** Destroy the device, when the engine requested it itself. */
  destroy(): void;
}

/** Largest hidden size (each invocation holds a sample's hidden vector: registers up to 64, an array beyond). */
const MAX_HIDDEN = 256;
/** Records of per-step settings in the uniform ring (one per step of a submission). */
const RING = 256;
const RECORD = 256;
/** Milliseconds of GPU work aimed at per submission. */
const SUBMIT_MS = 50;

/** How a plan's batches reach the GPU. */
type DataRoute = { kind: 'device'; source: SparseFeatures } | { kind: 'full'; data: Float32Array } | { kind: 'host' };

function dataRoute(plan: TrainPlan, mode: 'auto' | 'device' | 'host'): DataRoute | string {
  const d = plan.data;
  if (d instanceof FiniteDataset && plan.batchSize === d.size) return { kind: 'full', data: d.data };
  const philox = d instanceof SparseFeatures && d.generator === 'philox';
  if (mode === 'device' && !philox) return "data: 'device' generates batches on the GPU only from a SparseFeatures with generator 'philox'";
  if (philox && mode !== 'host') return { kind: 'device', source: d as SparseFeatures };
  return { kind: 'host' };
}

/**
 * Create the fused WebGPU training engine: one compute pass per submission
 * runs, for every step, the batch draw (Philox on the GPU), the forward pass,
 * the analytic backward pass and Adam/AdamW with its schedule, for the tied toy
 * models (x′ = act(WᵀW x + b): `LinearModel`, `ReluOutputModel`) and the models
 * with a ReLU hidden layer (h = ReLU(x W₁), x′ = ReLU(h W₂ + b):
 * `ReluHiddenModel`, `AbsModel`). The loss is read back only at logged steps and
 * the weights at `sync`. A session whose kernels do not compile on the device
 * throws when it starts. Works in browsers (`navigator.gpu`) and in Node through
 * Dawn (`@tms/backend-node`'s `webgpu` backend passes its `gpu`).
 *
 * @throws ConfigError naming a bad option and its allowed values
 * @throws Error when no WebGPU device can be had (with the reason)
 *
 * @example
 * ```ts
 * import { nodeGPU } from '@tms/engine-webgpu/node'; // Node only; browsers have navigator.gpu
 * const engine = await createWebGPUEngine({ gpu: (await nodeGPU()).gpu });
 * console.log(engine.adapter.label);
 * const data = new SparseFeatures({ instances: 7, features: 20, sparsity: 0.9, generator: 'philox' });
 * await train({ model, data, steps: 10_000, engines: [engine, autodiffEngine] });
 * ```
 */
export async function createWebGPUEngine(options: WebGPUEngineOptions = {}): Promise<WebGPUEngine> {
  // (options are checked before a device is requested)
  const mode = checkOneOf(options.data ?? 'auto', 'data', ['auto', 'device', 'host'] as const);
  const perSubmit = checkInt(options.stepsPerSubmit ?? RING, 'stepsPerSubmit', 1, RING);
  const pathOption = checkOneOf(options.path ?? 'auto', 'path', ['auto', 'sample', 'split'] as const);
  const owned = !options.device;
  const { device, adapter } = options.device
    ? { device: options.device, adapter: options.adapter ?? { vendor: '', architecture: '', device: '', description: '', software: false, label: 'a given device' } }
    : await requestGPUDevice(options);
  const modules = new Map<string, { module: GPUShaderModule; pipelines: Map<Kernel, GPUComputePipeline> }>();
  const layout = device.createBindGroupLayout({
    entries: [
      ...[0, 1, 2, 3, 4, 5].map((binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' as const } })),
      { binding: 6, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' as const } },
      { binding: 7, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' as const, hasDynamicOffset: true } },
    ],
  });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  // one module per shape (its compilation errors thrown, not left to corrupt training silently);
  // each kernel's pipeline is created when first used
  const compile = async (shape: KernelShape) => {
    const key = JSON.stringify(shape);
    let m = modules.get(key);
    if (!m) {
      const module = device.createShaderModule({ code: trainingModule(shape) });
      const errors = (await module.getCompilationInfo()).messages.filter((msg) => msg.type === 'error');
      if (errors.length) throw new Error(`WebGPU engine: the training kernels do not compile on this device: ${errors.map((e) => `${e.lineNum}:${e.linePos} ${e.message}`).join('; ')}`);
      m = { module, pipelines: new Map() };
      modules.set(key, m);
    }
    const { module, pipelines } = m;
    return (entryPoint: Kernel) => {
      let p = pipelines.get(entryPoint);
      if (!p) pipelines.set(entryPoint, (p = device.createComputePipeline({ layout: pipelineLayout, compute: { module, entryPoint } })));
      return p;
    };
  };
  const maxDispatch = device.limits.maxComputeWorkgroupsPerDimension;
  const maxBinding = device.limits.maxStorageBufferBindingSize;

  return {
    name: 'webgpu',
    adapter,
    device,
    destroy() {
      if (owned) device.destroy();
    },
    unsupported(plan) {
      const layer = layerOf(plan);
      if (typeof layer === 'string') return layer;
      const { instances: I, features: N, hidden: M } = plan.model.config;
      const route = dataRoute(plan, mode);
      if (typeof route === 'string') return route;
      const B = plan.batchSize;
      const params = paramCount({ instances: I, features: N, hidden: M, layer: layer.layer, untied: layer.layer === 'hidden' && layer.untied });
      if (Math.ceil(params / WORKGROUP) > maxDispatch) return `parameters (${params}) must be ≤ ${maxDispatch * WORKGROUP} on this device`;
      if (pathOf(plan, layer) === 'sample' && Math.ceil((I * B) / WORKGROUP) > maxDispatch) return `instances × batch (${I * B}) must be ≤ ${maxDispatch * WORKGROUP} for path 'sample'`;
      if (I * B * Math.max(N, 2 * M) * 4 > maxBinding) return `the batch (${I * B * Math.max(N, 2 * M) * 4} bytes) exceeds this device's largest storage binding (${maxBinding} bytes)`;
      return null;
    },
    async start(plan) {
      const route = dataRoute(plan, mode) as DataRoute;
      const layer = layerOf(plan) as Layer;
      return startSession(device, layout, compile, plan, route, perSubmit, pathOf(plan, layer), layer);
    },
  };

  function pathOf(plan: TrainPlan, layer: Layer): 'sample' | 'split' {
    if (layer.layer === 'hidden') return 'split';
    if (pathOption !== 'auto') return pathOption;
    const { features: N, hidden: M } = plan.model.config;
    return !adapter.software && N * M >= SPLIT_FROM ? 'split' : 'sample';
  }
}

/** Features × hidden from which `auto` takes the split path on a hardware adapter. */
const SPLIT_FROM = 1024;

const KERNELS = ['forward', 'wgrad', 'adam', 'lossReduce', 'draw', 'normalize', 'hidden', 'output', 'gback'] as const;

/** The layer a plan's model declares, as the kernels need it, or why the engine cannot train it. */
type Layer = { layer: 'tied'; relu: boolean; names: ['W', 'b'] } | { layer: 'hidden'; untied: boolean; abs: boolean; names: string[] };

/**
 * Why the WebGPU engine cannot train a plan on any device, or null when its
 * model and loss are ones it trains: a tied layout (exactly `LinearModel` or
 * `ReluOutputModel`) or a ReLU hidden layer (exactly `ReluHiddenModel` or
 * `AbsModel`), no activation penalty, hidden ≤ 256. Whether a given device
 * takes it (data source, buffer limits) is `engine.unsupported(plan)`. Tools
 * use it to tell whether a GPU would train a run, without one.
 *
 * @example
 * ```ts
 * webgpuPlanUnsupported(plan); // null for the computation experiment's |x| model
 * ```
 */
export function webgpuPlanUnsupported(plan: TrainPlan): string | null {
  const layer = layerOf(plan);
  return typeof layer === 'string' ? layer : null;
}

/** The layer of a plan the engine can train on some device, or why it cannot on any. */
function layerOf(plan: TrainPlan): Layer | string {
  const M = plan.model.config.hidden;
  if (M > MAX_HIDDEN) return `it keeps each sample's hidden vector in one invocation: hidden ≤ ${MAX_HIDDEN} (got ${M})`;
  const tied = tiedLayout(plan.model);
  if (tied) return tiedPlanUnsupported(plan) ?? { layer: 'tied', relu: tied.activation === 'relu', names: ['W', 'b'] };
  const hidden = hiddenLayout(plan.model);
  if (!hidden) {
    return 'the model declares neither a tied layout nor a ReLU hidden layer (only LinearModel, ReluOutputModel, ReluHiddenModel and AbsModel instances do; subclasses and custom models train by autodiff)';
  }
  if (plan.activationL1) return 'it has no activation-L1 penalty';
  const untied = hidden.W2 !== null;
  return { layer: 'hidden', untied, abs: hidden.target === 'abs', names: untied ? ['W1', 'W2', 'b'] : ['W', 'b'] };
}

/** A typed array as WebGPU's types want it (never backed by a SharedArrayBuffer here). */
const own = (a: Float32Array) => a as Float32Array<ArrayBuffer>;

type Kernel = (typeof KERNELS)[number];

async function startSession(
  device: GPUDevice,
  layout: GPUBindGroupLayout,
  compile: (s: KernelShape) => Promise<(k: Kernel) => GPUComputePipeline>,
  plan: TrainPlan,
  route: DataRoute,
  perSubmit: number,
  path: 'sample' | 'split',
  layer: Layer,
): Promise<EngineSession> {
  const { instances: I, features: N, hidden: M } = plan.model.config;
  const B = plan.batchSize;
  const opt = plan.optimizer;
  // wgrad runs one invocation per (instance, feature, sample range): enough ranges for ~65k invocations
  const splits = Math.max(1, Math.min(Math.ceil(B / 16), Math.ceil(65_536 / (I * N))));
  const source = route.kind === 'device' ? route.source : null;
  const shape: KernelShape = {
    instances: I,
    features: N,
    hidden: M,
    batch: B,
    splits,
    path,
    relu: layer.layer === 'tied' ? layer.relu : true,
    data: source ? 'device' : 'host',
    signed: source?.signed ?? false,
    unitNorm: source?.unitNorm ?? false,
    beta1: opt.beta1,
    beta2: opt.beta2,
    epsilon: opt.epsilon,
    ...(layer.layer === 'hidden' ? { layer: 'hidden' as const, untied: layer.untied, abs: layer.abs } : {}),
  };
  const PALL = paramCount(shape);
  const pipeline = await compile(shape);
  const L = scratchLayout(shape);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const buffer = (floats: number, extra = 0) => device.createBuffer({ size: Math.max(16, floats * 4), usage: usage | extra });
  const P = buffer(PALL);
  const MV = buffer(2 * PALL);
  const X = buffer(I * B * N);
  const HG = buffer(2 * I * B * M);
  const D = buffer(I * B * N);
  const R = buffer(L.size);
  const C = buffer(2 * I * N + 2 * I);
  const ring = device.createBuffer({ size: RING * RECORD, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const lossRead = device.createBuffer({ size: I * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  // the weights after each segment come back with its loss: a progress report's sync then costs nothing
  const paramsRead = device.createBuffer({ size: PALL * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const owned = [P, MV, X, HG, D, R, C, ring, lossRead, paramsRead];
  let latest: Float32Array | null = null;
  // the parameters, one after another in the order the kernels expect (W or W₁, W₂ when untied, b)
  const initial = await plan.model.getParams();
  const sizes = layer.names.map((name) => initial[name].data.length);
  let offset = 0;
  for (const [k, name] of layer.names.entries()) {
    device.queue.writeBuffer(P, offset * 4, own(initial[name].data));
    offset += sizes[k];
  }
  const split = (all: Float32Array) => {
    const parts: Record<string, Float32Array> = {};
    let at = 0;
    for (const [k, name] of layer.names.entries()) {
      parts[name] = all.slice(at, at + sizes[k]);
      at += sizes[k];
    }
    return parts;
  };
  // importance, probability (as f32 bits), then each instance's stream key (seed, global index)
  const consts = new Float32Array(2 * I * N + 2 * I);
  consts.set(plan.importance);
  if (source) {
    consts.set(source.probability, I * N);
    const keys = new Uint32Array(consts.buffer, 8 * I * N, 2 * I);
    for (let i = 0; i < I; i++) {
      keys[2 * i] = source.streamSeeds[i];
      keys[2 * i + 1] = source.streamIndices[i];
    }
  }
  device.queue.writeBuffer(C, 0, consts);
  if (route.kind === 'full') device.queue.writeBuffer(X, 0, own(route.data), 0, I * B * N);
  const bindGroup = device.createBindGroup({
    layout,
    entries: [P, MV, X, HG, D, R, C].map((b, binding) => ({ binding, resource: { buffer: b } })).concat([{ binding: 7, resource: { buffer: ring, size: RECORD } as GPUBufferBinding }]),
  });
  const groups = {
    forward: Math.ceil((I * B) / WORKGROUP),
    rows: Math.ceil((I * N) / WORKGROUP),
    params: Math.ceil(PALL / WORKGROUP),
  };
  const inv = splitInvocations(shape);
  const dispatch = { draw: dispatchSize(inv.draw), normalize: dispatchSize(inv.normalize), hidden: dispatchSize(inv.hidden), output: dispatchSize(inv.output) };
  const records = new ArrayBuffer(RING * RECORD);
  const rf = new Float32Array(records);
  const ru = new Uint32Array(records);
  let adamSteps = 0;
  let draw = source?.draws ?? 0;
  const hostBatch = route.kind === 'host' ? new Float32Array(I * B * N) : null;
  // steps per submission: host batches need one submission each
  const chunkMax = route.kind === 'host' ? 1 : perSubmit;
  let chunk = Math.min(chunkMax, 8);
  const adam = { beta1: opt.beta1, beta2: opt.beta2, epsilon: opt.epsilon, weightDecay: opt.weightDecay, decoupled: opt.name === 'adamw' };

  /** Encode steps `t0 … t1 − 1` (records 0 … t1 − t0 − 1); the last one also reduces its loss when `withLoss`. */
  const encode = (t0: number, t1: number, withLoss: boolean): GPUCommandBuffer => {
    for (let t = t0; t < t1; t++) {
      const r = ((t - t0) * RECORD) / 4;
      const lr = learningRateAt(plan.schedule, opt.lr, t, plan.steps);
      const a = adamScalars(++adamSteps, lr, adam);
      rf[r] = a.stepSize;
      rf[r + 1] = a.bc2;
      rf[r + 2] = a.decay;
      rf[r + 3] = a.l2;
      ru[r + 4] = draw++ >>> 0;
      ru[r + 5] = withLoss && t === t1 - 1 ? 1 : 0;
    }
    device.queue.writeBuffer(ring, 0, records, 0, (t1 - t0) * RECORD);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const run = (k: Kernel, [x, y]: [number, number]) => {
      pass.setPipeline(pipeline(k));
      pass.dispatchWorkgroups(x, y);
    };
    for (let t = t0; t < t1; t++) {
      pass.setBindGroup(0, bindGroup, [(t - t0) * RECORD]);
      if (path === 'sample') run('forward', [groups.forward, 1]);
      else {
        if (source) run('draw', dispatch.draw);
        if (source?.unitNorm) run('normalize', dispatch.normalize);
        run('hidden', dispatch.hidden);
        run('output', dispatch.output);
        run('gback', dispatch.hidden);
      }
      if (withLoss && t === t1 - 1) run('lossReduce', [I, 1]);
      run('wgrad', [groups.rows, splits]);
      run('adam', [groups.params, 1]);
    }
    pass.end();
    if (withLoss) {
      encoder.copyBufferToBuffer(R, L.lossOut * 4, lossRead, 0, I * 4);
      encoder.copyBufferToBuffer(P, 0, paramsRead, 0, PALL * 4);
    }
    return encoder.finish();
  };

  return {
    async run(from, to, signal) {
      latest = null;
      let pending: { done: Promise<undefined>; at: number; steps: number } | null = null;
      for (let t = from; t < to; ) {
        if (signal?.aborted) throw new Error('aborted');
        const t1 = Math.min(to, t + chunk);
        if (hostBatch) device.queue.writeBuffer(X, 0, own(plan.data.sample(B, hostBatch).data), 0, I * B * N);
        device.queue.submit([encode(t, t1, t1 === to)]);
        const next = { done: device.queue.onSubmittedWorkDone() as Promise<undefined>, at: performance.now(), steps: t1 - t };
        // keep one submission in flight while the next is encoded; size submissions
        // to about SUBMIT_MS each, so that an abort is seen soon on slow adapters too
        if (pending) {
          await pending.done;
          const ms = Math.max(0.01, performance.now() - pending.at);
          chunk = Math.max(1, Math.min(chunkMax, Math.round((pending.steps * SUBMIT_MS) / ms)));
        }
        pending = next;
        t = t1;
      }
      if (source) source.skip(to - from);
      await Promise.all([lossRead.mapAsync(GPUMapMode.READ), paramsRead.mapAsync(GPUMapMode.READ)]);
      const loss = new Float32Array(lossRead.getMappedRange().slice(0));
      latest = new Float32Array(paramsRead.getMappedRange().slice(0));
      lossRead.unmap();
      paramsRead.unmap();
      // WGSL lets a shader assume that no value is infinite or NaN, so a loss computed from
      // non-finite weights may come out finite: report those instances from their weights
      for (const k of nonFiniteRows(Object.values(split(latest)), I)) loss[k] = NaN;
      return loss;
    },
    async sync() {
      let all = latest;
      if (!all) {
        // (after an aborted segment: read the weights as they are)
        const encoder = device.createCommandEncoder();
        encoder.copyBufferToBuffer(P, 0, paramsRead, 0, PALL * 4);
        device.queue.submit([encoder.finish()]);
        await paramsRead.mapAsync(GPUMapMode.READ);
        all = new Float32Array(paramsRead.getMappedRange().slice(0));
        paramsRead.unmap();
      }
      const params = split(all);
      plan.model.setParams(params);
      return params;
    },
    dispose() {
      for (const b of owned) b.destroy();
    },
  };
}
