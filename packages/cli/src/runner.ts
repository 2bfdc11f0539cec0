import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { autodiffEngine, encodeSafetensors, tf, type Engine, type TrainPlan } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { parallelFusedEngine } from '@tms/engine-fused/node';
import { webgpuPlanUnsupported } from '@tms/engine-webgpu';
import { ConfigError } from '@tms/data';
import { ReplicateBatcher, assignShards, checkMemory, getExperiment, resolveConfig, summarizeSeeds, type Experiment, type SeedSummary, type ProgressSink, type RunContext, type TrainingUnit, type UnitsOptions } from '@tms/experiments';
import { renderSvg, seedSpreadSpec, type VegaLiteSpec } from '@tms/viz';
import { CheckpointError, encodeCheckpoint, readCheckpoint } from './checkpoint.js';
import { configHash } from './config.js';
import { besideFolder, commitFolder, ensureDir, foreignEntries, lockFolder, readJsonIfExists, recoverCommit, writeFileAtomic, writeJsonAtomic } from './io.js';
import { formatSeconds } from './progress.js';
import { MissingUnitsError, lockShard, unitStore, type Shard, type UnitStoreManifest } from './shards.js';

/** Options of {@link runExperiment}. */
export interface RunOptions {
  /** Output folder (created if needed). */
  out: string;
  /** Named variant applied before `input`, e.g. `quick`. */
  variant?: string;
  /** Reuse finished units of an interrupted run with the same config, backend and engines. */
  resume?: boolean;
  /** Start over, discarding an interrupted run's finished units (what happens without `resume`; refused together with it). */
  restart?: boolean;
  /** Memory budget in bytes: configs estimated to need more are refused. Default {@link defaultMemoryBudget}. */
  maxMemory?: number;
  /** Where progress goes. Default: nowhere. */
  progress?: ProgressSink;
  /** Stop early; finished units stay saved for `resume`. */
  signal?: AbortSignal;
  /** Extra facts recorded in results.json (e.g. the backend). */
  meta?: Record<string, unknown>;
  /** Worker threads for linear / ReLU-output training (results do not depend on it). Default 1. */
  workers?: number;
  /** Training engines in order of preference. Default {@link nodeEngines}`(workers)`. */
  engines?: readonly Engine[];
  /** The training batches' random generator (`philox` with the WebGPU engine, which draws them on the GPU). Default `xoshiro`. */
  generator?: 'xoshiro' | 'philox';
  /**
   * Log the estimated training time (from the first unit's measured step rate
   * and every unit's cost) when it is at least this many seconds. Default
   * {@link TIME_ESTIMATE_ABOVE}; 0 always logs it, Infinity never.
   */
  timeEstimateAbove?: number;
  /**
   * Train the run's toy-model batches through this hook (see `RunContext.trainToy`):
   * {@link runSeeds} sets it to join the same training call of its replicate runs.
   */
  trainToy?: RunContext['trainToy'];
}

/** Runs estimated to train at least this long (seconds) say so as they start: {@link RunOptions.timeEstimateAbove}. */
export const TIME_ESTIMATE_ABOVE = 120;

/**
 * A progress sink that forwards to `progress` and, during the first unit
 * computed, logs once the estimated time left for it and the units after it:
 * seconds per unit of cost measured so far × the cost still to train.
 */
function timeEstimator(progress: ProgressSink, above: number, gpuHelps: () => boolean) {
  // what shortens it: a GPU where it would train the run's models and the run has none, and shards
  const faster = () => `${gpuHelps() ? 'a GPU (--backend webgpu) or ' : ''}shards across machines (tms slurm, tms k8s) shorten it`;
  let current: { cost: number; after: number; count: number; from?: { done: number; seconds: number } } | undefined;
  let told = false;
  const sink: ProgressSink = {
    reset: (label) => progress.reset(label),
    log: (message) => progress.log(message),
    update(done, total, extra, seconds) {
      progress.update(done, total, extra, seconds);
      if (told || !current || seconds === undefined || !(total > 0) || !(done > 0)) return;
      // the rate after the first report (start-up and compilation left out), over 3 s or a quarter of the unit
      const from = (current.from ??= { done, seconds });
      if (done <= from.done || (seconds - from.seconds < 3 && (done - from.done) / total < 0.25)) return;
      told = true;
      const perCost = (seconds - from.seconds) / ((current.cost * (done - from.done)) / total);
      const left = perCost * (current.cost * (1 - done / total) + current.after);
      if (left >= above && Number.isFinite(left)) {
        progress.log(
          `estimated training time: ${formatSeconds(left)} more for ${current.count} unit${current.count === 1 ? '' : 's'} (from the first unit's step rate; ` +
            `${faster()}; Ctrl-C keeps finished units for --resume)`,
        );
      }
    },
  };
  return {
    sink,
    /** A unit of `cost` starts, with `after` cost in `count - 1` more units to compute after it. */
    start(cost: number, after: number, count: number) {
      if (!told) current = { cost, after, count };
    },
    stop() {
      current = undefined;
    },
  };
}

