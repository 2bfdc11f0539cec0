/**
 * `@tms/data`: seeded synthetic sparse features for toy models of superposition.
 *
 * Pure TypeScript, no tensor library: batches are `Float32Array`s laid out
 * `[instances, batch, features]`.
 *
 * @packageDocumentation
 */
export { Rng, WEIGHT_STREAM, deriveSeed, gapTable, type GapTable } from './rng.js';
export { philox4x32, philoxFeatures, unitFloat } from './philox.js';
export {
  ConfigError,
  ShapeError,
  checkBoolean,
  checkLength,
  checkInt,
  checkNumber,
  checkOneOf,
  expandPerFeature,
  type PerFeature,
} from './spec.js';
export {
  FiniteDataset,
  type FiniteDatasetOptions,
  SparseFeatures,
  geometricImportance,
  resolveProbability,
  type BatchSource,
  type FeatureBatch,
  type FeatureSet,
  type InstanceStreams,
  type SparseFeaturesConfig,
} from './features.js';
export { defaultsOf, describeField, validateConfig, type ConfigFromSchema, type ConfigSchema, type FieldSpec, type FieldValue } from './schema.js';
export { adamScalars, adamStep, compileWasmBase64, type AdamScalars, type AdamSettings } from './adam.js';
