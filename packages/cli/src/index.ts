/**
 * `@tms/cli`: the `tms` command, and `runExperiment`, which runs an experiment of
 * `@tms/experiments` into an output folder (validated config, memory estimate,
 * a lock, binary checkpoints per unit for `--resume`, and results.json,
 * weights.safetensors and figures moved into place together).
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
export { NonFiniteResultError, cliVersion, defaultMemoryBudget, nodeEngines, nonFinitePath, runExperiment, stagingFolder, type RunOptions, type RunSummary } from './runner.js';
export { CheckpointError, encodeCheckpoint, readCheckpoint, type CheckpointRead } from './checkpoint.js';
export { configHash, parseOverrides } from './config.js';
export { ProgressBar, formatSeconds, type ProgressBarOptions } from './progress.js';
export { FolderLockedError, besideFolder, commitFolder, ensureDir, lockFolder, readJsonIfExists, recoverCommit, writeFileAtomic, writeJsonAtomic } from './io.js';