/**
 * `engines` wrapped to watch them and otherwise unchanged (same names, same
 * answers, same sessions): the first reports every plan it is asked about to
 * `onPlan` (train() asks the first engine of its list about each plan), and
 * each counts in `starts`, by its name, the training calls it took. Autodiff is
 * appended where the list lacks it (train() falls back to it anyway), so every
 * call is counted.
 */
function observeEngines(engines: readonly Engine[], onPlan: (plan: TrainPlan) => void, starts: Record<string, number>): Engine[] {
  const all = engines.includes(autodiffEngine) ? engines : [...engines, autodiffEngine];
  return all.map((e, i) =>
    Object.assign(Object.create(e) as Engine, {
      ...(i === 0
        ? {
            unsupported(plan: TrainPlan) {
              onPlan(plan);
              return e.unsupported(plan);
            },
          }
        : {}),
      start(plan: TrainPlan) {
        starts[e.name] = (starts[e.name] ?? 0) + 1;
        return e.start(plan);
      },
    }),
  );
}

/**
 * The engines the CLI trains with: the fused CPU engine on `workers` threads,
 * on the calling thread, then autodiff for every other model.
 */
export function nodeEngines(workers = 1): Engine[] {
  return [parallelFusedEngine({ workers }), fusedEngine, autodiffEngine];
}

/** What {@link runExperiment} wrote. */
export interface RunSummary {
  /** The output folder. */
  outDir: string;
  /** Paths of the files written. */
  files: string[];
  /** The validated config used. */
  config: Record<string, unknown>;
  /** The full results object as written to results.json. */
  results: Record<string, unknown>;
}

const silent: ProgressSink = { reset() {}, update() {}, log() {} };

/**
 * The folder a run into `out` builds its files and checkpoints in,
 * `<out>.partial`; it replaces `out` only when every file is written.
 */
export function stagingFolder(out: string): string {
  return besideFolder(out, '.partial');
}

/** The default memory budget: three quarters of the memory free now. */
export function defaultMemoryBudget(): number {
  return Math.floor(0.75 * freemem());
}

/** Turn a file-system failure on the output folder into a config error naming `--out`. */
async function onOutFolder<T>(out: string, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      throw new ConfigError('out', `a folder this process can create and write (${(e as Error).message})`, out);
    }
    throw e;
  }
}

/**
 * Run an experiment end to end: validate its config and estimate its memory
 * (before touching the disk), lock the output folder, train with a checkpoint
 * per unit, write `results.json`, `weights.safetensors` and every figure into
 * the staging folder `<out>.partial`, then move it into place as `out`. A failed
 * validation writes nothing; a failed or interrupted run leaves the previous
 * contents of `out` as they were, and its finished units in the staging folder
 * for `resume`.
 *
 * @throws ConfigError for a bad config, a run that would not fit in memory, or an unusable `out`
 * @throws FolderLockedError when another live run holds `out`
 * @throws CheckpointError when resuming from a corrupt checkpoint
 */
export async function runExperiment<C extends object>(
  exp: Experiment<C>,
  input: Partial<C>,
  options: RunOptions,
): Promise<RunSummary> {
  const config = resolveWithinMemory(exp, input, options);
  if (options.resume && options.restart) throw new ConfigError('restart', 'not together with resume (choose one)', true);
  const out = options.out;
  await checkOutFolder(out);
  // one run per output folder: a second one stops here, before writing anything
  const notice = (m: string) => (options.progress ?? silent).log(m);
  const release = await onOutFolder(out, () => lockFolder(out, notice));
  try {
    await recoverCommit(out, notice);
    return await runLocked(exp, config, options, await runIdentity(exp, config, options.engines ?? nodeEngines(options.workers ?? 1)));
  } finally {
    await release();
  }
}

