/**
 * `@tms/experiments`: the experiments of "Toy Models of Superposition" as typed
 * data. Each has a schema with bounds and docs, defaults, named variants
 * (`quick`, `paper`, …), a `check()` for rules across fields, and a `run()` that
 * trains through whatever engines the host hands in. No Node imports: the CLI,
 * the docs site and your own code run the same experiments.
 *
 * @example
 * ```ts
 * import { autodiffEngine } from '@tms/core';
 * import { fusedEngine } from '@tms/engine-fused';
 * import { createRunContext, experiments, resolveConfig } from '@tms/experiments';
 *
 * const config = resolveConfig(experiments.intro, { steps: 2000 }, 'quick');
 * const { results } = await experiments.intro.run(config, createRunContext({ engines: [fusedEngine, autodiffEngine] }));
 * ```
 *
 * @packageDocumentation
 */
import { ConfigError, validateConfig } from '@tms/data';
import { checkTrainingMemory, type Engine } from '@tms/core';
import { adversarial } from './adversarial.js';
import { doubleDescent } from './double-descent.js';
import { dynamics } from './dynamics.js';
import { geometry } from './geometry.js';
import { intro } from './intro.js';
import { intro2d } from './intro-2d.js';
import { l1 } from './l1.js';
import { computation, privileged } from './neurons.js';
import { nonuniform } from './nonuniform.js';
import { phase } from './phase.js';
import { sae } from './sae.js';
import type { Experiment, ProgressSink, RunContext } from './types.js';

/**
 * Every experiment of the catalogue, by CLI name, in the paper's order. Keys
 * and configs are typed: `experiments.phase.defaults.restarts` is a number and
 * `experiments.phaze` does not compile.
 */
export const experiments = {
  intro,
  'intro-2d': intro2d,
  phase,
  geometry,
  nonuniform,
  dynamics,
  adversarial,
  computation,
  privileged,
  sae,
  l1,
  'double-descent': doubleDescent,
} as const;

/** A name of the catalogue. */
export type ExperimentName = keyof typeof experiments;

/** The config type of the experiment called `N`. */
export type ConfigOf<N extends ExperimentName> = (typeof experiments)[N] extends Experiment<infer C> ? C : never;

/** The experiment called `name`, or undefined (for names that come from user input). */
export function getExperiment(name: string): Experiment<object> | undefined {
  return Object.prototype.hasOwnProperty.call(experiments, name) ? (experiments[name as ExperimentName] as unknown as Experiment<object>) : undefined;
}

/**
 * Resolve an experiment's config: defaults, then the variant, then `input`,
 * each field validated, then the experiment's cross-field `check()`. Nothing
 * has been trained or written when it throws.
 *
 * @throws ConfigError naming the bad field and the allowed values
 */
export function resolveConfig<C extends object>(exp: Experiment<C>, input: Partial<C> = {}, variant?: string): C {
  let base: Partial<C> = {};
  if (variant !== undefined) {
    const v = exp.variants[variant];
    if (!v) throw new ConfigError('variant', `one of ${Object.keys(exp.variants).map((k) => JSON.stringify(k)).join(', ')}`, variant);
    base = v;
  }
  const config = validateConfig(exp.schema, exp.defaults, { ...base, ...input });
  exp.check?.(config);
  return config;
}

/**
 * Refuse a config whose largest training job would need more than `budget`
 * bytes (estimated by `trainingBytes` from the experiment's `trainingShape`),
 * before anything is allocated.
 *
 * @returns the estimate in bytes, or undefined for an experiment that declares no shape
 * @throws ConfigError naming the field to lower, with the estimate and the budget
 * @example
 * ```ts
 * checkMemory(experiments.intro, resolveConfig(experiments.intro, { batchSize: 1_000_000 }), 2e9); // throws
 * ```
 */
