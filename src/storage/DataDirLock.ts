// One process serves an embedded data folder: its SQLite store, and the file index and quota
// ledger it keeps in memory. A second process on the same folder would disagree with the
// first (a file one serves and the other calls unknown, a quota spent twice), so the folder
// is locked by a file naming the owner's pid. A lock whose process is gone (SIGKILL, a
// crash) is stale and taken over.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'switchboard.lock';

export class DataDirLockedError extends Error {
  constructor(dir: string, pid: number, file: string) {
    super(`DATA_DIR ${dir} is in use by process ${pid} (lock ${file}): one process serves an embedded data folder; ` +
      'stop that one, or give this one another DATA_DIR (remove the lock file only if no such process runs)');
    this.name = 'DataDirLockedError';
  }
}

export class DataDirLock {
  readonly #file: string;
  #held = true;

  private constructor(file: string) {
    this.#file = file;
  }

  /** Takes the folder's lock, or throws DataDirLockedError naming the process that holds it. */
  static acquire(dir: string): DataDirLock {
    const file = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
        return new DataDirLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = lockOwner(file);
      if (owner !== null && owner !== process.pid && isAlive(owner)) throw new DataDirLockedError(dir, owner, file);
      // Stale (its process is gone) or unreadable: take it over. Of two processes doing this
      // at once, one creates the file again first; the other then finds it held.
      try {
        unlinkSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    const owner = lockOwner(file) ?? -1;
    throw new DataDirLockedError(dir, owner, file);
  }

  /** Idempotent; only removes the file while it still names this process. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (lockOwner(this.#file) === process.pid) {
      try {
        unlinkSync(this.#file);
      } catch { /* already gone */ }
    }
  }
}

function lockOwner(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but is not ours to signal; alive all the same.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