/** The validated config, refused (naming the field to lower) when its training would not fit the memory budget. */
function resolveWithinMemory<C extends object>(exp: Experiment<C>, input: Partial<C>, options: Pick<RunOptions, 'variant' | 'maxMemory'>): C {
  const config = resolveConfig(exp, input, options.variant);
  const budget = options.maxMemory ?? defaultMemoryBudget();
  checkMemory(exp, config, budget, options.maxMemory === undefined ? '3/4 of the free memory (--max-memory sets another budget)' : 'the budget --max-memory');
  return config;
}

/**
 * Refuse an output folder holding files a run did not write (a run replaces it
 * whole), or one this process cannot read.
 *
 * @throws ConfigError naming `out`
 */
export async function checkOutFolder(out: string): Promise<void> {
  const foreign = await onOutFolder(out, () => foreignEntries(out));
  if (foreign.length) {
    throw new ConfigError(
      'out',
      "a new folder, or one holding only an earlier run's files (results.json, weights.safetensors, figures), since a run replaces it whole",
      `${out} (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`,
    );
  }
}

/** What a checkpoint must match: the config and what computes it (results differ by backend and engine). */
interface RunIdentity {
  experiment: string;
  config: object;
  backend: string;
  engines: string[];
  version: string;
}

async function runIdentity(exp: { name: string }, config: object, engines: readonly Engine[]): Promise<RunIdentity> {
  return { experiment: exp.name, config, backend: tf.getBackend(), engines: engines.map((e) => e.name), version: await cliVersion() };
}

/** How a run gets its units: trained here (checkpointed for resume), or read from a sharded run's unit store. */
type UnitSource = { kind: 'local' } | { kind: 'merge'; store: string; shards: number };

const unitFile = (dir: string, key: string) => join(dir, `${key.replace(/[^A-Za-z0-9_.-]/g, '_')}.safetensors`);

/**
 * Enforce how an experiment declares its units: prerequisite calls first,
 * then one call with the units to split (a sharded run splits that one and
 * stops, so nothing may follow it).
 */
function unitRounds(expName: string) {
  let splitDone = false;
  return (options: UnitsOptions | undefined) => {
    if (splitDone) {
      throw new Error(`${expName}: train calls trainUnits again after its split units; declare every unit to split in one call, after any { prerequisite: true } calls`);
    }
    if (!options?.prerequisite) splitDone = true;
  };
}

/** `ctx.checkpoint` of sharded and merged runs: every unit must come through `trainUnits`. */
function outsideUnits(expName: string): RunContext['checkpoint'] {
  return async (key) => {
    throw new Error(`${expName}: train calls ctx.checkpoint("${key}") outside trainUnits, so its units cannot be sharded or merged`);
  };
}

/** A unit's value saved at `path` by this run, or else computed now and saved there atomically. */
async function savedOrComputed<T>(path: string, runHash: string, compute: () => Promise<T>): Promise<{ value: T; saved: boolean }> {
  const saved = await readUnit<T>(path, runHash);
  if (saved.found) return { value: saved.value, saved: true };
  const value = await compute();
  await writeFileAtomic(path, encodeCheckpoint(value, runHash));
  return { value, saved: false };
}

/** A unit's saved value: `found` false when the file is missing or from another run. */
async function readUnit<T>(path: string, runHash: string): Promise<{ found: true; value: T } | { found: false }> {
  const saved = await readCheckpoint<T>(path, runHash);
  return saved.status === 'ok' ? { found: true, value: saved.value } : { found: false };
}

