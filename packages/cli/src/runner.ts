import { readFile, rm } from 'node:fs/promises';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { autodiffEngine, encodeSafetensors, tf, type Engine } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { parallelFusedEngine } from '@tms/engine-fused/node';
import { ConfigError } from '@tms/data';
import { checkMemory, resolveConfig, type Experiment, type ProgressSink, type RunContext } from '@tms/experiments';
import { renderSvg } from '@tms/viz';
import { CheckpointError, encodeCheckpoint, readCheckpoint } from './checkpoint.js';
import { configHash } from './config.js';
import { besideFolder, commitFolder, foreignEntries, lockFolder, readJsonIfExists, recoverCommit, writeFileAtomic, writeJsonAtomic } from './io.js';

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
  const config = resolveConfig(exp, input, options.variant);
  if (options.resume && options.restart) throw new ConfigError('restart', 'not together with resume (choose one)', true);
  const budget = options.maxMemory ?? defaultMemoryBudget();
  checkMemory(exp, config, budget, options.maxMemory === undefined ? '3/4 of the free memory (--max-memory sets another budget)' : 'the budget --max-memory');
  const out = options.out;
  const foreign = await onOutFolder(out, () => foreignEntries(out));
  if (foreign.length) {
    throw new ConfigError(
      'out',
      "a new folder, or one holding only an earlier run's files (results.json, weights.safetensors, figures), since a run replaces it whole",
      `${out} (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`,
    );
  }
  // one run per output folder: a second one stops here, before writing anything
  const notice = (m: string) => (options.progress ?? silent).log(m);
  const release = await onOutFolder(out, () => lockFolder(out, notice));
  try {
    await recoverCommit(out, notice);
    return await runLocked(exp, config, options);
  } finally {
    await release();
  }
}

async function runLocked<C extends object>(exp: Experiment<C>, config: C, options: RunOptions): Promise<RunSummary> {
  const progress = options.progress ?? silent;
  const engines = options.engines ?? nodeEngines(options.workers ?? 1);
  const configId = configHash({ experiment: exp.name, config });
  // what a checkpoint must match: the config and what computes it (results differ by backend and engine)
  const identity = { experiment: exp.name, config, backend: tf.getBackend(), engines: engines.map((e) => e.name), version: await cliVersion() };
  const runHash = configHash(identity);
  const staging = stagingFolder(options.out);
  const ckptDir = join(staging, '.checkpoints');
  const manifestPath = join(ckptDir, 'manifest.json');

  if (options.resume) {
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
  await writeJsonAtomic(manifestPath, { ...identity, hash: runHash });

  const ctx: RunContext = {
    progress,
    signal: options.signal,
    engines,
    async checkpoint<T>(key: string, compute: () => Promise<T>): Promise<T> {
      const path = join(ckptDir, `${key.replace(/[^A-Za-z0-9_.-]/g, '_')}.safetensors`);
      if (options.resume) {
        const saved = await readCheckpoint<T>(path, runHash);
        if (saved.status === 'ok') {
          progress.log(`${key}: resumed from checkpoint`);
          return saved.value;
        }
      }
      const value = await compute();
      await writeFileAtomic(path, encodeCheckpoint(value, runHash));
      return value;
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
    await writeFileAtomic(join(staging, `${stem}.svg`), await renderSvg(spec));
    await writeJsonAtomic(join(staging, `${stem}.vl.json`), spec);
    names.push(`${stem}.svg`, `${stem}.vl.json`);
  }
  await rm(ckptDir, { recursive: true, force: true });
  await commitFolder(staging, options.out);
  return { outDir: options.out, files: names.map((n) => join(options.out, n)), config: config as Record<string, unknown>, results };
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
