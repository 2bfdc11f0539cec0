/**
 * The WebGPU engine's self-check, run in the page: the same training runs on
 * the GPU (batches drawn there with Philox) and on the fused CPU engine (the
 * same batches drawn on the CPU; that engine is checked against a float64
 * oracle by the project's tests), and their weights and losses are compared.
 */
import { autodiffEngine, createModel, train, type ModelKind } from '@tms/core';
import { SparseFeatures } from '@tms/data';
import { fusedEngine } from '@tms/engine-fused';
import { createWebGPUEngine, type WebGPUEngine } from '@tms/engine-webgpu';

/** One model kind's comparison. */
export interface CheckRow {
  kind: ModelKind;
  /** Largest difference of any parameter (W or W₁, W₂, b) between the GPU and the CPU run, relative to the largest weight. */
  weightError: number;
  /** Largest relative difference of the final per-instance losses. */
  lossError: number;
  engine: string;
}

/** What {@link engineCheck} found. */
export interface CheckResult {
  adapter: string;
  software: boolean;
  rows: CheckRow[];
  /** An abort inside a long segment stopped the run (`aborted`, no step counted). */
  abortStops: boolean;
  /** An instance with infinite weights was reported as diverged at the first logged step, and only it. */
  divergenceReported: boolean;
}

/**
 * 60 steps of AdamW with warm-up and cosine decay, 3 instances (dense to sparse),
 * on the GPU and on the CPU; then an abort inside a segment and an instance
 * whose weights are infinite, on the GPU.
 */
export async function engineCheck(): Promise<CheckResult> {
  const engine = await createWebGPUEngine();
  const I = 3;
  const n = 8;
  const m = 3;
  const rows: CheckRow[] = [];
  let abortStops = false;
  let divergenceReported = false;
  try {
    // the tied models, then those with a ReLU hidden layer (privileged basis; |x| with signed inputs)
    for (const kind of ['linear', 'relu-output', 'relu-hidden', 'abs'] as const) {
      const run = async (engines: typeof fusedEngine[]) => {
        const model = createModel({ kind, instances: I, features: n, hidden: m, seed: 11 });
        model.setParams({ b: new Float32Array(I * n).map((_, i) => ((i * 37) % 11) / 20 - 0.255) });
        const data = new SparseFeatures({ instances: I, features: n, sparsity: [0, 0.7, 0.97].map((s) => new Array<number>(n).fill(s)), signed: kind === 'abs', seed: 5, generator: 'philox' });
        const r = await train({
          model,
          data,
          importance: 0.8,
          steps: 60,
          batchSize: 128,
          logEvery: 20,
          engines: [...engines, autodiffEngine],
          optimizer: { name: 'adamw', lr: 1e-2, weightDecay: 1e-3 },
          schedule: { name: 'cosine', warmupSteps: 5 },
        });
        const p = await model.getParams();
        model.dispose();
        return { r, params: Object.values(p).map((t) => t.data) };
      };
      const gpu = await run([engine]);
      const cpu = await run([fusedEngine]);
      let scale = 0;
      let err = 0;
      for (const [k, a] of gpu.params.entries()) {
        const c = cpu.params[k];
        a.forEach((v, i) => {
          scale = Math.max(scale, Math.abs(c[i]));
          err = Math.max(err, Math.abs(v - c[i]));
        });
      }
      const lossError = Math.max(...gpu.r.finalLoss.map((v, i) => Math.abs(v - cpu.r.finalLoss[i]) / Math.max(1e-12, Math.abs(cpu.r.finalLoss[i]))));
      rows.push({ kind, weightError: err / scale, lossError, engine: gpu.r.engine });
    }
    abortStops = await checkAbort(engine);
    divergenceReported = await checkDivergence(engine);
  } finally {
    engine.destroy();
  }
  return { adapter: engine.adapter.label, software: engine.adapter.software, rows, abortStops, divergenceReported };
}

const sparse = (I: number, n: number) => new SparseFeatures({ instances: I, features: n, sparsity: 0.5, seed: 1, generator: 'philox' });

/** A run of a million steps in one segment, aborted after 100 ms, stops with no step counted. */
async function checkAbort(engine: WebGPUEngine): Promise<boolean> {
  const model = createModel({ kind: 'linear', instances: 2, features: 6, hidden: 2, seed: 1 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const r = await train({ model, data: sparse(2, 6), steps: 1_000_000, batchSize: 64, logEvery: 1_000_000, engines: [engine], signal: controller.signal });
  model.dispose();
  return r.engine === 'webgpu' && r.aborted && r.steps === 0;
}

/** Infinite weights in instance 1 of 3: reported at the first logged step, the others train on. */
async function checkDivergence(engine: WebGPUEngine): Promise<boolean> {
  const I = 3;
  const model = createModel({ kind: 'relu-output', instances: I, features: 8, hidden: 3, seed: 6 });
  const W = (await model.getParams()).W.data.slice();
  W.fill(Infinity, W.length / I, (2 * W.length) / I);
  model.setParams({ W });
  const r = await train({ model, data: sparse(I, 8), steps: 40, batchSize: 64, logEvery: 10, engines: [engine], optimizer: { name: 'adam', lr: 1e-2 } });
  model.dispose();
  const others = Number.isFinite(r.finalLoss[0]) && Number.isFinite(r.finalLoss[2]) && r.finalLoss[0] < r.history[0].loss[0];
  return r.engine === 'webgpu' && r.diverged.length === 1 && r.diverged[0].instance === 1 && r.diverged[0].step === 10 && others;
}
