// Cluster mode's files, in MongoDB GridFS (bucket `files`: `files.files` holds each file's
// metadata, `files.chunks` its bytes), shared by every node. A file's metadata carries its
// owner and its state: the driver writes the files document when the last chunk is in
// (state `uploading`); flipping it to `ready` is the commit. A delete flips it to
// `deleting` before removing chunks and document, so a crash halfway leaves a marker the
// sweep finishes. An upload is listed in its owner's quota document (MongoQuotaLedger)
// before its first chunk, so whatever a dead node left half-written is found there.
import { Readable } from 'node:stream';
import { GridFSBucket, type Binary, type Collection, type GridFSBucketWriteStream, type MongoClient, type ObjectId } from 'mongodb';
import type { FileId, UserId } from '../ids.ts';
import { log } from '../log.ts';
import { newMongoClient, unavailable } from '../storage/MongoStorage.ts';
import type { FileLimits, FileMeta, NewFile } from './FileStore.ts';
import { FileStoreBase } from './FileStoreBase.ts';
import { MongoQuotaLedger, type QuotaDoc } from './MongoQuotaLedger.ts';
import type { ByteSink } from './Upload.ts';

export const GRIDFS_BUCKET = 'files';
export const QUOTA_COLLECTION = 'file_quotas';
/**
 * What one cursor batch of a download may hold. The driver's own download stream asks for
 * no batch size: a server may then send a whole file's chunks in one reply (the stand-in
 * server here does), so downloads read the chunks themselves, this much at a time.
 */
export const READ_BATCH_BYTES = 1024 * 1024;

type FileState = 'uploading' | 'ready' | 'deleting';

interface FileDoc {
  _id: string;
  length: number;
  chunkSize: number;
  uploadDate: Date;
  filename: string;
  metadata: { owner: string; contentType: string; state: FileState; createdAt: number; sha256?: string };
}

const toMeta = (d: FileDoc): FileMeta => ({
  id: d._id as FileId, owner: d.metadata.owner as UserId, name: d.filename, contentType: d.metadata.contentType,
  size: d.length, sha256: d.metadata.sha256 ?? '', createdAt: d.metadata.createdAt,
});

/** GridFS takes any `_id`; the driver's types only say ObjectId. Ours are strings. */
const gridId = (id: FileId): ObjectId => id as unknown as ObjectId;

async function guarded<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw unavailable(e);
  }
}

export class GridFsFileStore extends FileStoreBase {
  readonly #client: MongoClient;
  readonly #bucket: GridFSBucket;
  readonly #files: Collection<FileDoc>;
  readonly #chunks: Collection<{ files_id: string; n: number; data: Binary }>;
  protected readonly ledger: MongoQuotaLedger;
  #indexed = false;

  constructor(client: MongoClient, limits: FileLimits) {
    super(limits);
    this.#client = client;
    const db = client.db();
    this.#bucket = new GridFSBucket(db, { bucketName: GRIDFS_BUCKET, chunkSizeBytes: limits.chunkBytes });
    this.#files = db.collection(`${GRIDFS_BUCKET}.files`);
    this.#chunks = db.collection(`${GRIDFS_BUCKET}.chunks`);
    this.ledger = new MongoQuotaLedger(db.collection<QuotaDoc>(QUOTA_COLLECTION), limits.quotaBytes,
      (owner, holding) => this.usedBytes(owner, holding));
  }

  static open(url: string, limits: FileLimits): GridFsFileStore {
    return new GridFsFileStore(newMongoClient(url), limits);
  }

  /** The database may be away at start: indexes and a first sweep then come with a later sweep. */
  protected override async open(): Promise<void> {
    this.sweep().then(
      (removed) => log.info('files: gridfs store ready', { sweptUploads: removed }),
      (e) => log.warn('files: gridfs store not ready; retrying with the next sweep', { err: String(e) }),
    );
  }

  async #ensureIndexes(): Promise<void> {
    if (this.#indexed) return;
    await this.#files.createIndex({ 'metadata.owner': 1, 'metadata.state': 1 }, { name: 'files_owner_state' });
    await this.#files.createIndex({ 'metadata.state': 1 }, { name: 'files_state' });
    await this.ledger.ensureIndexes();
    this.#indexed = true;
  }

  override sweep(): Promise<number> {
    return guarded(async () => {
      await this.#ensureIndexes();
      let removed = 0;
      const stale = await this.ledger.claimStale(Date.now() - this.limits.staleUploadMs, (id) => this.isLive(id));
      for (const { owner, upload } of stale) {
        // Committed before its node died: only the reservation was left.
        const doc = await this.#files.findOne({ _id: upload }, { projection: { 'metadata.state': 1 } });
        if (doc?.metadata.state !== 'ready') {
          await this.#purge(upload);
          removed++;
        }
        await this.ledger.release(owner, upload);
      }
      for (const doc of await this.#files.find({ 'metadata.state': 'deleting' }, { projection: { _id: 1 } }).toArray()) {
        await this.#purge(doc._id);
      }
      return removed;
    });
  }

