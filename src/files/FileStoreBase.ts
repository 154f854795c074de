// What both file stores share: uploads (limits, quota, abort), the quota report, the
// uploads alive in this process, and the periodic sweep of what crashes left half-written.
import type { Readable } from 'node:stream';
import { newFileId, type FileId, type UserId } from '../ids.ts';
import { log } from '../log.ts';
import type { FileLimits, FileMeta, FileStore, NewFile, QuotaUse, UploadSession } from './FileStore.ts';
import type { QuotaLedger } from './QuotaLedger.ts';
import { Upload, type ByteSink } from './Upload.ts';

export abstract class FileStoreBase implements FileStore {
  readonly limits: FileLimits;
  protected abstract readonly ledger: QuotaLedger;
  readonly #live = new Map<FileId, Upload>();
  #timer: NodeJS.Timeout | null = null;

  constructor(limits: FileLimits) {
    this.limits = limits;
  }

  async start(): Promise<void> {
    await this.open();
    this.#timer = setInterval(() => void this.#sweepLogged(), this.limits.sweepIntervalMs);
    this.#timer.unref();
  }

  async begin(file: NewFile, declaredSize?: number): Promise<UploadSession> {
    const id = newFileId();
    const upload = await Upload.begin(id, file, declaredSize, this.ledger, this.limits,
      () => this.openSink(id, file), () => this.#live.delete(id));
    this.#live.set(id, upload);
    return upload;
  }

  async usage(owner: UserId): Promise<QuotaUse> {
    const [usedBytes, reservedBytes] = await Promise.all([this.usedBytes(owner, new Set()), this.ledger.reserved(owner)]);
    return { usedBytes, reservedBytes, limitBytes: this.limits.quotaBytes, maxFileBytes: this.limits.maxFileBytes };
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.allSettled([...this.#live.values()].map((u) => u.abort()));
    await this.shutdown();
  }

  /** An upload of this process still in progress: never swept. */
  protected isLive(id: FileId): boolean {
    return this.#live.has(id);
  }

  async #sweepLogged(): Promise<void> {
    try {
      const removed = await this.sweep();
      if (removed > 0) log.info('files: swept abandoned uploads', { removed });
    } catch (e) {
      log.warn('files: sweep failed; retrying later', { err: String(e) });
    }
  }

  /** Runs once before the first upload: load an index, a first sweep. */
  protected abstract open(): Promise<void>;
  protected abstract openSink(id: FileId, file: NewFile): Promise<ByteSink>;
  /** Bytes of the owner's stored files, but those of `holding` uploads. */
  protected abstract usedBytes(owner: UserId, holding: ReadonlySet<FileId>): Promise<number>;
  protected abstract shutdown(): Promise<void>;
  abstract stat(id: FileId): Promise<FileMeta | null>;
  abstract read(id: FileId, start: number, end: number): Readable;
  abstract delete(id: FileId): Promise<boolean>;
  abstract list(owner: UserId): Promise<FileMeta[]>;
  abstract sweep(): Promise<number>;
}