async function runLocked<C extends object>(
  exp: Experiment<C>,
  config: C,
  options: RunOptions,
  identity: RunIdentity,
  source: UnitSource = { kind: 'local' },
): Promise<RunSummary> {
  const progress = options.progress ?? silent;
  const engines = options.engines ?? nodeEngines(options.workers ?? 1);
  const configId = configHash({ experiment: exp.name, config });
  const runHash = configHash(identity);
  const staging = stagingFolder(options.out);
  const ckptDir = join(staging, '.checkpoints');
  const manifestPath = join(ckptDir, 'manifest.json');

  if (options.resume && source.kind === 'local') {
    let manifest: { hash?: unknown; backend?: unknown; engines?: unknown } | undefined;
    try {
      manifest = await readJsonIfExists(manifestPath);
    } catch (e) {
      throw new CheckpointError(manifestPath, `is corrupt: ${(e as Error).message}`);
    }
    if (manifest && manifest.hash !== runHash) {
      throw new ConfigError(
        'resume',
        `the config, backend and engines of the interrupted run in ${staging} (backend ${JSON.stringify(manifest.backend)}, engines ${JSON.stringify(manifest.engines)}, hash ${String(manifest.hash)}; this run: backend ${JSON.stringify(identity.backend)}, engines ${JSON.stringify(identity.engines)}, hash ${runHash}); rerun with --restart to start over`,
        true,
      );
    }
  } else {
    await rm(staging, { recursive: true, force: true });
  }
  if (source.kind === 'local') await writeJsonAtomic(manifestPath, { ...identity, hash: runHash });

  // without resume the staging folder was just emptied: nothing is found, everything computed
  const checkpoint = async <T>(key: string, compute: () => Promise<T>): Promise<T> => {
    const unit = await savedOrComputed(unitFile(ckptDir, key), runHash, compute);
    if (unit.saved) progress.log(`${key}: resumed from checkpoint`);
    return unit.value;
  };
  const round = unitRounds(exp.name);
  // a GPU shortens the run where it has none and every model trained so far is one the WebGPU engine takes
  // (the tied ones and those with a ReLU hidden layer, without an activation penalty)
  const seen = { gpu: 0, other: 0 };
  const onGpu = engines.some((e) => e.name === 'webgpu');
  const gpuHelps = () => !onGpu && seen.gpu > 0 && seen.other === 0;
  const estimate = timeEstimator(progress, options.timeEstimateAbove ?? TIME_ESTIMATE_ABOVE, gpuHelps);
  // training calls per engine in this process (units resumed or merged from shards were trained elsewhere)
  const trainedBy: Record<string, number> = {};
  const ctx: RunContext = {
    progress: estimate.sink,
    signal: options.signal,
    engines: observeEngines(engines, (plan) => (webgpuPlanUnsupported(plan) ? seen.other++ : seen.gpu++), trainedBy),
    generator: options.generator,
    ...(options.trainToy ? { trainToy: options.trainToy } : {}),
    checkpoint: source.kind === 'local' ? checkpoint : outsideUnits(exp.name),
    async units<T>(units: readonly TrainingUnit<T>[], unitOptions?: UnitsOptions): Promise<T[]> {
      round(unitOptions);
      if (source.kind === 'local') {
        const out: T[] = [];
        const todo = units.map((u) => !existsSync(unitFile(ckptDir, u.key)));
        for (const [i, u] of units.entries()) {
          const later = units.slice(i + 1).filter((_, k) => todo[i + 1 + k]);
          if (todo[i]) estimate.start(u.cost, later.reduce((a, v) => a + v.cost, 0), later.length + 1);
          try {
            out.push(await checkpoint(u.key, () => u.compute()));
          } finally {
            estimate.stop();
          }
        }
        return out;
      }
      // merge: every unit from the store, or the list of those missing
      const owner = unitOptions?.prerequisite ? null : assignShards(units.map((u) => u.cost), source.shards);
      const values: T[] = [];
      const missing: { key: string; shard: number | null }[] = [];
      for (const [i, u] of units.entries()) {
        const saved = await readUnit<T>(unitFile(source.store, u.key), runHash);
        if (saved.found) values.push(saved.value);
        else missing.push({ key: u.key, shard: owner ? owner[i] : null });
      }
      if (missing.length) throw new MissingUnitsError(source.store, missing, source.shards);
      return values;
    },
  };

  const started = new Date();
  const output = await exp.run(config, ctx);
  const results: Record<string, unknown> = {
    experiment: exp.name,
    title: exp.title,
    paperSection: exp.paperSection,
    version: identity.version,
    createdAt: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    configHash: configId,
    config,
    seed: (config as { seed?: number }).seed,
    ...options.meta,
    // training calls per engine in the process that wrote this file (absent when it trained nothing: a merge of shards, a full resume)
    ...(Object.keys(trainedBy).length ? { trainedBy } : {}),
    ...output.results,
  };
  // the last guard: a number that is not finite is never written as one (JSON would turn it into null)
  const bad = nonFinitePath(output.results, 'results') ?? nonFinitePath(output.tensors ?? {}, 'tensors');
  if (bad) throw new NonFiniteResultError(exp.name, bad);
  // every file goes to the staging folder, which replaces out only when all are written
  const names: string[] = ['results.json'];
  await writeJsonAtomic(join(staging, 'results.json'), results);
  if (output.tensors && Object.keys(output.tensors).length) {
    await writeFileAtomic(join(staging, 'weights.safetensors'), encodeSafetensors(output.tensors, { experiment: exp.name, configHash: configId }));
    names.push('weights.safetensors');
  }
  for (const [stem, spec] of Object.entries(output.figures)) {
    names.push(...(await writeFigure(staging, stem, spec)));
  }
  await rm(ckptDir, { recursive: true, force: true });
  await commitFolder(staging, options.out);
  return { outDir: options.out, files: names.map((n) => join(options.out, n)), config: config as Record<string, unknown>, results };
}

