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
