#!/usr/bin/env node
// `pnpm bench`: ms per training step of our engines against a PyTorch reference,
// in interleaved rounds (ours, torch, ours, torch, …) so that both sides see the
// same machine state; per config the median ratio with its min–max over rounds,
// the per-step floor the hardware allows, and where our time goes. Appends each
// run to bench/out/history.jsonl and writes bench/out/latest.json.
//
// Options: --quick (2 short rounds: indicative only), --rounds R (default 5),
// --only a,b (configs), --no-torch, --threads N (torch threads and our workers;
// default: all cores), --no-install (do not install OpenBLAS for torch),
// --no-gpu (no WebGPU rows). TMS_BENCH_PYTHON picks the Python that has torch
// (default /usr/bin/python3).
//
// WebGPU rows (when Dawn finds an adapter; on machines without a GPU that is
// SwiftShader, a software adapter): the fused WebGPU engine, interleaved with
// the others, and tfjs-webgpu autodiff on the same adapter, with their ratio.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { autodiffEngine, createModel, tf, train } from '@tms/core';
import { SparseFeatures, adamStep } from '@tms/data';
import { hiddenActivations, trainSparseAutoencoder } from '@tms/analysis';
import { useNodeBackend } from '@tms/backend-node';
import { FusedHiddenTrainer, FusedTiedTrainer, fusedEngine, fusedWasmAvailable } from '@tms/engine-fused';
import { trainParallel } from '@tms/engine-fused/node';
import { createWebGPUEngine } from '@tms/engine-webgpu';
import { nodeGPU } from '@tms/engine-webgpu/node';

const here = new URL('.', import.meta.url).pathname;
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : fallback);
const quick = flag('--quick');
const threads = Number(value('--threads', cpus().length));
const rounds = Number(value('--rounds', quick ? 2 : 5));
const only = value('--only', '')?.split(',').filter(Boolean) ?? [];
if (!(rounds >= 1)) throw new Error('--rounds must be ≥ 1');
const spec = JSON.parse(readFileSync(join(here, 'configs.json'), 'utf8'));
const B = spec.batchSize;
const configs = spec.configs.filter((c) => !only.length || only.includes(c.name));
if (quick) for (const c of configs) c.steps = Math.max(1, Math.ceil(c.steps / 4));
const log = (s) => process.stderr.write(s + '\n');

// ---------- statistics ----------

/** Median, min and max of a list of numbers. */
function spread(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1], n: s.length };
}

/** Multiply-adds ×2 per step of the dense computation, and the bytes it must move at least. */
function work(c) {
  if (c.kind === 'sae') {
    const { inputDim: m, dictionarySize: d } = c;
    const params = 2 * d * m + d + m;
    // encode, decode, and three gradient products: 2 flops per multiply-add
    return { flops: 10 * B * d * m + 10 * params, bytes: 4 * (B * m * 2 + params * 8) };
  }
  const { instances: I, features: n, hidden: m } = c;
  const params = I * ((c.kind === 'abs' ? 2 : 1) * n * m + n);
  // h = xW, pre = hWᵀ, dh = gW, gW = gᵀh + xᵀdh: five products of B·n·m multiply-adds per instance
  // (abs: h = xW₁, pre = hW₂, gW₂ = hᵀg, dh = gW₂ᵀ, gW₁ = xᵀdh, the same five)
  return { flops: 10 * I * B * n * m + 10 * params, bytes: 4 * (I * B * n * 2 + params * 8) };
}

/** The machine's copy bandwidth in bytes per second (best of 5 copies of 64 MB). */
function memoryBandwidth() {
  const a = new Float32Array(16 << 20).fill(1);
  const b = new Float32Array(16 << 20);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    b.set(a);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * a.byteLength) / (best / 1000);
}

// ---------- ours ----------

const featureProbability = (c) => Array.from({ length: c.instances }, (_, k) => new Array(c.features).fill(c.pMin ** (k / Math.max(1, c.instances - 1))));
const importanceOf = (c) => Array.from({ length: c.features }, (_, j) => c.importanceBase ** j);
const state = new Map();

