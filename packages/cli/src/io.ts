import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { dirname, join, basename } from 'node:path';

/**
 * Write a file atomically: the data goes to a temporary file in the same folder,
 * which is then renamed over the target, so readers never see a half-written file.
 * The temporary name is unique to the write (pid, time and random bytes), so
 * writers of one file in one process, or on hosts sharing the folder, never
 * share a temporary file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await ensureDir(dirname(path));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Create a folder and its missing parents, one level at a time. (Node's
 * recursive `mkdir` loops forever where a parent exists but refuses children,
 * as under /proc; this fails with that error instead.)
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return;
      throw e;
    }
    if (code !== 'ENOENT' || dirname(dir) === dir) throw e;
    await ensureDir(dirname(dir));
    try {
      await mkdir(dir);
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') throw e2;
    }
  }
}

/** Write JSON atomically (pretty-printed). */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 1) + '\n');
}

/** Read a JSON file, or `undefined` when it does not exist. */
export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * A path beside an output folder: `<folder><suffix>` (`.lock`, `.partial`,
 * `.previous`), with any trailing separator of `folder` dropped, so `out/`
 * and `out` name the same siblings.
 */
export function besideFolder(folder: string, suffix: string): string {
  return `${folder.replace(/[/\\]+$/, '')}${suffix}`;
}

/** The output folder is held by another live run. */
export class FolderLockedError extends Error {
  /** Process id of the run holding the folder. */
  readonly pid: number;
  constructor(folder: string, pid: number, lockFile: string, host?: string) {
    super(`${folder} is in use by another run (pid ${pid}${host ? ` on ${host}` : ''}, lock ${lockFile}); wait for it, or choose another --out`);
    this.name = 'FolderLockedError';
    this.pid = pid;
  }
}

/** Whether a process with this pid runs on this host (one of another user counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How often a lock's holder refreshes its file's time; a lock of another host left unrefreshed for four of these is stale. */
export const LOCK_HEARTBEAT_MS = 30_000;

/** Who holds a lock: the host and pid its file names (`host pid`; a bare pid means this host). */
export interface LockHolder {
  /** The host name of the process holding the lock. */
  host: string;
  /** Its process id. */
  pid: number;
}

/**
 * Take a lock file: created exclusively, holding `host pid`, its time
 * refreshed every {@link LOCK_HEARTBEAT_MS} while held. A lock is stale, and
 * taken over with a `notice`, when its process is gone (this host) or when it
 * has not been refreshed for four heartbeats (another host sharing the
 * folder, e.g. a cluster job that was requeued elsewhere).
 *
 * @param held - the error to throw when a live process holds the lock
 * @returns a function that releases the lock
 */
export async function takeLock(lockFile: string, held: (holder: LockHolder | undefined) => Error, notice: (message: string) => void = () => {}): Promise<() => Promise<void>> {
  await ensureDir(dirname(lockFile));
  const here = hostname();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile, `${here} ${process.pid}\n`, { flag: 'wx' });
      const beat = setInterval(() => {
        const t = new Date();
        utimes(lockFile, t, t).catch(() => {});
      }, LOCK_HEARTBEAT_MS);
      beat.unref();
      return async () => {
        clearInterval(beat);
        await rm(lockFile, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const words = (await readFile(lockFile, 'utf8').catch(() => '')).trim().split(/\s+/);
      const holder = { host: words.length > 1 ? words[0] : here, pid: Number(words.at(-1)) };
      const valid = Number.isInteger(holder.pid) && holder.pid > 0;
      if (holder.host === here) {
        // held by a live process (this one included: two runs in one process)
        if (valid && (holder.pid === process.pid || alive(holder.pid))) throw held(holder);
        notice(`taking over the stale lock ${lockFile} (pid ${valid ? holder.pid : '?'} is not running)`);
      } else {
        const age = Date.now() - (await stat(lockFile).then((st) => st.mtimeMs).catch(() => 0));
        if (age < 4 * LOCK_HEARTBEAT_MS) throw held(holder);
        notice(`taking over the stale lock ${lockFile} (${holder.host} ${holder.pid}, last refreshed ${Math.round(age / 1000)} s ago)`);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw held(undefined);
}

/**
 * Take the lock of an output folder: `<folder>.lock`, beside it (see
 * {@link takeLock}: created exclusively, so two runs cannot both take it; a
 * lock of a process that is gone is taken over, reported through `notice`).
 *
 * @returns a function that releases the lock
 * @throws FolderLockedError when a live process holds it
 */
export async function lockFolder(folder: string, notice: (message: string) => void = () => {}): Promise<() => Promise<void>> {
  const lockFile = besideFolder(folder, '.lock');
  const here = hostname();
  return takeLock(lockFile, (h) => new FolderLockedError(folder, h?.pid ?? NaN, lockFile, h && h.host !== here ? h.host : undefined), notice);
}

/** Names a run writes into its output folder (anything else there is not ours to replace). */
export function isRunOutput(name: string): boolean {
  return name === 'results.json' || name === 'weights.safetensors' || name === '.checkpoints' || name === '.units' || /\.(svg|vl\.json)$/.test(name) || /^\..*\.tmp$/.test(name);
}

/** Entries of `folder` that a run did not write; an empty list when it is missing. */
export async function foreignEntries(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).filter((name) => !isRunOutput(name));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Move a finished staging folder into place as `folder`: the previous folder
 * (if any) is first renamed to `<folder>.previous`, then removed once the new
 * one is in place, so a crash leaves either folder whole (see {@link recoverCommit}).
 */
export async function commitFolder(staging: string, folder: string): Promise<void> {
  const previous = besideFolder(folder, '.previous');
  await rm(previous, { recursive: true, force: true });
  let moved = false;
  try {
    await rename(folder, previous);
    moved = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await rename(staging, folder);
  if (moved) await rm(previous, { recursive: true, force: true });
}

/** Finish or undo a {@link commitFolder} cut short by a crash: bring back `<folder>.previous` when `folder` is missing. */
export async function recoverCommit(folder: string, notice: (message: string) => void = () => {}): Promise<void> {
  const previous = besideFolder(folder, '.previous');
  if (!(await exists(previous))) return;
  if (await exists(folder)) {
    await rm(previous, { recursive: true, force: true });
  } else {
    await rename(previous, folder);
    notice(`restored ${folder} from ${previous} (an earlier run stopped while moving its results into place)`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
