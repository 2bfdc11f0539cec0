/**
 * `@tms/cli`: the `tms` command, and `runExperiment`, which runs an experiment of
 * `@tms/experiments` into an output folder (validated config, memory estimate,
 * a lock, binary checkpoints per unit for `--resume`, and results.json,
 * weights.safetensors and figures moved into place together), and `runShard`
 * / `mergeShards`, which split a run across processes or machines.
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
export {
  NonFiniteResultError,
  TIME_ESTIMATE_ABOVE,
  cliVersion,
  defaultMemoryBudget,
  mergeShards,
  nodeEngines,
  nonFinitePath,
  runExperiment,
  runSeeds,
  runShard,
  stagingFolder,
  type MergeOptions,
  type RunOptions,
  type RunSummary,
  type SeedsOptions,
  type SeedsSummary,
  type ShardOptions,
  type ShardSummary,
} from './runner.js';
export { MissingUnitsError, ShardLockedError, lockShard, parseShard, unitStore, type Shard, type UnitStoreManifest } from './shards.js';
export { SubmitError, k8sManifests, shellQuote, slurmScripts, toYaml, type ClusterArgs, type SlurmScripts } from './cluster.js';
export { CheckpointError, encodeCheckpoint, readCheckpoint, type CheckpointRead } from './checkpoint.js';
export { configHash, parseOverrides } from './config.js';
export { ProgressBar, formatSeconds, type ProgressBarOptions } from './progress.js';
export {
  FolderLockedError,
  LOCK_HEARTBEAT_MS,
  besideFolder,
  commitFolder,
  ensureDir,
  lockFolder,
  readJsonIfExists,
  recoverCommit,
  takeLock,
  writeFileAtomic,
  writeJsonAtomic,
  type LockHolder,
} from './io.js';
