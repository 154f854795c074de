// The quota ledger of the embedded default: in memory. Exact because one process serves
// every upload of the embedded store and checks-and-reserves in one synchronous step;
// reservations die with the process, like the half-written files they stand for.
import type { FileId, UserId } from '../ids.ts';
import { checkQuota, sumBytes, type QuotaLedger, type StoredBytes } from './QuotaLedger.ts';

export class MemoryQuotaLedger implements QuotaLedger {
  readonly #limit: number;
  /** Synchronous, so nothing can slip between the check and the reservation. */
  readonly #used: StoredBytes<number>;
  readonly #held = new Map<UserId, Map<FileId, { bytes: number }>>();

  constructor(limit: number, used: StoredBytes<number>) {
    this.#limit = limit;
    this.#used = used;
  }

  async reserve(owner: UserId, upload: FileId, bytes: number): Promise<void> {
    let mine = this.#held.get(owner);
    if (bytes > 0) checkQuota(this.#limit, this.#used(owner, new Set(mine?.keys())), mine ? sumBytes(mine.values()) : 0, bytes);
    if (!mine) this.#held.set(owner, (mine = new Map()));
    const entry = mine.get(upload);
    if (entry) entry.bytes += bytes;
    else mine.set(upload, { bytes });
  }

  async release(owner: UserId, upload: FileId): Promise<void> {
    const mine = this.#held.get(owner);
    mine?.delete(upload);
    if (mine?.size === 0) this.#held.delete(owner);
  }

  async reserved(owner: UserId): Promise<number> {
    const mine = this.#held.get(owner);
    return mine ? sumBytes(mine.values()) : 0;
  }
}