/** Options of {@link runShard}: those of a run, less resume/restart (a shard always reuses the units saved in the store). */
export interface ShardOptions extends Omit<RunOptions, 'resume' | 'restart'> {
  /** Which shard to train. */
  shard: Shard;
}

/** What {@link runShard} did. */
export interface ShardSummary {
  /** The unit store, `out/.units`. */
  store: string;
  /** Which shard this was. */
  shard: Shard;
  /** Units this process trained. */
  trained: string[];
  /** Units it found saved (by an earlier try of this shard, or prerequisites saved by another shard). */
  reused: string[];
  /** Units that other shards train. */
  others: number;
}

/** Thrown through the experiment's `train` once a shard has its units: the rest belongs to other shards. */
class ShardDone extends Error {}

/**
 * Train one shard of a run: the experiment's units are assigned to
 * `shard.count` shards, balanced by estimated cost ({@link assignShards}),
 * and this process trains those of `shard.index` (plus any prerequisite units
 * not saved yet) into the unit store `out/.units`, each unit written
 * atomically. Shards run at once, on one machine or many sharing the folder;
 * each locks only itself. A shard run again (a requeued Slurm task) reuses
 * the units it finds. When every shard is done, {@link mergeShards} writes the
 * results, identical to a one-machine run of the same config apart from
 * timings.
 *
 * @throws ConfigError for a bad config, an unusable `out`, or a store holding another run's units
 * @throws ShardLockedError when a live process trains the same shard
 */