  /** Chunks first, then the document that marks them. */
  async #purge(id: string): Promise<void> {
    await this.#chunks.deleteMany({ files_id: id });
    await this.#files.deleteOne({ _id: id });
  }

  protected override async openSink(id: FileId, file: NewFile): Promise<ByteSink> {
    const stream: GridFSBucketWriteStream = this.#bucket.openUploadStreamWithId(gridId(id), file.name, {
      chunkSizeBytes: this.limits.chunkBytes,
      metadata: { owner: file.owner, contentType: file.contentType, state: 'uploading', createdAt: Date.now() },
    });
    stream.on('error', () => {}); // surfaced by the write and end callbacks
    const settle = (start: (done: (err?: Error | null) => void) => void): Promise<void> =>
      guarded(() => new Promise<void>((resolve, reject) => start((err) => (err ? reject(err) : resolve()))));
    return {
      // One chunk at a time: the callback comes once GridFS has taken it (inserted, at a chunk's end).
      write: (chunk) => settle((done) => stream.write(chunk, done)),
      commit: async (meta) => {
        await settle((done) => stream.end(done));
        const r = await guarded(() => this.#files.updateOne(
          { _id: id, 'metadata.state': 'uploading' },
          { $set: { 'metadata.state': 'ready', 'metadata.sha256': meta.sha256, 'metadata.createdAt': meta.createdAt } },
        ));
        if (r.matchedCount !== 1) throw new Error(`file ${id} vanished before its commit`);
      },
      discard: async () => {
        if (!stream.writableFinished) await stream.abort().catch(() => {});
        await guarded(() => this.#purge(id));
      },
    };
  }

  protected override usedBytes(owner: UserId, holding: ReadonlySet<FileId>): Promise<number> {
    return guarded(async () => {
      const docs = await this.#files.find(
        { 'metadata.owner': owner, 'metadata.state': 'ready', _id: { $nin: [...holding] } }, { projection: { length: 1 } },
      ).toArray();
      return docs.reduce((n, d) => n + d.length, 0);
    });
  }

  override stat(id: FileId): Promise<FileMeta | null> {
    return guarded(async () => {
      const doc = await this.#files.findOne({ _id: id, 'metadata.state': 'ready' });
      return doc && toMeta(doc);
    });
  }

  override read(id: FileId, start: number, end: number): Readable {
    return Readable.from(this.#chunksOf(id, start, end), { objectMode: false, highWaterMark: this.limits.chunkBytes });
  }

  /** Bytes [start, end) of a file, chunk by chunk, a bounded batch at a time. */
  async *#chunksOf(id: FileId, start: number, end: number): AsyncGenerator<Buffer> {
    const file = await guarded(() => this.#files.findOne({ _id: id }, { projection: { chunkSize: 1 } }));
    if (!file) throw new Error(`file ${id} is gone`);
    const size = file.chunkSize;
    const [first, last] = [Math.floor(start / size), Math.floor((end - 1) / size)];
    const cursor = this.#chunks.find({ files_id: id, n: { $gte: first, $lte: last } })
      .sort({ n: 1 }).batchSize(Math.max(1, Math.floor(READ_BATCH_BYTES / size)));
    try {
      let n = first;
      for await (const chunk of cursor) {
        if (chunk.n !== n) throw new Error(`file ${id} lacks chunk ${n}`);
        const bytes = chunk.data.buffer;
        const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        yield data.subarray(n === first ? start - n * size : 0, n === last ? end - n * size : data.length);
        n++;
      }
      if (n !== last + 1) throw new Error(`file ${id} lacks chunk ${n}`);
    } finally {
      await cursor.close();
    }
  }

  override delete(id: FileId): Promise<boolean> {
    return guarded(async () => {
      const r = await this.#files.updateOne({ _id: id, 'metadata.state': 'ready' }, { $set: { 'metadata.state': 'deleting' } });
      if (r.matchedCount !== 1) return false;
      await this.#purge(id);
      return true;
    });
  }

  override list(owner: UserId): Promise<FileMeta[]> {
    return guarded(async () => {
      const docs = await this.#files.find({ 'metadata.owner': owner, 'metadata.state': 'ready' })
        .sort({ 'metadata.createdAt': 1, _id: 1 }).toArray();
      return docs.map(toMeta);
    });
  }

  protected override async shutdown(): Promise<void> {
    await this.#client.close();
  }
}
