import type { Engine, TrainingShape } from '@tms/core';
import type { VegaLiteSpec } from '@tms/viz';
import type { ConfigSchema } from '@tms/data';
import type { TrainedToyModels, TrainToyOptions } from './common.js';
import type { TrainingUnit, UnitsOptions } from './units.js';

/** Progress sink given to experiments (the CLI draws a bar; code can pass its own). */
export interface ProgressSink {
  /** Begin a phase, e.g. "relu-output". */
  reset(label: string): void;
  /** Report `done` of `total` with extra text. */
  update(done: number, total: number, extra?: string, secondsElapsed?: number): void;
  /** A message on its own line. */
  log(message: string): void;
}

/** What an experiment receives besides its config. */
export interface RunContext {
  /** Where progress goes. */
  progress: ProgressSink;
  /** Stop early: training stops at its next check and the run rejects. */
  signal?: AbortSignal;
  /**
   * Training engines in order of preference, handed to `train()` (default: its
   * default, autodiff). The CLI passes worker threads, the fused engine and
   * autodiff; a page passes the fused engine and autodiff.
   */
  engines?: readonly Engine[];
  /**
   * The random generator of the toy models' training batches (see
   * `SparseFeaturesConfig.generator`): `philox` lets the WebGPU engine draw
   * them on the GPU. Default `xoshiro`. Models with feature sets always use `xoshiro`.
   */
  generator?: 'xoshiro' | 'philox';
  /**
   * Compute one unit of work (one model, one sweep point) or, when resuming,
   * return the saved result of that unit. Each finished unit is saved atomically.
   */
  checkpoint<T>(key: string, compute: () => Promise<T>): Promise<T>;
  /**
   * Train a list of units (optional; experiments call it through `trainUnits`,
   * which falls back to one `checkpoint` per unit). The CLI's runner uses it
   * to split a run into shards (`tms run --shard k/N`) and to merge them.
   */
  units?<T>(units: readonly TrainingUnit<T>[], options?: UnitsOptions): Promise<T[]>;
  /**
   * Train one batch of toy models (optional; `trainToyModels` calls it where
   * it is set, else trains the batch itself). A host running replicate seeds
   * at once sets it to a `ReplicateBatcher`'s hook, which trains the same
   * call of every replicate as one batch; the models are the same. `ctx` is
   * the calling run's context (its engines, progress and signal).
   */
  trainToy?(options: TrainToyOptions, label: string, ctx: RunContext): Promise<TrainedToyModels>;
}

/** What an experiment produces: JSON-serialisable results and figures. */
export interface ExperimentOutput {
  /** Results written to `results.json` (config and seed are added by the runner). */
  results: Record<string, unknown>;
  /** Figures by file stem, each written as `<stem>.svg` and `<stem>.vl.json`. */
  figures: Record<string, VegaLiteSpec>;
  /** Trained weights, written to `weights.safetensors` (names like `relu-output.W`). */
  tensors?: Record<string, { data: Float32Array; shape: number[] }>;
}

/** What an experiment's `analyze` stage returns: its results, the weights to save, a summary line. */
export interface Analysis<R extends Record<string, unknown> = Record<string, unknown>> {
  /** Written to `results.json` (config and seed are added by the runner). */
  results: R;
  /** Trained weights, written to `weights.safetensors` (names like `relu-output.W`). */
  tensors?: Record<string, { data: Float32Array; shape: number[] }>;
  /** One line for the progress log, e.g. the features each model represents. */
  summary?: string;
}

/**
 * The stages of an experiment, as written: `train` (the slow part, one
 * checkpoint per unit), `analyze` (metrics from the trained weights, pure) and
 * `figures` (Vega-Lite specs from the results, pure). {@link defineExperiment}
 * adds `run`, which chains them.
 *
 * - `T`: what training returns (weights and loss histories, JSON-serialisable);
 * - `R`: the results `analyze` computes and `figures` draws.
 */
export interface ExperimentStages<C extends object = Record<string, unknown>, T = unknown, R extends Record<string, unknown> = Record<string, unknown>> {
  /** CLI name, e.g. `intro`. */
  name: string;
  /** One-line summary. */
  title: string;
  /** Which part of the paper it reproduces. */
  paperSection: string;
  /** Schema of its config. */
  schema: ConfigSchema<C>;
  /** Default config (the paper's settings where CPU allows). */
  defaults: C;
  /** Named overrides: `quick` (CPU-sized, used by tests) and `paper` (the paper's sizes). */
  variants: Record<string, Partial<C>>;
  /**
   * Rules across fields (e.g. fewer hidden dimensions than features), run by
   * `resolveConfig` after each field is validated and before anything is
   * trained or written. Throws `ConfigError` naming the field to change.
   */
  check?(config: C): void;
  /**
   * The largest batch of models this config trains at once, so that memory can
   * be estimated (`trainingBytes`) and refused before anything is allocated.
   */
  trainingShape?(config: C): TrainingShape;
  /**
   * Stage 1: train every model of the config, in units through `trainUnits`:
   * any prerequisite units first, then every other unit in one call (so that
   * a sharded run can split them).
   */
  train(config: C, ctx: RunContext): Promise<T>;
  /** Stage 2: results and weights from the trained models; pure (no training, no rendering). */
  analyze(config: C, trained: T): Analysis<R>;
  /** Stage 3: the figures, as Vega-Lite specs, from the results alone; pure. */
  figures(config: C, results: R): Record<string, VegaLiteSpec>;
  /**
   * The few numbers its paper claim rests on, from its `results` (e.g. intro:
   * features represented by the dense and the sparsest ReLU-output model).
   * The CLI test and the docs' live run assert the same ones.
   */
  headline?(results: R): Record<string, number>;
}

/** An experiment of the catalogue: its stages, and `run`, which chains them. */
export interface Experiment<C extends object = Record<string, unknown>, T = unknown, R extends Record<string, unknown> = Record<string, unknown>>
  extends ExperimentStages<C, T, R> {
  /** `train` → `analyze` → `figures` (the summary goes to `ctx.progress.log`). */
  run(config: C, ctx: RunContext): Promise<ExperimentOutput>;
}

/**
 * An experiment from its stages, with `run` chaining them.
 *
 * @example
 * ```ts
 * const mine = defineExperiment({ name: 'mine', ..., train: async (c, ctx) => ..., analyze: (c, t) => ({ results }), figures: (c, r) => ({}) });
 * ```
 */
export function defineExperiment<C extends object, T, R extends Record<string, unknown>>(stages: ExperimentStages<C, T, R>): Experiment<C, T, R> {
  return {
    ...stages,
    async run(config, ctx) {
      const trained = await stages.train(config, ctx);
      const { results, tensors, summary } = stages.analyze(config, trained);
      if (summary) ctx.progress.log(summary);
      return { results, tensors, figures: stages.figures(config, results) };
    },
  };
}
