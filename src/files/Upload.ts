// One upload in progress, whatever the store: it counts and hashes the bytes, refuses them
// past the per-file limit, reserves quota ahead of them (so nothing lands unreserved), and
// on any failure removes what it wrote and returns its reservation. The store supplies a
// ByteSink: where the bytes go and how they become a file.
import { createHash } from 'node:crypto';
import { PayloadTooLargeError, QuotaExceededError } from '../errors.ts';
import type { FileId } from '../ids.ts';
import { log } from '../log.ts';
import type { FileLimits, FileMeta, NewFile, UploadSession } from './FileStore.ts';
import type { QuotaLedger } from './QuotaLedger.ts';

/** Where one upload's bytes go. */
export interface ByteSink {
  /** Resolves when the bytes are taken (the upload's backpressure). */
  write(chunk: Buffer): Promise<void>;
  /** Makes the bytes durable and the file visible with `meta`. */
  commit(meta: FileMeta): Promise<void>;
  /** Removes whatever was written. Idempotent. */
  discard(): Promise<void>;
}

/** A live upload tells its ledger entry it is alive at least this often (of the stale age). */
export const HEARTBEAT_FRACTION = 4;

type State = 'open' | 'committing' | 'done' | 'aborted';

export const tooLarge = (limit: number): PayloadTooLargeError =>
  new PayloadTooLargeError(`file is larger than the limit of ${limit} bytes`);

export class Upload implements UploadSession {
  readonly id: FileId;
  readonly #file: NewFile;
  readonly #sink: ByteSink;
  readonly #ledger: QuotaLedger;
  readonly #limits: FileLimits;
  readonly #ended: () => void;
  readonly #hash = createHash('sha256');
  readonly #createdAt = Date.now();
  #size = 0;
  #reserved: number;
  #touchedAt = Date.now();
  #state: State = 'open';

  private constructor(id: FileId, file: NewFile, sink: ByteSink, ledger: QuotaLedger, limits: FileLimits, reserved: number, ended: () => void) {
    this.id = id;
    this.#file = file;
    this.#sink = sink;
    this.#ledger = ledger;
    this.#limits = limits;
    this.#reserved = reserved;
    this.#ended = ended;
  }

  /**
   * Reserves what is known before any byte lands: the declared size whole, or nothing yet
   * (the entry alone, so a crash's leftovers can be found), then opens the sink.
   */
  static async begin(
    id: FileId, file: NewFile, declaredSize: number | undefined, ledger: QuotaLedger, limits: FileLimits,
    openSink: () => Promise<ByteSink>, ended: () => void,
  ): Promise<Upload> {
    if (declaredSize !== undefined && declaredSize > limits.maxFileBytes) throw tooLarge(limits.maxFileBytes);
    const reserved = declaredSize ?? 0;
    await ledger.reserve(file.owner, id, reserved);
    let sink: ByteSink;
    try {
      sink = await openSink();
    } catch (e) {
      await ledger.release(file.owner, id);
      throw e;
    }
    return new Upload(id, file, sink, ledger, limits, reserved, ended);
  }

  async write(chunk: Buffer): Promise<void> {
    this.#expect('open');
    try {
      const total = this.#size + chunk.length;
      if (total > this.#limits.maxFileBytes) throw tooLarge(this.#limits.maxFileBytes);
      await this.#reserveUpTo(total);
      if (Date.now() - this.#touchedAt > this.#limits.staleUploadMs / HEARTBEAT_FRACTION) await this.#reserve(0);
      this.#hash.update(chunk);
      await this.#sink.write(chunk);
      this.#size = total;
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async commit(): Promise<FileMeta> {
    this.#expect('open');
    this.#state = 'committing';
    const meta: FileMeta = {
      id: this.id, ...this.#file, size: this.#size, sha256: this.#hash.digest('hex'), createdAt: this.#createdAt,
    };
    try {
      // Still ours? A sweep takes an upload that made no progress for too long.
      await this.#reserve(0);
      await this.#sink.commit(meta);
    } catch (e) {
      this.#state = 'open';
      await this.abort();
      throw e;
    }
    this.#state = 'done';
    this.#ended();
    // Stored: a reservation left behind (database away) is dropped by the sweep, which finds the file stored.
    await this.#ledger.release(this.#file.owner, this.id).catch((e) => log.warn('files: reservation not released', { file: this.id, err: String(e) }));
    return meta;
  }

  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    this.#ended();
    try {
      await this.#sink.discard();
    } catch (e) {
      // Keep the reservation: the sweep removes the bytes, then returns it.
      log.warn('files: an aborted upload could not be removed yet', { file: this.id, err: String(e) });
      return;
    }
    await this.#ledger.release(this.#file.owner, this.id)
      .catch((e) => log.warn('files: reservation not released', { file: this.id, err: String(e) }));
  }

  #expect(state: State): void {
    if (this.#state !== state) throw new Error(`upload ${this.id} is ${this.#state}`);
  }

  async #reserve(bytes: number): Promise<void> {
    await this.#ledger.reserve(this.#file.owner, this.id, bytes);
    this.#reserved += bytes;
    this.#touchedAt = Date.now();
  }

  /** Reserves a step ahead; at the quota's edge, only what is needed. */
  async #reserveUpTo(total: number): Promise<void> {
    const need = total - this.#reserved;
    if (need <= 0) return;
    const step = Math.min(Math.max(need, this.#limits.reserveStepBytes), this.#limits.maxFileBytes - this.#reserved);
    try {
      await this.#reserve(step);
    } catch (e) {
      if (!(e instanceof QuotaExceededError) || step === need) throw e;
      await this.#reserve(need);
    }
  }
}
