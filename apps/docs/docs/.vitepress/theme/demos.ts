/**
 * The live demos of the docs site: each trains toy models in the browser with
 * @tms/core on the backend chosen by @tms/backend-web and redraws its figure
 * (a @tms/viz spec) while training.
 */
import { createModel, tf, train, type ToyModel } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { webWorkerFusedEngine } from '@tms/engine-fused/web';
import FusedWorker from '@tms/engine-fused/web-worker?worker';
import { createWebGPUEngine, type WebGPUEngine } from '@tms/engine-webgpu';
import { SparseFeatures, geometricImportance, type PerFeature } from '@tms/data';
import {
  PHASES,
  STICKY_POINTS,
  classifyFeature,
  dimensionsPerFeature,
  featureDimensionality,
  featureNorms,
  interference,
  logspace,
  superposition,
  theoreticalPhaseN2M1,
  type BatchedWeights,
} from '@tms/analysis';
import {
  dimensionalitySpec,
  featureDirectionsSpec,
  introFigureSpec,
  phaseDiagramSpec,
  type VegaLiteSpec,
} from '@tms/viz';

import { GEOMETRY_POINTS, PHASE_RESTARTS, type DemoName, type DemoParams } from './demo-defaults';

export type { DemoName, DemoParams };

/** What the demo reports while it trains. */
export interface DemoProgress {
  step: number;
  totalSteps: number;
  stepsPerSecond: number;
  meanLoss: number;
}

/** One model of a demo as the figure sees it: its weights and each instance's last logged loss. */
interface Trained {
  W: BatchedWeights;
  b: Float32Array;
  loss: ArrayLike<number>;
}

interface Setup {
  /** The models trained side by side, each on its own data stream; the last one drives progress. */
  runs: { model: ToyModel; data: SparseFeatures }[];
  importance: PerFeature;
  figure: (trained: Trained[]) => VegaLiteSpec;
}



const INTRO_S = [0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999];

/** The WebGPU engine on `navigator.gpu`, made once per page (null where it cannot start). */
let gpuEngine: Promise<WebGPUEngine | null> | null = null;
const webgpuEngine = () => (gpuEngine ??= createWebGPUEngine().catch(() => null));

function setup(name: DemoName, p: DemoParams, generator: 'xoshiro' | 'philox'): Setup {
  switch (name) {
    case 'intro-2d': {
      // one model per sparsity slider value, plus the dense and very sparse references
      const S = [0, p.sparsity, 0.999];
      const n = 5;
      return {
        runs: [
          {
            model: createModel({ kind: 'relu-output', instances: S.length, features: n, hidden: 2, seed: 0 }),
            data: new SparseFeatures({ instances: S.length, features: n, sparsity: S.map((s) => Array(n).fill(s)), seed: 1, generator }),
          },
        ],
        importance: geometricImportance(n, p.importanceBase),
        figure: ([{ W }]) => {
          const nested = S.map((_, k) => Array.from({ length: n }, (_, i) => [W.data[(k * n + i) * 2], W.data[(k * n + i) * 2 + 1]]));
          return featureDirectionsSpec(
            S.map((s, k) => ({ label: `S = ${s}`, W: nested[k], color: geometricImportance(n, p.importanceBase) })),
            { title: 'Feature directions Wᵢ in 2D (colour: importance)', colorTitle: 'importance', size: 150 },
          );
        },
      };
    }
    case 'intro': {
      // the paper's contrast: a linear model (top row) keeps the 5 most important features at every
      // sparsity, the ReLU-output model (bottom row) packs more into 5 dimensions as features get sparse
      const n = 20;
      const kinds = [
        { kind: 'linear' as const, row: 'Linear model x′ = WᵀWx + b' },
        { kind: 'relu-output' as const, row: 'ReLU output model x′ = ReLU(WᵀWx + b)' },
      ];
      return {
        runs: kinds.map(({ kind }) => ({
          model: createModel({ kind, instances: INTRO_S.length, features: n, hidden: 5, seed: 0 }),
          data: new SparseFeatures({ instances: INTRO_S.length, features: n, sparsity: INTRO_S.map((s) => Array(n).fill(s)), seed: 1, generator }),
        })),
        importance: geometricImportance(n, p.importanceBase),
        figure: (trained) =>
          introFigureSpec(
            trained.flatMap(({ W, b }, r) => {
              const norms = featureNorms(W);
              const sup = superposition(W);
              const wtw = interference(W);
              return INTRO_S.map((s, k) => ({
                row: kinds[r].row,
                label: `1−S = ${+(1 - s).toPrecision(2)}`,
                wtw: wtw[k],
                bias: Array.from(b.subarray(k * n, (k + 1) * n)),
                norms: norms[k],
                superposition: sup[k],
              }));
            }),
            { cell: 6 },
          ),
      };
    }
    case 'phase': {
      const imps = logspace(0.1, 10, 7);
      const dens = logspace(1, 100, 7);
      const grid = imps.flatMap((r) => dens.map((d) => ({ r, d })));
      // PHASE_RESTARTS models per cell (instance cell · R + restart); the figure draws the lowest-loss one
      const R = PHASE_RESTARTS;
      const instances = grid.flatMap((cell) => Array.from({ length: R }, () => cell));
      return {
        runs: [
          {
            model: createModel({ kind: 'relu-output', instances: instances.length, features: 2, hidden: 1, seed: 0 }),
            data: new SparseFeatures({ instances: instances.length, features: 2, sparsity: instances.map(({ d }) => [1 - 1 / d, 1 - 1 / d]), seed: 1, generator }),
          },
        ],
        importance: instances.map(({ r }) => [1, r]),
        figure: ([{ W, loss }]) => {
          const cls = classifyFeature(W, 1);
          const best = grid.map((_, c) => {
            let k = c * R;
            for (let q = c * R + 1; q < (c + 1) * R; q++) if (loss[q] < loss[k]) k = q;
            return k;
          });
          return phaseDiagramSpec(
            [
              { title: `empirical (best of ${R} per cell)`, cells: grid.map(({ r, d }, c) => ({ x: d, y: r, phase: cls[best[c]] })) },
              { title: 'theoretical', cells: grid.map(({ r, d }) => ({ x: d, y: r, phase: theoreticalPhaseN2M1(r, 1 / d).phase })) },
            ],
            { size: 180 },
          );
        },
      };
    }
    case 'geometry': {
      const n = 40;
      const dens = logspace(1, 100, GEOMETRY_POINTS);
      return {
        runs: [
          {
            model: createModel({ kind: 'relu-output', instances: dens.length, features: n, hidden: 10, seed: 0 }),
            data: new SparseFeatures({ instances: dens.length, features: n, sparsity: dens.map((d) => Array(n).fill(1 - 1 / d)), seed: 1, generator }),
          },
        ],
        importance: 1,
        figure: ([{ W }]) => {
          const dpf = dimensionsPerFeature(W);
          const D = featureDimensionality(W);
          const norms = featureNorms(W);
          return dimensionalitySpec(
            {
              models: dens.map((d, k) => ({ density: d, dimsPerFeature: dpf[k] })),
              features: dens.flatMap((d, k) => D[k].flatMap((v, i) => (norms[k][i] > 0.5 ? [{ density: d, dimensionality: v }] : []))),
              sticky: STICKY_POINTS.map((s) => ({ value: s.value, label: s.label })),
            },
            { width: 420, height: 240 },
          );
        },
      };
    }
  }
}