export function checkMemory<C extends object>(exp: Experiment<C>, config: C, budget: number, budgetName?: string): number | undefined {
  const shape = exp.trainingShape?.(config);
  return shape && checkTrainingMemory(shape, budget, budgetName);
}

/** Options of {@link createRunContext}. */
export interface RunContextOptions {
  /** Training engines in order of preference (default: `train()`'s default, autodiff). */
  engines?: readonly Engine[];
  /** The training batches' random generator (`philox` for the WebGPU engine; see {@link RunContext.generator}). */
  generator?: 'xoshiro' | 'philox';
  /** Stop early. */
  signal?: AbortSignal;
  /** Where progress goes (default: nowhere). */
  progress?: ProgressSink;
}

/**
 * A run context that keeps checkpoints in memory: for running an experiment
 * from code or in a browser, where there is no output folder to resume from.
 */
export function createRunContext(options: RunContextOptions = {}): RunContext {
  const units = new Map<string, unknown>();
  return {
    progress: options.progress ?? { reset() {}, update() {}, log() {} },
    signal: options.signal,
    engines: options.engines,
    generator: options.generator,
    async checkpoint<T>(key: string, compute: () => Promise<T>): Promise<T> {
      if (units.has(key)) return units.get(key) as T;
      const value = await compute();
      units.set(key, value);
      return value;
    },
  };
}

export { adversarial, computation, doubleDescent, dynamics, geometry, intro, intro2d, l1, nonuniform, phase, privileged, sae };
export type { AdversarialConfig, AdversarialPoint, AdversarialResults, AdversarialTrained, AdversarialTrainingPoint } from './adversarial.js';
export type { DoubleDescentConfig, DoubleDescentGrid, DoubleDescentPoint, DoubleDescentResults, DoubleDescentTrained } from './double-descent.js';
export type { DynamicsConfig, DynamicsResults, SetGeometry } from './dynamics.js';
export type { GeometryConfig, GeometryPoint, GeometryTrained } from './geometry.js';
export type { Intro2dConfig, Intro2dInstance } from './intro-2d.js';
export type { IntroConfig, IntroInstanceResult, IntroModelResult, IntroResults, IntroTrainedModel } from './intro.js';
export type { L1Config, L1Point } from './l1.js';
export type { NeuronConfig, NeuronModelResult, NeuronResults } from './neurons.js';
export type { FiveFeatureGeometry, LocalBases, NonuniformConfig, NonuniformDensityResult, NonuniformPairs, NonuniformResults, NonuniformTrained, PairCollapsePoint } from './nonuniform.js';
export type { LossSurface, PhaseCellResult, PhaseConfig, PhaseResults, PhaseTrained } from './phase.js';
export type { SaeConfig, SaePoint, SaeTrained, SaeTrainedPoint } from './sae.js';
export {
  AdversarialReluOutputModel,
  DivergenceError,
  asWeights,
  heldOutResults,
  heldOutSampleCount,
  heldOutSeed,
  paramInstance,
  round9,
  tailMeanLoss,
  tensorFromNested,
  joinSweeps,
  sweepUnit,
  trainSweep,
  togetherKey,
  trainToyModels,
  trainToyModelsTogether,
  type HeldOut,
  type HeldOutResults,
  type SweepResult,
  type TrainToyOptions,
  type TrainedToyModels,
} from './common.js';
export { assignShards, toyModelCost, trainUnits, type TrainingUnit, type UnitsOptions } from './units.js';
export { CLAIMS, CLAIMS_VERSION, evaluateClaims, type Claim, type ClaimResult } from './claims.js';
export { ReplicateBatcher, type ReplicateBatcherOptions } from './replicates.js';
export { spread, summarizeSeeds, type SeedClaim, type SeedSpread, type SeedSummary } from './seeds.js';
export { defineExperiment, type Analysis, type Experiment, type ExperimentOutput, type ExperimentStages, type ProgressSink, type RunContext } from './types.js';
