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
  phase: { steps: 3000, sparsity: 0, importanceBase: 1, batchSize: 512, lr: 1e-2 },
  geometry: { steps: 2000, sparsity: 0, importanceBase: 1, batchSize: 256, lr: 1e-2 },
};


/** Steps of the short first pass a demo trains when its page opens, so that it shows a figure at once. */
export const FIRST_PASS_STEPS: Record<DemoName, number> = { 'intro-2d': 300, intro: 300, phase: 300, geometry: 300 };

/** How to read each demo's figure, shown under it. */
export const DEMO_CAPTIONS: Record<DemoName, string> = {
  'intro-2d':
    'Each panel is one model: a line from the origin to Wᵢ for each of the 5 features in the 2 hidden dimensions, coloured by importance. Dense (S = 0): the 2 most important features get orthogonal directions and the rest are dropped; at the slider\'s sparsity and at S = 0.999 more features fit, up to a pentagon of all 5.',
  intro:
    'Rows: the linear model, then the ReLU-output model; columns: sparsity, dense on the left. In each: WᵀW (blue positive, red negative; an off-diagonal entry is interference between two features) and the bias b, above the norm ‖Wᵢ‖ of each feature (1: represented), coloured by how much other features project onto it (black: a dimension of its own; yellow: superposition). The linear model keeps exactly the 5 most important features at every sparsity; the ReLU-output model does so when dense and packs more into the 5 dimensions as features get sparser.',
  phase:
    'The best of 4 models per cell (lowest loss), each with n = 2 features in m = 1 dimension; x: 1/(1 − S), how rare the features are; y: the importance of the second feature relative to the first. Colour: what the model does with the second feature (not represented, a dimension of its own, or in superposition with the first). Left: the trained models; right: the paper\'s theory.',
  geometry:
    'x: 1/(1 − S), how rare the features are; y: dimensions per feature m/‖W‖²_F (line) and each represented feature\'s dimensionality Dᵢ (points). Dashed lines: the fractions where the paper finds features stick (1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3…), e.g. 1/2 for antipodal pairs and 2/5 for pentagons.',
};

/** Restarts per cell of the phase demo (the lowest-loss one is drawn), as in `tms run phase --variant quick`. */
export const PHASE_RESTARTS = 4;

/** Sparsities of the geometry demo: enough points along 1/(1−S) for its plateaus to show. */
export const GEOMETRY_POINTS = 16;

/**
 * The `tms run` command that trains what the demo trains with the same settings (the demo's
 * sizes, grid, seeds 0 and 1, steps, batch size, learning rate), shown under it.
 */
export function cliCommand(name: DemoName, p: DemoParams): string {
  const common = `--steps ${p.steps} --batch-size ${p.batchSize} --lr ${p.lr}`;
  switch (name) {
    case 'intro-2d':
      return `pnpm tms run intro-2d --sparsities 0,${p.sparsity},0.999 --importance-base ${p.importanceBase} ${common}`;
    case 'intro':
      return `pnpm tms run intro --importance-base ${p.importanceBase} ${common}`;
    case 'phase':
      return `pnpm tms run phase --importance-points 7 --density-points 7 --restarts ${PHASE_RESTARTS} ${common}`;
    case 'geometry':
      return `pnpm tms run geometry --features 40 --hidden 10 --density-points ${GEOMETRY_POINTS} ${common}`;
  }
}