/** Handlers a demo run reports to. */
export interface DemoCallbacks {
  onProgress: (p: DemoProgress) => void;
  onFigure: (spec: VegaLiteSpec) => Promise<void> | void;
}

/** The longest a demo's figure goes without a redraw while it trains: a steady 5 frames per second. */
export const FRAME_MS = 200;

/**
 * Train one demo. Resolves with the loss history (mean over instances) when done
 * or aborted. The figure is redrawn at least `figureUpdates` times (evenly over the
 * steps) and at least every {@link FRAME_MS} ms of training, at the next logged step.
 */
export async function runDemo(
  name: DemoName,
  p: DemoParams,
  cb: DemoCallbacks,
  signal: AbortSignal,
  figureUpdates = 10,
): Promise<{ losses: number[]; aborted: boolean; engine: string }> {
  // on WebGPU the tied models train on the fused GPU engine, with batches drawn on the GPU
  const gpu = tf.getBackend() === 'webgpu' ? await webgpuEngine() : null;
  const s = setup(name, p, gpu ? 'philox' : 'xoshiro');
  const losses: number[] = [];
  const drawEvery = Math.max(1, Math.round(p.steps / figureUpdates));
  const logEvery = Math.max(1, Math.min(25, drawEvery));
  let nextDraw = drawEvery;
  let lastDraw = performance.now();
  // each run's last logged loss per instance (NaN before the first)
  const lastLoss = s.runs.map(({ model }) => new Float64Array(model.config.instances).fill(NaN));
  const draw = async () => {
    const trained = await Promise.all(
      s.runs.map(async ({ model }, r) => {
        const params = await model.getParams();
        return { W: params.W, b: params.b.data, loss: lastLoss[r] };
      }),
    );
    await cb.onFigure(s.figure(trained));
  };
  const primary = s.runs.length - 1;
  try {
    await draw();
    const results = await Promise.all(
      s.runs.map(({ model, data }, r) =>
        train({
          model,
          data,
          importance: s.importance,
          steps: p.steps,
          batchSize: p.batchSize,
          optimizer: { name: 'adam', lr: p.lr },
          // the fused engines are the fast paths (WebGPU on the GPU, WebAssembly on CPU backends, on Web
          // Workers so that the page stays responsive, else on this thread); on WebGL, autodiff
          engines: gpu ? [gpu] : ['wasm', 'cpu'].includes(tf.getBackend()) ? [webWorkerFusedEngine({ createWorker: () => new FusedWorker(), offMainThread: true }), fusedEngine] : [],
          logEvery,
          signal,
          onProgress: async (pr) => {
            lastLoss[r].set(pr.loss);
            // the last run drives the progress, the loss curve and the redraws
            if (r !== primary) return;
            const mean = pr.loss.reduce((a, b) => a + b, 0) / pr.loss.length;
            losses.push(mean);
            cb.onProgress({ step: pr.step, totalSteps: pr.totalSteps, stepsPerSecond: pr.stepsPerSecond, meanLoss: mean });
            if (pr.step < pr.totalSteps && (pr.step >= nextDraw || performance.now() - lastDraw >= FRAME_MS)) {
              while (nextDraw <= pr.step) nextDraw += drawEvery;
              await draw();
              lastDraw = performance.now();
            }
          },
        }),
      ),
    );
    for (const [r, res] of results.entries()) lastLoss[r].set(res.finalLoss);
    await draw();
    const r = results[primary];
    return { losses, aborted: results.some((x) => x.aborted), engine: r.engine };
  } finally {
    for (const { model } of s.runs) model.dispose();
  }
}

export { PHASES };
