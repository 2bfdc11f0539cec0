import { intro } from './intro.js';
import type { Experiment } from './types.js';

/** Every experiment of the catalogue, by CLI name. */
export const experiments: Record<string, Experiment<any>> = {
  [intro.name]: intro,
};

export { intro, type IntroConfig, type IntroInstanceResult, type IntroModelResult } from './intro.js';
export { trainToyModels, paramInstance, round9, type TrainToyOptions, type TrainedToyModels } from './common.js';
export type { Experiment, ExperimentOutput, ProgressSink, RunContext } from './types.js';
