/** Demo names and default parameters (kept apart from demos.ts so the heavy training code loads lazily). */

/** Demo names. */
export type DemoName = 'intro-2d' | 'intro' | 'phase' | 'geometry';

/** User-set parameters of a demo. */
export interface DemoParams {
  steps: number;
  sparsity: number;
  importanceBase: number;
  batchSize: number;
  lr: number;
}

/** Defaults per demo. */
export const DEMO_DEFAULTS: Record<DemoName, DemoParams> = {
  'intro-2d': { steps: 1500, sparsity: 0.97, importanceBase: 0.9, batchSize: 512, lr: 1e-2 },
  intro: { steps: 2000, sparsity: 0, importanceBase: 0.7, batchSize: 512, lr: 1e-2 },
  phase: { steps: 2000, sparsity: 0, importanceBase: 1, batchSize: 512, lr: 1e-2 },
  geometry: { steps: 2000, sparsity: 0, importanceBase: 1, batchSize: 256, lr: 1e-2 },
};

