import { join } from 'node:path';
import { ConfigError } from '@tms/data';
import { takeLock } from './io.js';

/** Which part of a sharded run this process trains: shard `index` (0-based) of `count`. */
export interface Shard {
  /** 0-based: K of `--shard K/N`. */
  index: number;
  /** N: the shards the run is split into. */
  count: number;
}

/**
 * Parse `K/N` (0 ≤ K < N, N ≤ 10,000), as `--shard` takes it. K is 0-based, as
 * Slurm's `SLURM_ARRAY_TASK_ID` (with `--array=0-(N-1)`) and Kubernetes'
 * `JOB_COMPLETION_INDEX` count.
 *
 * @throws ConfigError naming `shard`
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(count >= 1 && count <= 10_000 && index >= 0 && index < count)) {
    throw new ConfigError('shard', 'K/N with shards N from 1 to 10000 and K from 0 to N-1 (0-based, e.g. 0/4 … 3/4)', text);
  }
  return { index, count };
}

/** The unit store of a sharded run into `out`: `out/.units`, where every shard saves its finished units. */
export function unitStore(out: string): string {
  return join(out, '.units');
}

/** What a unit store's `manifest.json` holds: the run every unit in it belongs to. */
export interface UnitStoreManifest {
  /** The store's format and its version. */
  format: 'tms-units/1';
  /** The experiment's name. */
  experiment: string;
  /** The resolved config. */
  config: Record<string, unknown>;
  /** The tfjs backend the units are trained on. */
  backend: string;
  /** The training engines, in order of preference. */
  engines: string[];
  /** The @tms/cli version that wrote the store. */
  version: string;
  /** Hash of experiment, config, backend, engines and version; every unit file carries it. */
  hash: string;
  /** Number of shards the run is split into. */
  shards: number;
  /** Extra facts for results.json (the backend's selection report), from the first shard. */
  meta?: Record<string, unknown>;
}

/** Units a merge cannot find in the store: the run is not finished yet. */
export class MissingUnitsError extends Error {
  /** Each missing unit and the shard that trains it (`null`: every shard trains it first). */
  readonly missing: { key: string; shard: number | null }[];
  constructor(store: string, missing: { key: string; shard: number | null }[], shards: number) {
    const byShard = [...new Set(missing.map((m) => m.shard))].sort((a, b) => (a ?? -1) - (b ?? -1));
    const list = missing.slice(0, 8).map((m) => `${m.key} (${m.shard === null ? 'every shard' : `shard ${m.shard}/${shards}`})`);
    super(
      `${missing.length} unit${missing.length > 1 ? 's are' : ' is'} not in ${store} yet: ${list.join(', ')}${missing.length > 8 ? ', …' : ''}; ` +
        `run or rerun ${byShard.map((s) => (s === null ? 'any shard' : `--shard ${s}/${shards}`)).join(', ')} and merge again (or merge with --wait)`,
    );
    this.name = 'MissingUnitsError';
    this.missing = missing;
  }
}

/** Another live process trains the same shard. */
export class ShardLockedError extends Error {
  constructor(lockFile: string, holder: string) {
    super(`this shard is being trained by ${holder} (lock ${lockFile}); wait for it, or remove the lock if that process is gone`);
    this.name = 'ShardLockedError';
  }
}

/**
 * Take the lock of one shard: `<store>/shard-K.lock` (see {@link takeLock}:
 * `host pid`, created exclusively, refreshed while held, and taken over when
 * its process is gone or, from another host, after four heartbeats without a
 * refresh, e.g. a Slurm task requeued elsewhere). Shards lock only
 * themselves, so all N train at once into one store.
 *
 * @returns a function that releases the lock
 * @throws ShardLockedError when a live process holds it
 */
export async function lockShard(store: string, shard: Shard, notice: (message: string) => void = () => {}): Promise<() => Promise<void>> {
  const lockFile = join(store, `shard-${shard.index}.lock`);
  return takeLock(lockFile, (h) => new ShardLockedError(lockFile, h ? `pid ${h.pid} on ${h.host}` : 'another process'), notice);
}