export async function runShard<C extends object>(exp: Experiment<C>, input: Partial<C>, options: ShardOptions): Promise<ShardSummary> {
  const config = resolveWithinMemory(exp, input, options);
  const { out, shard } = options;
  await checkOutFolder(out);
  const progress = options.progress ?? silent;
  const engines = options.engines ?? nodeEngines(options.workers ?? 1);
  const identity = await runIdentity(exp, config, engines);
  const runHash = configHash(identity);
  const store = unitStore(out);
  const manifestPath = join(store, 'manifest.json');
  let manifest: UnitStoreManifest | undefined;
  try {
    manifest = await onOutFolder(out, () => readJsonIfExists<UnitStoreManifest>(manifestPath));
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new CheckpointError(manifestPath, `is corrupt: ${(e as Error).message}`);
  }
  if (manifest && (manifest.hash !== runHash || manifest.shards !== shard.count)) {
    throw new ConfigError(
      'shard',
      `a shard of the run whose units ${store} holds (experiment ${manifest.experiment}, ${manifest.shards} shards, backend ${JSON.stringify(manifest.backend)}, engines ${JSON.stringify(manifest.engines)}, hash ${manifest.hash}; ` +
        `this one: experiment ${exp.name}, ${shard.count} shards, backend ${JSON.stringify(identity.backend)}, engines ${JSON.stringify(identity.engines)}, hash ${runHash}); give the same config, variant, backend and shard count, or delete ${store} to start over`,
      `${shard.index}/${shard.count}`,
    );
  }
  if (!manifest) {
    const fresh: UnitStoreManifest = { format: 'tms-units/1', ...identity, config: config as Record<string, unknown>, hash: runHash, shards: shard.count, meta: options.meta };
    await onOutFolder(out, () => writeJsonAtomic(manifestPath, fresh));
  }
  const release = await lockShard(store, shard, (m) => progress.log(m));
  const summary: ShardSummary = { store, shard, trained: [], reused: [], others: 0 };
  const unit = async <T>(u: TrainingUnit<T>): Promise<T> => {
    const r = await savedOrComputed(unitFile(store, u.key), runHash, () => u.compute());
    (r.saved ? summary.reused : summary.trained).push(u.key);
    if (r.saved) progress.log(`${u.key}: saved already`);
    return r.value;
  };
  const round = unitRounds(exp.name);
  const ctx: RunContext = {
    progress,
    signal: options.signal,
    engines,
    generator: options.generator,
    checkpoint: outsideUnits(exp.name),
    async units<T>(units: readonly TrainingUnit<T>[], unitOptions?: UnitsOptions): Promise<T[]> {
      round(unitOptions);
      if (unitOptions?.prerequisite) {
        const values: T[] = [];
        for (const u of units) values.push(await unit(u));
        return values;
      }
      const owner = assignShards(units.map((u) => u.cost), shard.count);
      for (const [i, u] of units.entries()) {
        if (owner[i] === shard.index) await unit(u);
        else summary.others++;
      }
      throw new ShardDone();
    },
  };
  try {
    await exp.train(config, ctx);
  } catch (e) {
    if (!(e instanceof ShardDone)) throw e;
  } finally {
    await release();
  }
  return summary;
}

/** Options of {@link mergeShards}. */
export interface MergeOptions {
  /** Where progress goes. Default: nowhere. */
  progress?: ProgressSink;
  /** Seconds to wait for missing units (polling the store); default 0: fail at once, listing them. */
  wait?: number;
  /** Seconds between polls while waiting. Default 10. */
  pollSeconds?: number;
  /** Stop waiting for missing units. */
  signal?: AbortSignal;
}

/**
 * Merge a sharded run (see {@link runShard}): read the run from the unit
 * store's manifest, take every unit from the store, and write
 * `results.json`, `weights.safetensors` and the figures into `out` as
 * {@link runExperiment} does (staged, then moved into place; the store goes
 * with the old contents of `out`). Nothing is trained.
 *
 * @throws MissingUnitsError listing the units not saved yet (after `wait` seconds)
 * @throws ConfigError when `out` holds no unit store, or the store was written by another tms version
 */
