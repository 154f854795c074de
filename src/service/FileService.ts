// Files as every front sees them: upload (streamed), list with the quota, read, delete,
// and the attachment a message carries. Who may read a file: its owner, and the members
// of every conversation where it was shared. That is asked of storage directly (the share
// records joined with the members, one read), not of the conversation actors: a file may
// be shared in many conversations, storage holds membership as the actors wrote it, and a
// read needs no actor activated. To anyone else a file looks exactly like one that does
// not exist, so ids cannot be probed.
import type { Readable } from 'node:stream';
import { NotFoundError, PermissionDeniedError } from '../errors.ts';
import type { FileId, UserId } from '../ids.ts';
import { mediaType, safeFileName } from '../files/fileName.ts';
import type { FileMeta, FileStore, QuotaUse } from '../files/FileStore.ts';
import type { Attachment, Storage } from '../storage/Storage.ts';

export interface UploadRequest {
  /** As the client gave it; made safe here. */
  readonly name: string | null | undefined;
  /** The file's media type (the upload's Content-Type). */
  readonly contentType: string | undefined;
  /** Content-Length when the client declared one: checked and reserved before any byte. */
  readonly declaredSize: number | undefined;
}

/** A file as clients see it. */
export interface FileView {
  readonly fileId: FileId;
  readonly name: string;
  readonly size: number;
  readonly contentType: string;
  readonly sha256: string;
  readonly createdAt: number;
}

export interface FileList {
  readonly files: readonly FileView[];
  readonly quota: QuotaUse;
}

/** What the messaging path needs: a file the sender may attach. */
export interface AttachmentSource {
  attachment(user: UserId, file: FileId): Promise<Attachment>;
}

const view = (m: FileMeta): FileView => ({
  fileId: m.id, name: m.name, size: m.size, contentType: m.contentType, sha256: m.sha256, createdAt: m.createdAt,
});

export class FileService implements AttachmentSource {
  readonly #store: FileStore;
  readonly #shares: Pick<Storage, 'fileSharedWith'>;

  constructor(store: FileStore, shares: Pick<Storage, 'fileSharedWith'>) {
    this.#store = store;
    this.#shares = shares;
  }

  /** Streams `body` into a new file of `owner`'s. Any failure (limits, a vanished client) leaves nothing. */
  async upload(owner: UserId, req: UploadRequest, body: AsyncIterable<Buffer>): Promise<FileView> {
    const file = { owner, name: safeFileName(req.name), contentType: mediaType(req.contentType) };
    const upload = await this.#store.begin(file, req.declaredSize);
    try {
      for await (const chunk of body) await upload.write(chunk);
      return view(await upload.commit());
    } catch (e) {
      await upload.abort();
      throw e;
    }
  }

  async list(owner: UserId): Promise<FileList> {
    const [files, quota] = await Promise.all([this.#store.list(owner), this.#store.usage(owner)]);
    return { files: files.map(view), quota };
  }

  /** The file, if `user` may read it; otherwise not found, exactly as for an unknown id. */
  async readable(user: UserId, id: FileId): Promise<FileMeta> {
    const meta = await this.#store.stat(id);
    if (meta && (meta.owner === user || await this.#shares.fileSharedWith(id, user))) return meta;
    throw new NotFoundError('file not found');
  }

  /** Bytes [start, end) of a file `readable` returned. */
  read(meta: FileMeta, start: number, end: number): Readable {
    return this.#store.read(meta.id, start, end);
  }

  async delete(user: UserId, id: FileId): Promise<{ fileId: FileId; deleted: true }> {
    await this.#owned(user, id);
    if (!(await this.#store.delete(id))) throw new NotFoundError('file not found');
    return { fileId: id, deleted: true };
  }

  async attachment(user: UserId, id: FileId): Promise<Attachment> {
    const m = await this.#owned(user, id);
    return { fileId: m.id, name: m.name, size: m.size, contentType: m.contentType };
  }

  /** Only the owner deletes or shares a file; a reader who is not is told so, anyone else sees nothing. */
  async #owned(user: UserId, id: FileId): Promise<FileMeta> {
    const meta = await this.readable(user, id);
    if (meta.owner !== user) throw new PermissionDeniedError('only the owner of a file can do this');
    return meta;
  }
}
