import type { BatchSource } from '@tms/data';
import { tiedLayout, type ToyModel } from './models.js';
import type { OptimizerConfig, ScheduleConfig } from './optim.js';

/**
 * A validated training job, as {@link train} hands it to an engine: every
 * option resolved to its final value.
 */
export interface TrainPlan {
  /** The model to train (its variables receive the weights at every `sync`). */
  readonly model: ToyModel;
  /** The batch source; its `instances` and `features` match the model. */
  readonly data: BatchSource;
  /** Importance `[instances × features]`, row-major. */
  readonly importance: Float32Array;
  /** Total optimisation steps. */
  readonly steps: number;
  /** Samples per instance per step. */
  readonly batchSize: number;
  /** Optimizer with every default filled in. */
  readonly optimizer: Readonly<Required<OptimizerConfig>>;
  /** Learning-rate schedule with every default filled in. */
  readonly schedule: Readonly<Required<ScheduleConfig>>;
  /** Steps between two loss records. */
  readonly logEvery: number;
  /** λ of the activation-L1 penalty per instance, or null when there is none. */
  readonly activationL1: Float32Array | null;
}

/**
 * A running training job on one engine. {@link train} drives it segment by
 * segment (one segment per logged step), so an engine may run a whole segment
 * at once: in a loop, on worker threads or in one GPU submission.
 */
export interface EngineSession {
  /**
   * Apply steps `from` to `to − 1` (0-based; the learning rate of step `t` is
   * `learningRateAt(plan.schedule, plan.optimizer.lr, t, plan.steps)`) and
   * return the per-instance loss of step `to − 1`.
   *
   * When `signal` aborts during the segment, an engine that can stop early
   * rejects (with any error); {@link train} then reports the run as aborted at
   * step `from`. The weights may then hold part of the segment's updates.
   */
  run(from: number, to: number, signal?: AbortSignal): Promise<Float32Array>;
  /**
   * Copy the current weights into the model's variables. An engine that holds
   * them as arrays may also return them (by parameter name, each laid out
   * `[instances, …]`): {@link train} then checks them for non-finite values
   * without reading the model back.
   */
  sync(): Promise<void | Record<string, Float32Array>>;
  /** Free what the session holds (never the model). */
  dispose(): void | Promise<void>;
}

/**
 * A way of computing training steps: the plug-in seam of {@link train}.
 *
 * An engine decides what it can train from the model's own declared
 * capabilities (for example `tiedLayout(model)` for the library's tied-weight
 * models), never from a kind string or a backend name. {@link train} takes
 * engines in preference order and falls back to {@link autodiffEngine}, which
 * trains any {@link ToyModel} through its own `forward()`.
 *
 * @example
 * ```ts
 * import { fusedEngine } from '@tms/engine-fused';
 * await train({ model, data, steps: 10_000, engines: [fusedEngine] });
 * ```
 */
export interface Engine {
  /** Short name, reported as `TrainResult.engine`. */
  readonly name: string;
  /** Null when this engine can run the plan; otherwise why it cannot (shown to users). */
  unsupported(plan: TrainPlan): string | null;
  /** Start a session for the plan (only called when `unsupported(plan)` is null). */
  start(plan: TrainPlan): Promise<EngineSession>;
}

/**
 * Why an engine of the tied models (x′ = act(WᵀW x + b)) cannot train a plan,
 * or null when it can: the model must declare a tied layout (exactly
 * `LinearModel` or `ReluOutputModel`, never a subclass or a look-alike) and
 * the plan must have no activation penalty. The fused CPU and WebGPU engines
 * start from it.
 */
export function tiedPlanUnsupported(plan: TrainPlan): string | null {
  if (!tiedLayout(plan.model)) {
    return 'the model declares no tied layout (only LinearModel and ReluOutputModel instances do; subclasses and custom models train by autodiff)';
  }
  if (plan.activationL1) return 'it has no activation-L1 penalty';
  return null;
}

/** Why an engine was passed over, as reported in `TrainResult.skipped`. */
export interface EngineSkip {
  /** The engine's name, e.g. `fused`. */
  engine: string;
  /** Why it declined the plan, e.g. "model kind relu-hidden: …". */
  reason: string;
}

/**
 * The first engine of `engines` that supports the plan, or `fallback`; with the
 * reasons of the engines passed over.
 */
export function chooseEngine(engines: readonly Engine[], plan: TrainPlan, fallback: Engine): { engine: Engine; skipped: EngineSkip[] } {
  const skipped: EngineSkip[] = [];
  for (const engine of engines) {
    const reason = engine.unsupported(plan);
    if (reason === null) return { engine, skipped };
    skipped.push({ engine: engine.name, reason });
  }
  return { engine: fallback, skipped };
}

/** @internal Milliseconds from a monotonic clock where there is one. */
export const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * For engines that compute on the calling thread: a function to await between
 * steps that gives the event loop a turn once `intervalMs` have passed since the
 * last one, so progress, Ctrl-C and abort signals are seen within a step or so.
 * It never changes what is computed.
 *
 * @example
 * ```ts
 * const pause = yieldEvery(100);
 * for (let t = from; t < to; t++) { if (signal?.aborted) throw new Error('aborted'); step(t); await pause(); }
 * ```
 */
export function yieldEvery(intervalMs = 100): () => Promise<void> | undefined {
  let last = now();
  return () => {
    if (now() - last < intervalMs) return undefined;
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        last = now();
        resolve();
      }, 0),
    );
  };
}
