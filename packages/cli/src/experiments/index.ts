import { adversarial } from './adversarial.js';
import { dynamics } from './dynamics.js';
import { geometry } from './geometry.js';
import { intro } from './intro.js';
import { intro2d } from './intro2d.js';
import { l1 } from './l1.js';
import { computation, privileged } from './neurons.js';
import { nonuniform } from './nonuniform.js';
import { phase } from './phase.js';
import { sae } from './sae.js';
import type { Experiment } from './types.js';

/** Every experiment of the catalogue, by CLI name, in the paper's order. */
export const experiments: Record<string, Experiment<any>> = Object.fromEntries(
  [intro, intro2d, phase, geometry, nonuniform, dynamics, adversarial, computation, privileged, sae, l1].map((e) => [e.name, e]),
);

export { adversarial, computation, dynamics, geometry, intro2d, l1, nonuniform, phase, privileged, sae };
export type { AdversarialConfig } from './adversarial.js';
export type { DynamicsConfig } from './dynamics.js';
export type { GeometryConfig } from './geometry.js';
export type { Intro2dConfig } from './intro2d.js';
export type { L1Config, L1Point } from './l1.js';
export type { NeuronConfig, NeuronModelResult } from './neurons.js';
export type { NonuniformConfig } from './nonuniform.js';
export type { PhaseCellResult, PhaseConfig } from './phase.js';
export type { SaeConfig, SaePoint } from './sae.js';

export { intro, type IntroConfig, type IntroInstanceResult, type IntroModelResult } from './intro.js';
export {
  asWeights,
  paramInstance,
  round9,
  tailMeanLoss,
  tensorFromNested,
  trainSweep,
  trainToyModels,
  type SweepResult,
  type TrainToyOptions,
  type TrainedToyModels,
} from './common.js';
export type { Experiment, ExperimentOutput, ProgressSink, RunContext } from './types.js';
