#!/usr/bin/env node
// `pnpm bench`: training steps per second for fixed configs on every available
// engine/backend, against a PyTorch reference timed in the same run.
// Options: --quick (fewer steps), --no-torch, --threads N (torch threads; default: all cores).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { autodiffEngine, createModel, tf, train } from '@tms/core';
import { SparseFeatures } from '@tms/data';
import { useNodeBackend } from '@tms/backend-node';
import { fusedEngine, fusedWasmAvailable } from '@tms/engine-fused';
import { trainParallel } from '@tms/engine-fused/node';

const here = new URL('.', import.meta.url).pathname;
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const noTorch = args.includes('--no-torch');
const tIdx = args.indexOf('--threads');
const threads = tIdx >= 0 ? Number(args[tIdx + 1]) : cpus().length;
const spec = JSON.parse(readFileSync(join(here, 'configs.json'), 'utf8'));
if (quick) for (const c of spec.configs) Object.assign(c, { warmup: Math.ceil(c.warmup / 4), steps: Math.ceil(c.steps / 4) });

const log = (s) => process.stderr.write(s + '\n');

/** ms per step of our training loop for one config on one engine. */
async function ours(c, engine) {
  const I = c.instances;
  const n = c.features;
  const featureProbability = Array.from({ length: I }, (_, k) => new Array(n).fill(20 ** (-k / Math.max(1, I - 1))));
  const importance = Array.from({ length: n }, (_, j) => spec.importanceBase ** j);
  const model = createModel({ kind: 'relu-output', instances: I, features: n, hidden: c.hidden, seed: 0 });
  const data = new SparseFeatures({ instances: I, features: n, featureProbability, seed: 1 });
  const steps = engine === 'autodiff' && tf.getBackend() === 'cpu' ? Math.ceil(c.steps / 5) : c.steps;
  let r;
  if (engine === 'parallel') {
    // one run, timed from the end of the warm-up report (so worker start-up is excluded)
    const rounds = Math.ceil(steps / c.warmup);
    let t0 = 0;
    const total = c.warmup * (rounds + 1);
    const res = await trainParallel({
      model,
      data: { instances: I, features: n, featureProbability, seed: 1 },
      importance,
      batchSize: spec.batchSize,
      logEvery: c.warmup,
      steps: total,
      onProgress: (p) => {
        if (p.step === c.warmup) t0 = performance.now();
      },
    });
    const timed = total - c.warmup;
    r = { seconds: (performance.now() - t0) / 1000, finalLoss: res.finalLoss };
    model.dispose();
    return { msPerStep: (1000 * r.seconds) / timed, steps: timed, finalLoss: r.finalLoss.reduce((a, b) => a + b, 0) / I };
  } else {
    const engines = [engine === 'fused' ? fusedEngine : autodiffEngine];
    const opts = { model, data, importance, batchSize: spec.batchSize, engines, logEvery: 1_000_000 };
    await train({ ...opts, steps: c.warmup });
    r = await train({ ...opts, steps });
  }
  model.dispose();
  return { msPerStep: (1000 * r.seconds) / steps, steps, finalLoss: r.finalLoss.reduce((a, b) => a + b, 0) / I };
}

function torchReference() {
  if (noTorch) return { missing: 'skipped (--no-torch)' };
  const py = '/usr/bin/python3';
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { missing: 'PyTorch is not installed for /usr/bin/python3: `apt-get install python3-torch libopenblas0-openmp`' };
  }
  const run = () =>
    spawnSync(py, [join(here, 'torch_ref.py'), join(here, 'configs.json')], {
      encoding: 'utf8',
      env: { ...process.env, TMS_BENCH_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
    });
  log(`torch reference (${threads} threads)...`);
  let r = run();
  if (r.status !== 0) return { missing: `torch reference failed: ${r.stderr.split('\n').slice(-3).join(' ')}` };
  let out = JSON.parse(r.stdout);
  if (out.blas.kind !== 'openblas' && process.getuid?.() === 0 && !args.includes('--no-install')) {
    log(`torch uses ${out.blas.kind} BLAS (${out.blas.matmul_gflops.toFixed(1)} GFLOP/s): installing libopenblas0-openmp for a fair reference`);
    spawnSync('apt-get', ['install', '-y', 'libopenblas0-openmp'], { stdio: 'ignore' });
    r = run();
    if (r.status === 0) out = JSON.parse(r.stdout);
  }
  return out;
}

const backendInfo = await useNodeBackend({ prefer: 'wasm' });
tf.enableProdMode();
const rows = [];
const kernel = fusedWasmAvailable() ? 'wasm' : 'JS';
for (const c of spec.configs) {
  for (const [label, backend, engine] of [
    [`fused ${kernel}`, 'wasm', 'fused'],
    [`fused ${kernel} ×${cpus().length} workers`, 'wasm', 'parallel'],
    ['tfjs-wasm autodiff', 'wasm', 'autodiff'],
    ['tfjs-cpu autodiff', 'cpu', 'autodiff'],
  ]) {
    await useNodeBackend({ prefer: backend, strict: true });
    log(`${c.name}: ${label}...`);
    const r = await ours(c, engine);
    rows.push({ config: c.name, engine: label, ...r });
  }
}
await useNodeBackend({ prefer: 'wasm', strict: true });

const torch = torchReference();
const torchBest = {};
if (torch.results) {
  for (const r of torch.results) torchBest[r.name] = Math.min(torchBest[r.name] ?? Infinity, r.ms_per_step);
}
const fair = torch.blas?.kind === 'openblas' || torch.blas?.kind === 'mkl';

const pad = (s, k) => String(s).padEnd(k);
const lines = [];
lines.push(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; node ${process.version}; tfjs ${tf.version_core}; ${backendInfo.message}`);
if (torch.results) {
  lines.push(
    `torch ${torch.torch}, ${torch.threads} threads, BLAS: ${torch.blas.kind} (${torch.blas.matmul_gflops.toFixed(1)} GFLOP/s fp32 1024² matmul)${fair ? '' : ' — REFERENCE BLAS: ratios are NOT a fair comparison'}`,
  );
  for (const r of torch.results) lines.push(`  torch ${pad(r.name, 6)} ${pad(r.variant, 16)} ${r.ms_per_step.toFixed(2)} ms/step`);
} else lines.push(`torch: ${torch.missing}`);
lines.push('');
lines.push(`${pad('config', 7)} ${pad('engine', 22)} ${pad('ms/step', 9)} ${pad('steps/s', 9)} ${pad('torch ms', 9)} ratio (ours/torch; ≤ 1 is faster)`);
for (const r of rows) {
  const t = torchBest[r.config];
  const ratio = t ? (r.msPerStep / t).toFixed(2) + (fair ? '' : ' (vs reference BLAS!)') : '–';
  lines.push(
    `${pad(r.config, 7)} ${pad(r.engine, 22)} ${pad(r.msPerStep.toFixed(2), 9)} ${pad((1000 / r.msPerStep).toFixed(0), 9)} ${pad(t ? t.toFixed(2) : '–', 9)} ${ratio}`,
  );
}
console.log(lines.join('\n'));
const outDir = join(here, 'out');
mkdirSync(outDir, { recursive: true });
const report = { date: new Date().toISOString(), host: hostname(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, quick, rows, torch };
writeFileSync(join(outDir, 'latest.json'), JSON.stringify(report, null, 1));
console.log(`\nwrote ${join(outDir, 'latest.json')}`);
