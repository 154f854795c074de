// The embedded default's files, on local disk under DATA_DIR/files. One file on disk per
// stored file, its metadata in a fixed-size header in front of the bytes, so a file and
// its metadata become visible together by one atomic rename:
//
//   files/<2 chars of the id>/<id>.part   while uploading (header space, then the bytes)
//   files/<2 chars of the id>/<id>        once committed: header written, fsync, rename, fsync of the folder
//
// No other record exists to disagree with it: a crash leaves at most a `.part`, which the
// sweep removes. The index (id -> metadata, the owner's files and their bytes) is read
// from the headers at start and kept in memory; the quota ledger is in memory too, exact
// because this one process serves every upload of the embedded store.
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseFileId, type FileId, type UserId } from '../ids.ts';
import { log } from '../log.ts';
import type { FileLimits, FileMeta, NewFile } from './FileStore.ts';
import { FileStoreBase } from './FileStoreBase.ts';
import { MemoryQuotaLedger } from './MemoryQuotaLedger.ts';
import type { QuotaLedger } from './QuotaLedger.ts';
import type { ByteSink } from './Upload.ts';

/** Room for the metadata in front of the bytes (a 255-character name takes at most ~1 KiB). */
export const HEADER_BYTES = 4096;
const MAGIC = 'SBF1';
/** Magic, then the JSON's length (uint32 BE), then the JSON. */
const HEADER_PREFIX = 8;
export const PART_SUFFIX = '.part';

function encodeHeader(meta: FileMeta): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  if (json.length > HEADER_BYTES - HEADER_PREFIX) throw new Error(`file metadata of ${json.length} bytes does not fit the header`);
  const header = Buffer.alloc(HEADER_BYTES, 0x20);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32BE(json.length, 4);
  json.copy(header, HEADER_PREFIX);
  return header;
}

async function readHeader(path: string): Promise<FileMeta | null> {
  const fh = await open(path, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await fh.read(header, 0, HEADER_BYTES, 0);
    if (bytesRead < HEADER_PREFIX || header.toString('latin1', 0, 4) !== MAGIC) return null;
    return JSON.parse(header.toString('utf8', HEADER_PREFIX, HEADER_PREFIX + header.readUInt32BE(4))) as FileMeta;
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** A rename is durable once its folder is synced. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class DiskFileStore extends FileStoreBase {
  readonly #dir: string;
  readonly #files = new Map<FileId, FileMeta>();
  readonly #byOwner = new Map<UserId, Map<FileId, FileMeta>>();
  protected readonly ledger: QuotaLedger = new MemoryQuotaLedger(this.limits.quotaBytes, (owner, holding) => this.#usedNow(owner, holding));

  /** `dir`: the store's own folder (DATA_DIR/files). */
  constructor(dir: string, limits: FileLimits) {
    super(limits);
    this.#dir = dir;
  }

  #path(id: FileId): string {
    return join(this.#dir, id.slice(2, 4), id);
  }

  #usedNow(owner: UserId, holding: ReadonlySet<FileId>): number {
    let used = 0;
    for (const meta of this.#byOwner.get(owner)?.values() ?? []) if (!holding.has(meta.id)) used += meta.size;
    return used;
  }

  #index(meta: FileMeta): void {
    this.#files.set(meta.id, meta);
    let mine = this.#byOwner.get(meta.owner);
    if (!mine) this.#byOwner.set(meta.owner, (mine = new Map()));
    mine.set(meta.id, meta);
  }

  #unindex(meta: FileMeta): void {
    this.#files.delete(meta.id);
    const mine = this.#byOwner.get(meta.owner);
    mine?.delete(meta.id);
    if (mine?.size === 0) this.#byOwner.delete(meta.owner);
  }

  protected override async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const removed = await this.#walk(true);
    log.info('files: disk store ready', { dir: this.#dir, files: this.#files.size, sweptUploads: removed });
  }

  /** Visits every file: indexes committed ones (at start) and removes stale `.part`s of no live upload. */
  async #walk(index: boolean): Promise<number> {
    const cutoff = Date.now() - this.limits.staleUploadMs;
    let removed = 0;
    for (const shard of await readdir(this.#dir, { withFileTypes: true })) {
      if (!shard.isDirectory()) continue;
      const dir = join(this.#dir, shard.name);
      for (const name of await readdir(dir)) {
        const path = join(dir, name);
        if (name.endsWith(PART_SUFFIX)) {
          if (this.isLive(name.slice(0, -PART_SUFFIX.length) as FileId)) continue;
          const st = await stat(path).catch(() => null);
          if (st && st.mtimeMs < cutoff) {
            await rm(path, { force: true });
            removed++;
          }
        } else if (index && parseFileId(name)) {
          const meta = await readHeader(path);
          if (meta) this.#index(meta);
          else log.warn('files: not a stored file; ignored', { path });
        }
      }
    }
    return removed;
  }

  override sweep(): Promise<number> {
    return this.#walk(false);
  }

  protected override async openSink(id: FileId): Promise<ByteSink> {
    const final = this.#path(id);
    const part = final + PART_SUFFIX;
    await mkdir(dirname(final), { recursive: true });
    const fh = await open(part, 'wx');
    let position = HEADER_BYTES;
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await fh.close();
    };
    return {
      write: async (chunk) => {
        await writeAll(fh, chunk, position);
        position += chunk.length;
      },
      commit: async (meta) => {
        await writeAll(fh, encodeHeader(meta), 0);
        await fh.sync();
        await close();
        await rename(part, final);
        await syncDir(dirname(final));
        this.#index(meta);
      },
      discard: async () => {
        await close().catch(() => {});
        await rm(part, { force: true });
      },
    };
  }

  protected override async usedBytes(owner: UserId, holding: ReadonlySet<FileId>): Promise<number> {
    return this.#usedNow(owner, holding);
  }

  override async stat(id: FileId): Promise<FileMeta | null> {
    return this.#files.get(id) ?? null;
  }

  override read(id: FileId, start: number, end: number): Readable {
    return createReadStream(this.#path(id), {
      start: HEADER_BYTES + start, end: HEADER_BYTES + end - 1, highWaterMark: this.limits.chunkBytes,
    });
  }

  override async delete(id: FileId): Promise<boolean> {
    const meta = this.#files.get(id);
    if (!meta) return false;
    // Out of the index first: no new download starts; those under way keep their open file.
    this.#unindex(meta);
    await rm(this.#path(id), { force: true });
    return true;
  }

  override async list(owner: UserId): Promise<FileMeta[]> {
    return [...(this.#byOwner.get(owner)?.values() ?? [])].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  protected override async shutdown(): Promise<void> {}
}
