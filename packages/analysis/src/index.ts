/**
 * `@tms/analysis`: measurements of trained toy models on plain arrays, with no
 * tensor library, so they run anywhere (Node, browsers, workers).
 *
 * @packageDocumentation
 */
export { dims, fromNested, instanceMatrix, type BatchedWeights } from './weights.js';
export {
  REPRESENTED_THRESHOLD,
  dimensionsPerFeature,
  featureDimensionality,
  featureNorms,
  interference,
  representedCount,
  representedFeatures,
  superposition,
} from './metrics.js';
export { spectralNorm, symmetricEigen } from './linalg.js';
export { STICKY_POINTS, detectPolytopes, energyJumps, stickyPlateaus, stickyRuns, type EnergyJump, type FeatureGroup, type PolytopeOptions, type StickyRun } from './geometry.js';
export { PHASES, classifyFeature, logspace, theoreticalPhaseN2M1, type Phase, type TheoreticalPhase } from './phase.js';
export {
  expectedReluOutputLoss,
  linearOptimumLoss,
  targetVariance,
  zeroOutputLoss,
  nelderMead,
  theoreticalPhaseN3M2,
  paperPhaseN3M2,
  biasFreeN2M1,
  biasFreeLossSurface,
  BIAS_FREE_PHASES,
  type BiasFreePhase,
  type BiasFreeSolution,
  type LossSurfaceOptions,
  type CandidateSolution,
  type ExpectedLossOptions,
  type LinearOptimumOptions,
  type TheoreticalPhaseDetail,
} from './theory.js';
export { dataDimensionality, hiddenActivations, hiddenLayerErrors, reconstructionErrors, reconstructionLoss, type HiddenLayerOptions, type ReconstructionOptions } from './reconstruction.js';
export {
  featureRecovery,
  firingLatents,
  principalAxes,
  trainSparseAutoencoder,
  type FeatureRecovery,
  type SparseAutoencoder,
  type SparseAutoencoderOptions,
} from './sae.js';
export { absolutePairs, asymmetricMotifs, displayNeurons, neuronPolysemanticity, outputSides, type AsymmetricMotif, type NeuronDisplay, type NeuronStats } from './neurons.js';
export { adversarialVulnerability, featureAttack, type FeatureAttack, type Vulnerability } from './adversarial.js';
