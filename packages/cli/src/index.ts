/**
 * `@tms/cli`: the `tms` command, and `runExperiment`, which runs an experiment of
 * `@tms/experiments` into an output folder (validated config, checkpoints per unit
 * for `--resume`, atomic results.json, weights.safetensors and figures).
 *
 * @example
 * ```ts
 * import { useNodeBackend } from '@tms/backend-node';
 * import { experiments } from '@tms/experiments';
 * import { runExperiment } from '@tms/cli';
 * await useNodeBackend();
 * const summary = await runExperiment(experiments.intro, { steps: 2000 }, { out: 'results/intro' });
 * ```
 *
 * @packageDocumentation
 */
export { main, type CliIO } from './main.js';
export { nodeEngines, runExperiment, type RunOptions, type RunSummary } from './runner.js';
export { configHash, parseOverrides } from './config.js';
export { ProgressBar, formatSeconds, type ProgressBarOptions } from './progress.js';
export { FolderLockedError, lockFolder, readJsonIfExists, writeFileAtomic, writeJsonAtomic } from './io.js';