/** ms per step of one round of `steps` on one of our engines (the first call per config and engine also warms up). */
async function ours(c, engine, steps) {
  if (c.kind === 'sae') return sae(c, steps);
  const data = { instances: c.instances, features: c.features, featureProbability: featureProbability(c), signed: c.kind === 'abs', seed: 1 };
  const kind = c.kind === 'abs' ? 'abs' : 'relu-output';
  if (engine === 'workers') {
    // one run per round, timed from the end of its warm-up segment (worker start-up excluded)
    const model = createModel({ kind, instances: c.instances, features: c.features, hidden: c.hidden, seed: 0 });
    const warm = c.warmup;
    let t0 = 0;
    await trainParallel({
      model,
      data,
      importance: importanceOf(c),
      batchSize: B,
      workers: threads,
      logEvery: warm,
      steps: warm + steps,
      onProgress: (p) => {
        if (p.step === warm) t0 = performance.now();
      },
    });
    const ms = (performance.now() - t0) / steps;
    model.dispose();
    return ms;
  }
  const key = `${c.name}/${engine}`;
  if (!state.has(key)) {
    const model = createModel({ kind, instances: c.instances, features: c.features, hidden: c.hidden, seed: 0 });
    const chosen = engine === 'fused' ? fusedEngine : engine === 'webgpu' ? gpu.engine : autodiffEngine;
    // the WebGPU engine draws its batches on the GPU (Philox)
    const source = () => new SparseFeatures({ ...data, generator: engine === 'webgpu' ? 'philox' : 'xoshiro' });
    const s = { model, name: chosen.name, run: (k) => train({ model, data: source(), importance: importanceOf(c), batchSize: B, engines: [chosen], logEvery: 1e9, steps: k }) };
    await s.run(c.warmup);
    state.set(key, s);
  }
  const s = state.get(key);
  const r = await s.run(steps);
  // a declined plan falls back to autodiff: never report that time as the engine's
  if (r.engine !== s.name) throw new Error(`bench ${c.name}: ${engine} declined the plan (${JSON.stringify(r.skipped)})`);
  return (1000 * r.seconds) / steps;
}

/** ms per step of the sparse autoencoder of @tms/analysis on a toy model's hidden activations. */
async function sae(c, steps) {
  const n = c.features;
  const W = Array.from({ length: n }, (_, i) => Array.from({ length: c.inputDim }, (_, j) => Math.sin(1 + i * 7 + j * 3) * 0.5));
  const source = new SparseFeatures({ instances: 1, features: n, sparsity: c.sparsity, seed: 3 });
  const xs = new Float32Array(B * n);
  const sample = (batch, out) => hiddenActivations(W, source.sample(batch, xs).data, out.subarray(0, batch * c.inputDim));
  const opts = { inputDim: c.inputDim, dictionarySize: c.dictionarySize, l1: c.l1, lr: c.lr, batchSize: B, resampleEvery: 0 };
  trainSparseAutoencoder(sample, { ...opts, steps: c.warmup, logEvery: c.warmup });
  const t0 = performance.now();
  trainSparseAutoencoder(sample, { ...opts, steps, logEvery: steps });
  return (performance.now() - t0) / steps;
}

/** Where one thread's step goes: sampling, gradients (forward + backward), Adam. */
function profile(c, steps) {
  const I = c.instances;
  const n = c.features;
  const m = c.hidden;
  const data = new SparseFeatures({ instances: I, features: n, featureProbability: featureProbability(c), signed: c.kind === 'abs', seed: 1 });
  const W = new Float32Array(I * n * m).map((_, i) => Math.sin(i) * 0.3);
  const imp = Float32Array.from({ length: I * n }, (_, i) => c.importanceBase ** (i % n));
  const optimizer = { name: 'adam', lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
  const common = { instances: I, features: n, hidden: m, b: new Float32Array(I * n), importance: imp, optimizer };
  const trainer =
    c.kind === 'abs'
      ? new FusedHiddenTrainer({ ...common, W1: W, W2: new Float32Array(I * m * n).map((_, i) => Math.cos(i) * 0.3), target: 'abs' })
      : new FusedTiedTrainer({ ...common, activation: 'relu', W });
  const buffer = trainer.batchBuffer(B);
  // Adam alone, on as many parameters as the model has
  const P = I * ((c.kind === 'abs' ? 2 : 1) * n * m + n);
  const p = new Float32Array(P);
  const g = new Float32Array(P).fill(1e-3);
  const mm = new Float32Array(P);
  const vv = new Float32Array(P);
  const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false };
  let tSample = 0;
  let tTrain = 0;
  let tAdam = 0;
  for (let s = 0; s < steps + 3; s++) {
    const t0 = performance.now();
    const x = data.sample(B, buffer).data;
    const t1 = performance.now();
    trainer.train(x, B, 1e-3);
    const t2 = performance.now();
    adamStep(p, mm, vv, g, s + 1, 1e-3, adam, 0, P);
    const t3 = performance.now();
    if (s < 3) continue;
    tSample += t1 - t0;
    tTrain += t2 - t1;
    tAdam += t3 - t2;
  }
  return { sample: tSample / steps, gradients: (tTrain - tAdam) / steps, adam: tAdam / steps };
}

