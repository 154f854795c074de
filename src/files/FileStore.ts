// Where users' files live: bytes streamed in and out (never a whole file in memory), their
// metadata, and the per-user quota they count against. Two implementations pass one
// contract suite: DiskFileStore (embedded default) and GridFsFileStore (MongoDB, cluster).
import type { Readable } from 'node:stream';
import type { FileId, UserId } from '../ids.ts';

export interface NewFile {
  readonly owner: UserId;
  /** Already made safe (fileName.ts): no path, no control characters. */
  readonly name: string;
  readonly contentType: string;
}

/** A stored file. Files never change after their upload; `sha256` is their strong validator. */
export interface FileMeta extends NewFile {
  readonly id: FileId;
  readonly size: number;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly createdAt: number;
}

export interface FileLimits {
  readonly maxFileBytes: number;
  readonly quotaBytes: number;
  /** Quota reserved at a time while an upload of undeclared length streams in. */
  readonly reserveStepBytes: number;
  /** GridFS chunk size; on disk, the read size of a download. */
  readonly chunkBytes: number;
  /** A half-written upload untouched this long is abandoned: the sweep removes it. */
  readonly staleUploadMs: number;
  readonly sweepIntervalMs: number;
}

export interface QuotaUse {
  /** Bytes the user's stored files take. */
  readonly usedBytes: number;
  /** Bytes held for the user's uploads in progress. */
  readonly reservedBytes: number;
  readonly limitBytes: number;
  readonly maxFileBytes: number;
}

/** One upload in progress. Any failure aborts it: nothing of it stays, its quota returns. */
export interface UploadSession {
  readonly id: FileId;
  /**
   * Appends bytes, reserving quota ahead of them. Resolves when the store can take more
   * (the caller's backpressure). Throws PayloadTooLargeError past the per-file limit and
   * QuotaExceededError past the quota.
   */
  write(chunk: Buffer): Promise<void>;
  /** Makes the file durable and visible; its reservation becomes its size. */
  commit(): Promise<FileMeta>;
  /** Removes every byte written and returns the reservation. Idempotent. */
  abort(): Promise<void>;
}

export interface FileStore {
  readonly limits: FileLimits;
  /** Loads what the store needs and starts the periodic sweep. */
  start(): Promise<void>;
  /**
   * Starts an upload. A `declaredSize` is checked against the per-file limit and reserved
   * whole against the quota before any byte lands; without one, quota is reserved in steps.
   */
  begin(file: NewFile, declaredSize?: number): Promise<UploadSession>;
  /** A stored file (never one still uploading), or null. */
  stat(id: FileId): Promise<FileMeta | null>;
  /** Bytes [start, end) of a stored file, streamed; `start < end <= size`. */
  read(id: FileId, start: number, end: number): Readable;
  /** Deletes a stored file; false if there was none. Its bytes stop counting against the quota. */
  delete(id: FileId): Promise<boolean>;
  /** The owner's stored files, oldest first. */
  list(owner: UserId): Promise<FileMeta[]>;
  usage(owner: UserId): Promise<QuotaUse>;
  /** Removes uploads a crash left half-written (untouched for `staleUploadMs`); returns how many. */
  sweep(): Promise<number>;
  /** Stops the sweep and aborts the uploads still in progress. */
  close(): Promise<void>;
}
