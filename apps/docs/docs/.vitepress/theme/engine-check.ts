/**
 * The WebGPU engine's self-check, run in the page: the same training runs on
 * the GPU (batches drawn there with Philox) and on the fused CPU engine (the
 * same batches drawn on the CPU; that engine is checked against a float64
 * oracle by the project's tests), and their weights and losses are compared.
 */
import { autodiffEngine, createModel, train, type ModelKind } from '@tms/core';
import { SparseFeatures } from '@tms/data';
import { fusedEngine } from '@tms/engine-fused';
import { createWebGPUEngine } from '@tms/engine-webgpu';

/** One model kind's comparison. */
export interface CheckRow {
  kind: ModelKind;
  /** Largest |W_gpu − W_cpu| and |b_gpu − b_cpu| after the run, relative to the largest weight. */
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
}

/** 60 steps of AdamW with warm-up and cosine decay, 3 instances (dense to sparse), on the GPU and on the CPU. */
export async function engineCheck(): Promise<CheckResult> {
  const engine = await createWebGPUEngine();
  const I = 3;
  const n = 8;
  const m = 3;
  const rows: CheckRow[] = [];
  try {
    for (const kind of ['linear', 'relu-output'] as const) {
      const run = async (engines: typeof fusedEngine[]) => {
        const model = createModel({ kind, instances: I, features: n, hidden: m, seed: 11 });
        model.setParams({ b: new Float32Array(I * n).map((_, i) => ((i * 37) % 11) / 20 - 0.255) });
        const data = new SparseFeatures({ instances: I, features: n, sparsity: [0, 0.7, 0.97].map((s) => new Array<number>(n).fill(s)), seed: 5, generator: 'philox' });
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
        return { r, W: p.W.data, b: p.b.data };
      };
      const gpu = await run([engine]);
      const cpu = await run([fusedEngine]);
      let scale = 0;
      let err = 0;
      for (const [a, c] of [[gpu.W, cpu.W], [gpu.b, cpu.b]] as const) {
        a.forEach((v, i) => {
          scale = Math.max(scale, Math.abs(c[i]));
          err = Math.max(err, Math.abs(v - c[i]));
        });
      }
      const lossError = Math.max(...gpu.r.finalLoss.map((v, i) => Math.abs(v - cpu.r.finalLoss[i]) / Math.max(1e-12, Math.abs(cpu.r.finalLoss[i]))));
      rows.push({ kind, weightError: err / scale, lossError, engine: gpu.r.engine });
    }
  } finally {
    engine.destroy();
  }
  return { adapter: engine.adapter.label, software: engine.adapter.software, rows };
}