// ---------- torch ----------

/** The PyTorch reference as a server (bench/torch_ref.py): `info()`, `time(config, variant, steps)`. */
function startTorch() {
  if (flag('--no-torch')) return { missing: 'skipped (--no-torch)' };
  const py = process.env.TMS_BENCH_PYTHON ?? '/usr/bin/python3';
  if (spawnSync(py, ['-c', 'import torch']).status !== 0) {
    return { missing: 'PyTorch is not installed for /usr/bin/python3: `apt-get install python3-torch libopenblas0-openmp`' };
  }
  const child = spawn(py, [join(here, 'torch_ref.py')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, TMS_BENCH_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
  });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()?.(JSON.parse(l)));
  // a reference that dies fails the bench at once, not at the end
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w({ error: `bench/torch_ref.py exited with code ${code}` });
  });
  const ask = (msg) =>
    new Promise((resolve, reject) => {
      waiting.push((r) => (r.error ? reject(new Error(r.error)) : resolve(r)));
      child.stdin.write(JSON.stringify(msg) + '\n');
    });
  return {
    info: () => ask({ cmd: 'info' }),
    time: async (config, variant, steps) => (await ask({ cmd: 'time', config, batchSize: B, variant, steps })).ms_per_step,
    close: () => child.stdin.end(),
  };
}

async function torchReference() {
  let torch = startTorch();
  if (torch.missing) return torch;
  let info = await torch.info();
  if (info.blas.kind !== 'openblas' && process.getuid?.() === 0 && !flag('--no-install')) {
    log(`torch uses ${info.blas.kind} BLAS (${info.blas.matmul_gflops.toFixed(1)} GFLOP/s): installing libopenblas0-openmp for a fair reference`);
    torch.close();
    spawnSync('apt-get', ['install', '-y', 'libopenblas0-openmp'], { stdio: 'ignore' });
    torch = startTorch();
    info = await torch.info();
  }
  return Object.assign(torch, info);
}

// ---------- GPU ----------

/** Dawn's adapter and the fused WebGPU engine on it, or why there is none. */
async function startGPU() {
  if (flag('--no-gpu')) return { missing: 'skipped (--no-gpu)' };
  try {
    const { gpu, adapter } = await nodeGPU();
    return { adapter, engine: await createWebGPUEngine({ gpu }) };
  } catch (e) {
    return { missing: e.message };
  }
}

/** Steps per timed round on the GPU: more on a real GPU, where a step takes microseconds. */
const gpuSteps = (c) => (gpu.adapter.software ? c.steps : c.steps * (c.gpuScale ?? 20));

// ---------- run ----------

if (flag('--autodiff-child')) {
  // one tfjs-webgpu autodiff timing: `--autodiff-child <config> <steps>` prints ms per step
  const [name, steps] = args.slice(args.indexOf('--autodiff-child') + 1);
  await useNodeBackend({ prefer: 'webgpu', strict: true });
  // a short warm-up: autodiff on a software adapter takes seconds per step
  const c = spec.configs.find((c) => c.name === name);
  console.log(await ours({ ...c, warmup: Math.min(c.warmup, 3) }, 'autodiff', Number(steps)));
  process.exit(0);
}
const backendInfo = await useNodeBackend({ prefer: 'wasm' });
tf.enableProdMode();
const kernel = fusedWasmAvailable() ? 'wasm' : 'JS';
const gpu = await startGPU();
const torch = await torchReference();
const fair = torch.blas?.kind === 'openblas' || torch.blas?.kind === 'mkl';
const peakFlops = torch.blas ? torch.blas.matmul_gflops * 1e9 : undefined;
const bandwidth = memoryBandwidth();
log(`machine: ${cpus().length} × ${cpus()[0]?.model}; copy bandwidth ${(bandwidth / 1e9).toFixed(1)} GB/s; torch: ${torch.missing ?? `${torch.torch}, ${torch.threads} threads, ${torch.blas.kind} ${torch.blas.matmul_gflops.toFixed(0)} GFLOP/s`}; WebGPU: ${gpu.missing ?? gpu.adapter.label}`);

