// The quota ledger of cluster mode, in MongoDB, shared by every node. One document per
// user lists that user's uploads in progress and what each holds; a change is a
// compare-and-set on the document's version, so two nodes reserving for one user at once
// cannot both pass the check (the loser re-reads and checks again). Stored bytes are
// counted from the stored files themselves, never kept as a counter: a crash can leave no
// counter wrong. An upload whose node died stays listed, untouched; the sweep claims it
// (`swept`), removes its bytes and then its entry, so a crash of the sweep itself is
// finished by the next one.
import { MongoServerError, type Collection } from 'mongodb';
import { UnavailableError } from '../errors.ts';
import type { FileId, UserId } from '../ids.ts';
import { checkQuota, sumBytes, type QuotaLedger, type StoredBytes } from './QuotaLedger.ts';

/** Compare-and-set attempts before a reservation gives up as busy. */
export const QUOTA_CAS_RETRIES = 50;
/** After a lost compare-and-set, wait up to this (times the attempt, at most 10) so racers spread out. */
export const QUOTA_CAS_BACKOFF_MS = 1;
const DUPLICATE_KEY = 11000;

interface HeldUpload {
  readonly id: string;
  readonly bytes: number;
  /** Last reservation or heartbeat (ms since epoch). */
  readonly at: number;
  /** Claimed by a sweep: the upload is abandoned and its bytes are being removed. */
  readonly swept?: boolean;
}

export interface QuotaDoc {
  _id: string;
  version: number;
  uploads: HeldUpload[];
}

export interface StaleUpload {
  readonly owner: UserId;
  readonly upload: FileId;
}

/** The entries a change leaves, or null for no change. */
type Change = (uploads: readonly HeldUpload[]) => Promise<HeldUpload[] | null> | HeldUpload[] | null;

const abandoned = (): UnavailableError => new UnavailableError('the upload was abandoned (no progress for too long); upload again');

export class MongoQuotaLedger implements QuotaLedger {
  readonly #quotas: Collection<QuotaDoc>;
  readonly #limit: number;
  readonly #used: StoredBytes<Promise<number>>;
  /** Uploads this process reserved for: a missing entry then means a sweep took it. */
  readonly #mine = new Set<FileId>();

  constructor(quotas: Collection<QuotaDoc>, limit: number, used: StoredBytes<Promise<number>>) {
    this.#quotas = quotas;
    this.#limit = limit;
    this.#used = used;
  }

  ensureIndexes(): Promise<string> {
    return this.#quotas.createIndex({ 'uploads.at': 1 }, { name: 'file_quotas_upload_at' });
  }

  async reserve(owner: UserId, upload: FileId, bytes: number): Promise<void> {
    await this.#change(owner, async (uploads) => {
      const entry = uploads.find((u) => u.id === upload);
      if (entry?.swept || (!entry && this.#mine.has(upload))) throw abandoned();
      // Read after the document: a commit that raised `used` since then also changed the version.
      if (bytes > 0) {
        const holding = new Set(uploads.map((u) => u.id as FileId));
        checkQuota(this.#limit, await this.#used(owner, holding), sumBytes(uploads), bytes);
      }
      const at = Date.now();
      return entry
        ? uploads.map((u) => (u === entry ? { id: u.id, bytes: u.bytes + bytes, at } : u))
        : [...uploads, { id: upload, bytes, at }];
    });
    this.#mine.add(upload);
  }

  async release(owner: UserId, upload: FileId): Promise<void> {
    await this.#change(owner, (uploads) => (uploads.some((u) => u.id === upload) ? uploads.filter((u) => u.id !== upload) : null));
    this.#mine.delete(upload);
  }

  async reserved(owner: UserId): Promise<number> {
    const doc = await this.#quotas.findOne({ _id: owner });
    return doc ? sumBytes(doc.uploads) : 0;
  }

  /**
   * Claims the uploads untouched since `cutoff` (skipping those `live` in this process) for
   * removal: from now on their own node's writes are refused. Includes claims a crashed
   * sweep left.
   */
  async claimStale(cutoff: number, live: (upload: FileId) => boolean): Promise<StaleUpload[]> {
    const claimed: StaleUpload[] = [];
    for (const doc of await this.#quotas.find({ 'uploads.at': { $lt: cutoff } }).toArray()) {
      const owner = doc._id as UserId;
      for (const stale of doc.uploads.filter((u) => u.at < cutoff && !live(u.id as FileId))) {
        let won = false;
        await this.#change(owner, (uploads) => {
          const entry = uploads.find((u) => u.id === stale.id);
          won = entry !== undefined && entry.at === stale.at; // else gone, or alive again
          return !won || entry!.swept ? null : uploads.map((u) => (u === entry ? { ...u, swept: true } : u));
        });
        if (won) claimed.push({ owner, upload: stale.id as FileId });
      }
    }
    return claimed;
  }

  async #doc(owner: UserId): Promise<QuotaDoc> {
    const doc = await this.#quotas.findOne({ _id: owner });
    if (doc) return doc;
    try {
      await this.#quotas.updateOne({ _id: owner }, { $setOnInsert: { version: 0, uploads: [] } }, { upsert: true });
    } catch (e) {
      // Another node created it at the same moment.
      if (!(e instanceof MongoServerError && e.code === DUPLICATE_KEY)) throw e;
    }
    return (await this.#quotas.findOne({ _id: owner })) ?? { _id: owner, version: 0, uploads: [] };
  }

  async #change(owner: UserId, change: Change): Promise<void> {
    for (let attempt = 0; attempt < QUOTA_CAS_RETRIES; attempt++) {
      const doc = await this.#doc(owner);
      const next = await change(doc.uploads);
      if (next === null) return;
      const r = await this.#quotas.updateOne({ _id: owner, version: doc.version }, { $set: { uploads: next }, $inc: { version: 1 } });
      if (r.matchedCount === 1) return;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * QUOTA_CAS_BACKOFF_MS * Math.min(attempt + 1, 10)));
    }
    throw new UnavailableError('the storage quota is busy; retry');
  }
}
