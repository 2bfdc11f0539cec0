/**
 * `@tms/core`: toy models of superposition on `@tensorflow/tfjs-core`.
 *
 * Many independent models ("instances") are trained at once as batched tensors.
 * This package never imports a tfjs backend: pick one with `@tms/backend-node`
 * or `@tms/backend-web` (or register any tfjs backend yourself) before training.
 *
 * @packageDocumentation
 */
export { tf } from './tf.js';
export {
  MODEL_KINDS,
  AbsModel,
  LinearModel,
  ReluHiddenModel,
  ReluOutputModel,
  createModel,
  hiddenLayout,
  tiedLayout,
  validateModelConfig,
  xavierNormal,
  W2_SIGNS,
  type W2Signs,
  type ModelConfig,
  type ModelKind,
  type HiddenLayout,
  type ModelShape,
  type ParamArray,
  type ParamNames,
  type TiedLayout,
  type ToyModel,
} from './models.js';
export { lossPerInstance, totalLoss } from './loss.js';
export {
  AdamOptimizer,
  OPTIMIZERS,
  SCHEDULES,
  learningRateAt,
  validateOptimizerConfig,
  validateScheduleConfig,
  type OptimizerConfig,
  type ScheduleConfig,
} from './optim.js';
export {
  autodiffEngine,
  nonFiniteRows,
  resolveTrainPlan,
  train,
  type Divergence,
  type LossRecord,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from './train.js';
export { chooseEngine, tiedPlanUnsupported, yieldEvery, type Engine, type EngineSession, type EngineSkip, type TrainPlan } from './engine.js';
export { candidateOrder, selectBackend, type BackendCandidate, type BackendChoice, type BackendSkip } from './backend.js';
export { SafetensorsError, decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';
export { MAX_TENSOR_VALUES, checkTrainingMemory, formatBytes, largestTensorValues, trainingBytes, type TrainingShape } from './memory.js';