const results = [];
for (const c of configs) {
  // gpuOnly configs (the issue's GPU targets) time the WebGPU engine alone
  if (c.gpuOnly && gpu.missing) continue;
  const cpuRows = c.gpuOnly ? [] : c.kind === 'sae' ? [['sae', 'wasm SIMD, 1 thread']] : [['fused', `fused ${kernel}, 1 thread`], ['workers', `fused ${kernel}, ${threads} workers`]];
  // (the WebGPU engine trains the toy models and the |x| model with its ReLU hidden layer)
  const engines = [...cpuRows, ...((c.kind === 'toy' || c.kind === 'abs') && !gpu.missing ? [['webgpu', 'fused WebGPU']] : [])];
  const rows = engines.map(([engine, label]) => ({ engine, label, ms: [], ratio: [] }));
  const torchMs = [];
  const torchByVariant = { autograd: [], 'manual-backward': [] };
  for (let r = 0; r < rounds; r++) {
    log(`${c.name}: round ${r + 1}/${rounds}`);
    for (const row of rows) row.ms.push(await ours(c, row.engine, row.engine === 'webgpu' ? gpuSteps(c) : c.steps));
    if (!torch.missing && !c.gpuOnly) {
      const a = await torch.time(c, 'autograd', c.steps);
      const m = await torch.time(c, 'manual-backward', c.steps);
      torchByVariant.autograd.push(a);
      torchByVariant['manual-backward'].push(m);
      torchMs.push(Math.min(a, m));
      for (const row of rows) row.ratio.push(row.ms.at(-1) / torchMs.at(-1));
    }
  }
  // tfjs autodiff, once: the engine every other model trains with (not interleaved)
  const reference = [];
  if (c.autodiff) {
    // (tfjs-webgpu autodiff: after every config, in processes of their own)
    for (const backend of c.gpuOnly ? [] : ['wasm', 'cpu']) {
      await useNodeBackend({ prefer: backend, strict: true });
      const steps = Math.max(2, Math.ceil(c.steps / (backend === 'cpu' ? 10 : 2)));
      reference.push({ backend, label: `tfjs-${backend} autodiff (1 round)`, ms: await ours(c, 'autodiff', steps) });
      state.delete(`${c.name}/autodiff`);
    }
    await useNodeBackend({ prefer: 'wasm', strict: true });
  }
  const w = work(c);
  const floor = { flopsMs: peakFlops ? (1000 * w.flops) / peakFlops : undefined, bytesMs: (1000 * w.bytes) / bandwidth };
  const prof = c.kind === 'sae' || c.gpuOnly ? undefined : profile(c, Math.max(2, Math.ceil(c.steps / 4)));
  const gpuRow = rows.find((r) => r.engine === 'webgpu');
  results.push({
    config: c,
    webgpu: gpuRow ? { stepsPerSecond: 1000 / spread(gpuRow.ms).median } : undefined,
    rows: rows.map((row) => ({ engine: row.label, ms: spread(row.ms), ratio: row.ratio.length ? spread(row.ratio) : undefined, rounds: row.ms, gflops: w.flops / (spread(row.ms).median * 1e6) })),
    torch: torchMs.length ? { best: spread(torchMs), autograd: spread(torchByVariant.autograd), manual: spread(torchByVariant['manual-backward']) } : undefined,
    reference,
    work: w,
    floor,
    profile: prof,
  });
}
if (!torch.missing) torch.close();
// tfjs-webgpu autodiff on the same adapter, each config in a process of its own
// (Dawn crashes when tfjs-webgpu trains twice in one process beside our engine)
for (const r of results) {
  if (!r.webgpu || !r.config.autodiff) continue;
  log(`${r.config.name}: tfjs-webgpu autodiff`);
  const steps = Math.max(2, Math.ceil(r.config.steps / (gpu.adapter.software ? 20 : 2)));
  const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--autodiff-child', r.config.name, String(steps)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const ms = Number(child.stdout.trim().split('\n').at(-1));
  const ok = child.status === 0 && Number.isFinite(ms);
  r.reference.push({ backend: 'webgpu', label: `tfjs-webgpu autodiff (1 round)`, ms: ok ? ms : undefined, failed: ok ? undefined : `exit ${child.status ?? child.signal}` });
  if (ok) r.webgpu.overAutodiff = ms / (1000 / r.webgpu.stepsPerSecond);
}

// ---------- report ----------

