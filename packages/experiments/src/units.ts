import type { RunContext } from './types.js';

/**
 * One unit of training work (one batch of models, one autoencoder): what
 * {@link trainUnits} computes and checkpoints, and what a sharded run assigns
 * to one shard.
 */
export interface TrainingUnit<T> {
  /** Checkpoint key, unique within the run, e.g. `chunk-8` (letters, digits and `_.-` keep it readable as a file name). */
  key: string;
  /** Estimated cost in any unit consistent within the experiment (e.g. multiply-adds, see {@link toyModelCost}); shards are balanced by it. */
  cost: number;
  /** Train the unit and return its result as JSON-like data (typed arrays allowed). */
  compute(): Promise<T>;
}

/** Options of {@link trainUnits}. */
export interface UnitsOptions {
  /**
   * The results are needed by later units of the same run (e.g. the models
   * an autoencoder is trained on). A sharded run does not split these: every
   * shard computes them, or reads them when another shard has saved them.
   * Each experiment's last call is not a prerequisite; it is the one split
   * across shards.
   */
  prerequisite?: boolean;
}

/**
 * Train units through the run context: `ctx.units` where it has one (the
 * CLI's runner, which also shards and merges runs), else one `ctx.checkpoint`
 * per unit, in order. An experiment's `train` stage declares all the units it
 * splits in one call, after any prerequisite calls, so that a shard knows the
 * whole list before it trains its part.
 *
 * @returns the units' results, in the order given
 */
export async function trainUnits<T>(ctx: RunContext, units: readonly TrainingUnit<T>[], options: UnitsOptions = {}): Promise<T[]> {
  const seen = new Set<string>();
  for (const u of units) {
    if (seen.has(u.key)) throw new Error(`trainUnits: the unit key ${JSON.stringify(u.key)} is given twice; keys must be unique within a run`);
    seen.add(u.key);
    if (!(u.cost >= 0 && Number.isFinite(u.cost))) throw new Error(`trainUnits: unit ${u.key} has cost ${u.cost}; a cost is a finite number ≥ 0`);
  }
  if (ctx.units) return ctx.units(units, options);
  const out: T[] = [];
  for (const u of units) out.push(await ctx.checkpoint(u.key, () => u.compute()));
  return out;
}

/**
 * Assign units to `shards` shards, balanced by cost: the costliest unit first,
 * each to the shard with the least cost so far (ties: the lower unit index,
 * then the lower shard index). The same costs give the same assignment on
 * every machine.
 *
 * @returns the shard index (0-based) of each unit, in the order given
 */
export function assignShards(costs: readonly number[], shards: number): number[] {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`assignShards: shards is ${shards}; it must be an integer ≥ 1`);
  const order = costs.map((c, i) => ({ c, i })).sort((a, b) => b.c - a.c || a.i - b.i);
  const load = new Array<number>(shards).fill(0);
  const count = new Array<number>(shards).fill(0);
  const owner = new Array<number>(costs.length).fill(0);
  for (const { c, i } of order) {
    let best = 0;
    for (let s = 1; s < shards; s++) if (load[s] < load[best] || (load[s] === load[best] && count[s] < count[best])) best = s;
    owner[i] = best;
    load[best] += c;
    count[best]++;
  }
  return owner;
}

/**
 * What one parameter's optimizer update costs per step, in multiply-adds of
 * a sample's pass through one weight: measured on the fused CPU engine
 * (≈ 13 ns per parameter against ≈ 0.85 ns per sample and weight, full
 * batches of n = 1,000, m = 2 at 5 and 100 points).
 */
const UPDATE_COST = 15;

/**
 * Estimated cost of training a batch of toy models, in multiply-adds: 6 per
 * weight, sample and step (forward and backward passes), plus the optimizer's
 * update of every parameter at every step ({@link UPDATE_COST} sample-weight
 * passes each), `6 · instances · steps · (batchSize · features · hidden + 15 · features · (hidden + 1))`.
 * The update term dominates small batches, such as double descent's small training sets.
 */
export function toyModelCost(o: { instances: number; steps: number; batchSize: number; features: number; hidden: number }): number {
  return 6 * o.instances * o.steps * (o.batchSize * o.features * o.hidden + UPDATE_COST * o.features * (o.hidden + 1));
}
