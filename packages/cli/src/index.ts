/**
 * `@tms/cli`: the `tms` command and the experiment catalogue, usable from code.
 *
 * @example
 * ```ts
 * import { useNodeBackend } from '@tms/backend-node';
 * import { experiments, runExperiment } from '@tms/cli';
 * await useNodeBackend();
 * const summary = await runExperiment(experiments.intro, { steps: 2000 }, { out: 'results/intro' });
 * ```
 *
 * @packageDocumentation
 */
export { main, type CliIO } from './main.js';
export { resolveConfig, runExperiment, type RunOptions, type RunSummary } from './runner.js';
export { configHash, describeField, parseOverrides, validateConfig, type ConfigSchema, type FieldSpec } from './config.js';
export { ProgressBar, formatSeconds, type ProgressBarOptions } from './progress.js';
export { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from './io.js';
export * from './experiments/index.js';
