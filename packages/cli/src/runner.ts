import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { autodiffEngine, encodeSafetensors, type Engine } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { parallelFusedEngine } from '@tms/engine-fused/node';
import { ConfigError } from '@tms/data';
import { resolveConfig, type Experiment, type ProgressSink, type RunContext } from '@tms/experiments';
import { renderSvg } from '@tms/viz';
import { configHash } from './config.js';
import { lockFolder, readJsonIfExists, writeFileAtomic, writeJsonAtomic } from './io.js';

/** Options of {@link runExperiment}. */
export interface RunOptions {
  /** Output folder (created if needed). */
  out: string;
  /** Named variant applied before `input`, e.g. `quick`. */
  variant?: string;
  /** Reuse finished units of an interrupted run with the same config. */
  resume?: boolean;
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
 * Run an experiment end to end: validate its config (before touching the disk),
 * train with checkpoints per unit, then write `results.json` and every figure as
 * `.svg` and `.vl.json`, each atomically. A failed validation writes nothing.
 */
export async function runExperiment<C extends object>(
  exp: Experiment<C>,
  input: Partial<C>,
  options: RunOptions,
): Promise<RunSummary> {
  const config = resolveConfig(exp, input, options.variant);
  // one run per output folder: a second one stops here, before writing anything
  const release = await lockFolder(options.out, (m) => (options.progress ?? silent).log(m));
  try {
    return await runLocked(exp, config, options);
  } finally {
    await release();
  }
}

async function runLocked<C extends object>(exp: Experiment<C>, config: C, options: RunOptions): Promise<RunSummary> {
  const hash = configHash({ experiment: exp.name, config });
  const ckptDir = join(options.out, '.checkpoints');
  const manifestPath = join(ckptDir, 'manifest.json');
  const progress = options.progress ?? silent;

  if (options.resume) {
    const manifest = await readJsonIfExists<{ hash: string }>(manifestPath);
    if (manifest && manifest.hash !== hash) {
      throw new ConfigError(
        'resume',
        `a config identical to the interrupted run in ${options.out} (its hash is ${manifest.hash}, this one ${hash}); run without --resume to start over`,
        true,
      );
    }
  } else {
    await rm(ckptDir, { recursive: true, force: true });
  }
  await writeJsonAtomic(manifestPath, { experiment: exp.name, hash, config });

  const ctx: RunContext = {
    progress,
    signal: options.signal,
    engines: options.engines ?? nodeEngines(options.workers ?? 1),
    async checkpoint<T>(key: string, compute: () => Promise<T>): Promise<T> {
      const path = join(ckptDir, `${key.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
      if (options.resume) {
        const saved = await readJsonIfExists<{ hash: string; value: T }>(path);
        if (saved && saved.hash === hash) {
          progress.log(`${key}: resumed from checkpoint`);
          return saved.value;
        }
      }
      const value = await compute();
      await writeJsonAtomic(path, { hash, value });
      return value;
    },
  };

  const started = new Date();
  const output = await exp.run(config, ctx);
  const results: Record<string, unknown> = {
    experiment: exp.name,
    title: exp.title,
    paperSection: exp.paperSection,
    version: await packageVersion(),
    createdAt: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    configHash: hash,
    config,
    seed: (config as { seed?: number }).seed,
    ...options.meta,
    ...output.results,
  };
  // Results and weights first, so a failing figure never loses a trained run.
  const resultsPath = join(options.out, 'results.json');
  await writeJsonAtomic(resultsPath, results);
  const files: string[] = [resultsPath];
  if (output.tensors && Object.keys(output.tensors).length) {
    const weightsPath = join(options.out, 'weights.safetensors');
    await writeFileAtomic(weightsPath, encodeSafetensors(output.tensors, { experiment: exp.name, configHash: hash }));
    files.push(weightsPath);
  }
  for (const [stem, spec] of Object.entries(output.figures)) {
    const svg = await renderSvg(spec);
    const svgPath = join(options.out, `${stem}.svg`);
    const specPath = join(options.out, `${stem}.vl.json`);
    await writeFileAtomic(svgPath, svg);
    await writeJsonAtomic(specPath, spec);
    files.push(svgPath, specPath);
  }
  await rm(ckptDir, { recursive: true, force: true });
  return { outDir: options.out, files, config: config as Record<string, unknown>, results };
}

let version: string | undefined;
async function packageVersion(): Promise<string> {
  if (version) return version;
  try {
    const url = new URL('../package.json', import.meta.url);
    version = (JSON.parse(await readFile(url, 'utf8')) as { version: string }).version;
  } catch {
    version = 'unknown';
  }
  return version;
}