export async function mergeShards(out: string, options: MergeOptions = {}): Promise<RunSummary> {
  const store = unitStore(out);
  const manifestPath = join(store, 'manifest.json');
  let manifest: UnitStoreManifest | undefined;
  try {
    manifest = await readJsonIfExists<UnitStoreManifest>(manifestPath);
  } catch (e) {
    throw new CheckpointError(manifestPath, `is corrupt: ${(e as Error).message}`);
  }
  if (!manifest) {
    const merged = await readJsonIfExists(join(out, 'results.json')).catch(() => undefined);
    throw new ConfigError(
      'out',
      'the --out of a sharded run (tms run <experiment> --shard K/N --out <dir>)',
      `${out} (it has no ${store}${merged ? '; its results.json is there, so it may be merged already' : ''})`,
    );
  }
  if (manifest.format !== 'tms-units/1') throw new CheckpointError(manifestPath, `has format ${JSON.stringify(manifest.format)}, not tms-units/1`);
  const exp = getExperiment(manifest.experiment);
  if (!exp) throw new CheckpointError(manifestPath, `names an unknown experiment ${JSON.stringify(manifest.experiment)}`);
  const config = resolveConfig(exp, manifest.config as never);
  const identity: RunIdentity = { experiment: exp.name, config, backend: manifest.backend, engines: manifest.engines, version: manifest.version };
  if (configHash(identity) !== manifest.hash) throw new CheckpointError(manifestPath, 'does not match its own hash (edited by hand?)');
  const version = await cliVersion();
  if (manifest.version !== version) throw new ConfigError('version', `tms ${manifest.version}, the version that trained the units in ${store}`, version);
  await checkOutFolder(out);
  const progress = options.progress ?? silent;
  const release = await onOutFolder(out, () => lockFolder(out, (m) => progress.log(m)));
  try {
    await recoverCommit(out, (m) => progress.log(m));
    const deadline = Date.now() + (options.wait ?? 0) * 1000;
    for (;;) {
      try {
        return await runLocked(exp, config, { out, progress, signal: options.signal, meta: manifest.meta }, identity, { kind: 'merge', store, shards: manifest.shards });
      } catch (e) {
        const left = deadline - Date.now();
        if (!(e instanceof MissingUnitsError) || left <= 0 || options.signal?.aborted) throw e;
        progress.log(`waiting for ${e.missing.length} unit${e.missing.length > 1 ? 's' : ''} (${Math.ceil(left / 1000)} s left)`);
        await sleep(Math.min(left, (options.pollSeconds ?? 10) * 1000), options.signal);
      }
    }
  } finally {
    await release();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** An experiment produced a NaN or ±Infinity where a number belongs (the CLI exits 3, writing no results). */
export class NonFiniteResultError extends Error {
  /** Where, e.g. `results.points[2].reconstruction`. */
  readonly path: string;
  constructor(experiment: string, path: string) {
    super(`${experiment}: ${path} is not a finite number (training diverged or a metric overflowed); lower the learning rates and run again`);
    this.name = 'NonFiniteResultError';
    this.path = path;
  }
}

/** The path of the first NaN or ±Infinity in a JSON-like value (typed arrays included), or null. */
export function nonFinitePath(value: unknown, path: string): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = value as unknown as ArrayLike<number>;
    for (let i = 0; i < arr.length; i++) if (typeof arr[i] === 'number' && !Number.isFinite(arr[i])) return `${path}[${i}]`;
    return null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = nonFinitePath(value[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = nonFinitePath(v, `${path}.${k}`);
      if (p) return p;
    }
  }
  return null;
}

let version: string | undefined;
/** The version of `@tms/cli` (from its package.json; "unknown" where that cannot be read). */
export async function cliVersion(): Promise<string> {
  if (version) return version;
  try {
    const url = new URL('../package.json', import.meta.url);
    version = (JSON.parse(await readFile(url, 'utf8')) as { version: string }).version;
  } catch {
    version = 'unknown';
  }
  return version;
}

/** Write a figure atomically into `folder` as `<stem>.svg` and its spec `<stem>.vl.json`; returns the two file names. */
async function writeFigure(folder: string, stem: string, spec: VegaLiteSpec): Promise<string[]> {
  await writeFileAtomic(join(folder, `${stem}.svg`), await renderSvg(spec));
  await writeJsonAtomic(join(folder, `${stem}.vl.json`), spec);
  return [`${stem}.svg`, `${stem}.vl.json`];
}

/** What {@link runSeeds} wrote. */
export interface SeedsSummary {
  /** The folder holding `seed-<s>/` runs, `seeds.json` and the spread figure. */
  outDir: string;
  /** One folder per seed, in order. */
  runs: string[];
  /** Seeds whose finished run was reused (`resume`), not trained again. */
  reused: number[];
  /** Paths of the summary files written. */
  files: string[];
  /** What `seeds.json` holds (see `summarizeSeeds`). */
  summary: SeedSummary;
}

/** Options of {@link runSeeds}: those of a run, and how the replicates train. */
export interface SeedsOptions extends RunOptions {
  /**
   * Train the replicates at once, the same training call of every seed as
   * one batch (their instances side by side; see `ReplicateBatcher`), within
   * `maxMemory`. Default true; false trains one seed after another. The
   * models are the same either way.
   */
  together?: boolean;
}

/**
 * Train `count` replicates of one config, with seeds `seed`, `seed + 1`, …
 * (the config's seed first): each is a whole run into `<out>/seed-<s>/` (as
 * {@link runExperiment}, with its lock, checkpoints and atomic commit), then
 * `<out>/seeds.json` gets every headline number per seed with min / median /
 * max and every claim's pass count (`summarizeSeeds`), and `seeds.svg` /
 * `seeds.vl.json` draw the spread. The runs go at once, each training call of
 * every seed joined into one batch (`together`, the default); each seed's
 * models are those it trains alone. With `resume`, a seed whose folder
 * already holds a finished run of the same config is reused. When a seed
 * fails, the others still finish and are saved; then the first failure is thrown.
 *
 * @throws ConfigError for a bad config or count, or an `out` that holds a single run
 */
export async function runSeeds<C extends object>(exp: Experiment<C>, input: Partial<C>, count: number, options: SeedsOptions): Promise<SeedsSummary> {
  if (!Number.isInteger(count) || count < 1) throw new ConfigError('seeds', 'a whole number of replicate seeds ≥ 1', count);
  const base = resolveWithinMemory(exp, input, options) as C & { seed?: unknown };
  if (typeof base.seed !== 'number') throw new ConfigError('seeds', `an experiment with a seed field (${exp.name} has none)`, count);
  const first = base.seed;
  if (first + count - 1 > 0xffffffff) throw new ConfigError('seeds', `at most ${0xffffffff - first + 1} seeds from seed ${first}`, count);
  const out = options.out;
  if (await readJsonIfExists(join(out, 'results.json'))) {
    throw new ConfigError('out', 'a folder for replicate runs (it gets seed-<s>/ folders), not the folder of a single run', out);
  }
  await ensureDir(out);
  const progress = options.progress ?? silent;
  const runs: { seed: number; results: Record<string, unknown>; config: C }[] = [];
  const dirs: string[] = [];
  const reused: number[] = [];
  const todo: { k: number; seed: number; dir: string; config: C }[] = [];
  for (let k = 0; k < count; k++) {
    const seed = first + k;
    const dir = join(out, `seed-${seed}`);
    const config = resolveConfig(exp, { ...input, seed } as Partial<C>, options.variant);
    // an unreadable results.json is trained again, not reused
    const saved = options.resume ? await readJsonIfExists<Record<string, unknown>>(join(dir, 'results.json')).catch(() => undefined) : undefined;
    if (saved && JSON.stringify(saved.config) === JSON.stringify(config)) {
      runs[k] = { seed, results: saved, config };
      reused.push(seed);
      progress.log(`seed ${seed} (${k + 1}/${count}): finished run reused from ${dir}`);
    } else {
      todo.push({ k, seed, dir, config });
    }
    dirs.push(dir);
  }
  const { together = true, ...runOptions } = options;
  const train = async ({ k, seed, dir, config }: (typeof todo)[number], trainToy?: RunContext['trainToy']) => {
    const results = (await runExperiment(exp, { ...input, seed } as Partial<C>, { ...runOptions, out: dir, ...(trainToy ? { trainToy } : {}) })).results;
    runs[k] = { seed, results, config };
  };
  if (together && todo.length > 1) {
    progress.log(`seeds ${todo.map((t) => t.seed).join(', ')}: trained at once, each training call of every seed in one batch`);
    const batcher = new ReplicateBatcher(todo.length, { maxBytes: options.maxMemory ?? defaultMemoryBudget() });
    const settled = await Promise.allSettled(
      todo.map(async (t, j) => {
        try {
          await train(t, batcher.hook(j));
        } finally {
          batcher.done(j);
        }
      }),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } else {
    for (const t of todo) {
      progress.log(`seed ${t.seed} (${t.k + 1}/${count})`);
      await train(t);
    }
  }
  const summary = summarizeSeeds(exp, runs);
  const { seed: _seed, ...shared } = base;
  await writeJsonAtomic(join(out, 'seeds.json'), { ...summary, config: shared, variant: options.variant ?? null, version: await cliVersion(), createdAt: new Date().toISOString(), ...options.meta });
  const spec = seedSpreadSpec(
    Object.entries(summary.headline).map(([name, s]) => ({ name, seeds: summary.seeds, values: s.values, median: s.median })),
    { title: `${exp.name}: headline numbers over ${count} seed${count === 1 ? '' : 's'} (points: seeds; tick: median)` },
  );
  const files = [join(out, 'seeds.json'), ...(await writeFigure(out, 'seeds', spec)).map((f) => join(out, f))];
  return { outDir: out, runs: dirs, reused, files, summary };
}
