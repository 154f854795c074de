// What each user's uploads in progress hold against the per-user quota. An upload reserves
// bytes before they land, so uploads running side by side can never overshoot the quota
// together: a reservation is refused when the user's stored bytes, every reservation and
// the new bytes would pass it.
import { QuotaExceededError } from '../errors.ts';
import type { FileId, UserId } from '../ids.ts';

export interface QuotaLedger {
  /**
   * Holds `bytes` more for `upload`, creating its entry on the first call (even for 0
   * bytes: the entry is how a crash's leftovers are found). A call with 0 bytes also
   * tells that the upload is alive. Throws QuotaExceededError when the bytes do not fit.
   */
  reserve(owner: UserId, upload: FileId, bytes: number): Promise<void>;
  /** Drops the upload's reservation: it was stored (its size now counts as used) or aborted. */
  release(owner: UserId, upload: FileId): Promise<void>;
  /** Bytes held for the owner's uploads in progress. */
  reserved(owner: UserId): Promise<number>;
}

/**
 * The owner's stored bytes, leaving out the files of uploads still `holding` a reservation:
 * a file just committed counts through its reservation (never smaller than the file) until
 * that is released, so the two are never added up and the edge is exact.
 */
export type StoredBytes<R> = (owner: UserId, holding: ReadonlySet<FileId>) => R;

export function checkQuota(limit: number, used: number, reserved: number, bytes: number): void {
  if (used + reserved + bytes <= limit) return;
  throw new QuotaExceededError(
    `storage quota of ${limit} bytes exceeded: ${used} bytes are stored and ${reserved} held by uploads in progress`,
  );
}

export const sumBytes = (entries: Iterable<{ readonly bytes: number }>): number => {
  let n = 0;
  for (const e of entries) n += e.bytes;
  return n;
};
