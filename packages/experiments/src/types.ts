import type { Engine, TrainingShape } from '@tms/core';
import type { VegaLiteSpec } from '@tms/viz';
import type { ConfigSchema } from '@tms/data';

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
  progress: ProgressSink;
  signal?: AbortSignal;
  /**
   * Training engines in order of preference, handed to `train()` (default: its
   * default, autodiff). The CLI passes worker threads, the fused engine and
   * autodiff; a page passes the fused engine and autodiff.
   */
  engines?: readonly Engine[];
  /**
   * Compute one unit of work (one model, one sweep point) or, when resuming,
   * return the saved result of that unit. Each finished unit is saved atomically.
   */
  checkpoint<T>(key: string, compute: () => Promise<T>): Promise<T>;
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

/** An experiment of the catalogue. */
export interface Experiment<C extends object = Record<string, unknown>> {
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
  /** Run it. */
  run(config: C, ctx: RunContext): Promise<ExperimentOutput>;
  /**
   * The few numbers its paper claim rests on, from its `results` (e.g. intro:
   * features represented by the dense and the sparsest ReLU-output model).
   * The CLI test and the docs' live run assert the same ones.
   */
  headline?(results: Record<string, unknown>): Record<string, number>;
}