const f = (x, d = 2) => (x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(d));
const range = (s, d = 2) => (s ? `${f(s.median, d)} (${f(s.min, d)}–${f(s.max, d)})` : '–');
const pad = (s, k) => String(s).padEnd(k);
const lines = [];
lines.push(`${new Date().toISOString().slice(0, 10)}  ${hostname()}: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; tfjs ${tf.version_core}; ${backendInfo.message}`);
lines.push(`copy bandwidth ${(bandwidth / 1e9).toFixed(1)} GB/s (64 MB Float32Array copies, best of 5)`);
if (!torch.missing) {
  lines.push(`torch ${torch.torch}, ${torch.threads} threads, BLAS ${torch.blas.kind}: ${torch.blas.matmul_gflops.toFixed(0)} GFLOP/s on a 1024² fp32 matmul (the flops peak below)${fair ? '' : ' — REFERENCE BLAS: ratios are NOT a fair comparison'}`);
} else lines.push(`torch: ${torch.missing}`);
lines.push(`WebGPU: ${gpu.missing ?? `${gpu.adapter.label} through Dawn (the webgpu package)${gpu.adapter.software ? ' — a SOFTWARE adapter: correctness, not speed' : ''}`}`);
lines.push(`${rounds} interleaved round${rounds > 1 ? 's' : ''} per config (ours, then torch: the faster of autograd and a hand-written backward)${quick ? ' — QUICK: short rounds, ratios are indicative only' : ''}`);
lines.push('');
lines.push(`${pad('config', 9)} ${pad('engine', 24)} ${pad('ms/step median (min–max)', 26)} ${pad('torch ms/step', 22)} ${pad('ratio ours/torch', 22)} ${pad('GFLOP/s', 8)} floor ms (flops | bytes)`);
for (const r of results) {
  for (const row of r.rows) {
    lines.push(
      `${pad(r.config.name, 9)} ${pad(row.engine, 24)} ${pad(range(row.ms), 26)} ${pad(range(r.torch?.best), 22)} ${pad(range(row.ratio), 22)} ${pad(f(row.gflops, 1), 8)} ${f(r.floor.flopsMs, 3)} | ${f(r.floor.bytesMs, 3)}`,
    );
  }
  for (const ref of r.reference) lines.push(`${pad(r.config.name, 9)} ${pad(ref.label, 24)} ${pad(ref.failed ? `failed (${ref.failed})` : f(ref.ms), 26)}`);
  if (r.torch) lines.push(`${pad('', 9)} ${pad('(torch autograd / manual)', 24)} ${pad('', 26)} ${range(r.torch.autograd)} / ${range(r.torch.manual)}`);
}
const gpuResults = results.filter((r) => r.webgpu);
if (gpuResults.length) {
  lines.push('');
  lines.push(`fused WebGPU engine on ${gpu.adapter.label}: steps/s (median), and how many times faster than tfjs-webgpu autodiff on the same adapter`);
  for (const r of gpuResults) lines.push(`  ${pad(r.config.name, 9)} ${pad(f(r.webgpu.stepsPerSecond, 1) + ' steps/s', 18)} ${r.webgpu.overAutodiff ? `${f(r.webgpu.overAutodiff, 1)}× tfjs-webgpu autodiff` : ''}`);
}
lines.push('');
lines.push('where one thread spends a step (ms): sampling | gradients (forward + backward) | Adam');
for (const r of results) if (r.profile) lines.push(`  ${pad(r.config.name, 9)} ${f(r.profile.sample, 3)} | ${f(r.profile.gradients, 3)} | ${f(r.profile.adam, 3)}`);
console.log(lines.join('\n'));

const outDir = join(here, 'out');
mkdirSync(outDir, { recursive: true });
const report = {
  date: new Date().toISOString(),
  host: hostname(),
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  node: process.version,
  quick,
  rounds,
  threads,
  kernel,
  bandwidth,
  webgpu: gpu.missing ? { missing: gpu.missing } : { adapter: gpu.adapter },
  torch: torch.missing ? { missing: torch.missing } : { version: torch.torch, threads: torch.threads, blas: torch.blas },
  results,
};
writeFileSync(join(outDir, 'latest.json'), JSON.stringify(report, null, 1));
appendFileSync(join(outDir, 'history.jsonl'), JSON.stringify(report) + '\n');
console.log(`\nwrote ${join(outDir, 'latest.json')} and appended to ${join(outDir, 'history.jsonl')}`);
