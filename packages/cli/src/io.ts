import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';

/**
 * Write a file atomically: the data goes to a temporary file in the same folder,
 * which is then renamed over the target, so readers never see a half-written file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
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

/** The output folder is held by another live run. */
export class FolderLockedError extends Error {
  /** Process id of the run holding the folder. */
  readonly pid: number;
  constructor(folder: string, pid: number, lockFile: string) {
    super(`${folder} is in use by another run (pid ${pid}, lock ${lockFile}); wait for it, or choose another --out`);
    this.name = 'FolderLockedError';
    this.pid = pid;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the lock of an output folder: `<folder>.lock`, beside it, holding this
 * process's pid (created exclusively, so two runs cannot both take it). A lock
 * left by a dead process is taken over, reported through `notice`.
 *
 * @returns a function that releases the lock
 * @throws FolderLockedError when a live process holds it
 */
export async function lockFolder(folder: string, notice: (message: string) => void = () => {}): Promise<() => Promise<void>> {
  const lockFile = `${folder.replace(/[/\\]+$/, '')}.lock`;
  await mkdir(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' });
      return async () => {
        await rm(lockFile, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      // held by a live process (this one included: two runs in one process)
      if (Number.isInteger(pid) && pid > 0 && (pid === process.pid || alive(pid))) throw new FolderLockedError(folder, pid, lockFile);
      notice(`taking over the stale lock ${lockFile} (pid ${Number.isInteger(pid) && pid > 0 ? pid : '?'} is not running)`);
      await rm(lockFile, { force: true });
    }
  }
  throw new FolderLockedError(folder, NaN, lockFile);
}
