// The FileService provider: each RPC calls the same FileService the HTTP file routes use, so
// who may read, attach or delete a file, the limits and the quota are decided in one place.
// Bytes stream both ways with backpressure: an upload takes the next message only once the
// store has taken the last chunk; a download writes the next chunk only once the transport
// has taken the last one. A call that ends first (cancelled, deadline passed, connection
// lost) stops what it was doing: an upload keeps nothing, a download stops reading.
import type { Readable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, RangeNotSatisfiableError } from '../../errors.ts';
import { mediaType } from '../../files/fileName.ts';
import type { FileId, UserId } from '../../ids.ts';
import { log } from '../../log.ts';
import type { FileService } from '../../service/FileService.ts';
import { fileId } from '../../service/validate.ts';
import { CallEnded, type CallGuard } from './CallGuard.ts';
import type { FieldNames } from './fieldNames.ts';
import {
  ownFile, quota, storedFile,
  type DownloadFileRequest, type DownloadFileResponse, type Empty, type File, type FileRequest, type ListFilesResponse,
  type Quota, type UploadFileRequest,
} from './wire.ts';

/**
 * The most bytes one DownloadFile chunk carries, and the chunk size clients should upload
 * in: big enough that framing costs nothing, small enough to interleave with other calls
 * on the connection and to stay far below GRPC_MAX_MESSAGE_BYTES.
 */
export const FILE_CHUNK_BYTES = 64 * 1024;
/** What a chunk message adds to its bytes (field tag, length varint), kept free below GRPC_MAX_MESSAGE_BYTES. */
export const CHUNK_FRAMING_BYTES = 16;

/** FileMetadata.filename is what the shared checks call `name` (fieldNames.ts). */
const UPLOAD_FIELDS: FieldNames = { name: 'filename' };
const EMPTY: Empty = {};

export interface FileProviderDeps {
  readonly files: FileService;
  /** Largest gRPC message sent: download chunks stay below it. */
  readonly maxMessageBytes: number;
}

export function fileServiceHandlers(d: FileProviderDeps, guard: CallGuard): grpc.UntypedServiceImplementation {
  const files = d.files;
  const chunkBytes = Math.max(1, Math.min(FILE_CHUNK_BYTES, d.maxMessageBytes - CHUNK_FRAMING_BYTES));
  const target = (req: { fileId: string }) => fileId(req.fileId, 'file_id');
  return {
    UploadFile: guard.authedClientStream<UploadFileRequest, File>('UploadFile', async (call, user) => {
      const messages = call[Symbol.asyncIterator]() as AsyncIterator<UploadFileRequest>;
      const first = await nextMessage(call, messages);
      if (first.done || first.value.data !== 'metadata') throw new InvalidArgumentError('the first message must carry "metadata"');
      const { filename, contentType, sizeBytes } = first.value.metadata;
      if (sizeBytes < 0) throw new InvalidArgumentError('"size_bytes" must not be negative');
      // 0 is proto3's "not set": the size is not known.
      const declared = sizeBytes === 0 ? undefined : sizeBytes;
      const stored = await files.upload(user, { name: filename, contentType: checkedContentType(contentType), declaredSize: declared },
        chunks(call, messages, declared));
      if (call.cancelled) {
        // Every byte came but the answer cannot go: the client never learns the id, so keep nothing.
        await dropOrphan(files, user, stored.fileId);
        throw new CallEnded();
      }
      return ownFile(stored, user);
    }, UPLOAD_FIELDS),

    DownloadFile: guard.authedStream<DownloadFileRequest, DownloadFileResponse>('DownloadFile', async (call, user) => {
      const req = call.request;
      const id = target(req);
      if (req.offset < 0) throw new InvalidArgumentError('"offset" must not be negative');
      if (req.length < 0) throw new InvalidArgumentError('"length" must not be negative');
      const meta = await files.readable(user, id);
      if (req.offset > meta.size) {
        throw new RangeNotSatisfiableError(`"offset" is past the end: the file has ${meta.size} bytes`, meta.size);
      }
      const start = req.offset;
      const end = req.length === 0 ? meta.size : Math.min(meta.size, start + req.length);
      if (call.cancelled) return;
      call.write({ file: storedFile(meta) });
      if (end > start) await send(call, files.read(meta, start, end), chunkBytes);
      if (!call.cancelled) call.end();
    }),

    ListFiles: guard.authed<unknown, ListFilesResponse>('ListFiles', async (_req, user) => {
      const mine = await files.list(user);
      return { files: mine.files.map((f) => ownFile(f, user)), quota: quota(mine.quota) };
    }),

    DeleteFile: guard.authed<FileRequest, Empty>('DeleteFile', async (req, user) => {
      await files.delete(user, target(req));
      return EMPTY;
    }),

    GetQuota: guard.authed<unknown, Quota>('GetQuota', async (_req, user) => quota((await files.list(user)).quota)),
  };
}

/** The next message of an upload; CallEnded once the call has ended (the stream is then destroyed). */
async function nextMessage(
  call: grpc.ServerReadableStream<UploadFileRequest, File>, messages: AsyncIterator<UploadFileRequest>,
): Promise<IteratorResult<UploadFileRequest>> {
  try {
    const next = await messages.next();
    if (call.cancelled) throw new CallEnded();
    return next;
  } catch (e) {
    if (call.cancelled) throw new CallEnded();
    throw e;
  }
}

/**
 * The chunks after the metadata, one at a time: the next message is read only when the
 * store asks for more. With a declared size, more bytes or fewer are refused (and the
 * upload, never committed, keeps nothing).
 */
async function* chunks(
  call: grpc.ServerReadableStream<UploadFileRequest, File>, messages: AsyncIterator<UploadFileRequest>, declared: number | undefined,
): AsyncGenerator<Buffer> {
  let received = 0;
  for (;;) {
    const next = await nextMessage(call, messages);
    if (next.done) break;
    if (next.value.data !== 'chunk') throw new InvalidArgumentError('"metadata" comes once, first; every later message carries a "chunk"');
    const chunk = next.value.chunk;
    received += chunk.length;
    if (declared !== undefined && received > declared) {
      throw new InvalidArgumentError(`the chunks add up to more than "size_bytes" (${declared})`);
    }
    if (chunk.length > 0) yield chunk;
  }
  if (declared !== undefined && received !== declared) {
    throw new InvalidArgumentError(`the chunks add up to ${received} bytes, not "size_bytes" (${declared})`);
  }
}

/** The shared check, its refusal naming the proto field. */
function checkedContentType(raw: string): string {
  try {
    return mediaType(raw);
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw new InvalidArgumentError('"content_type" is not a valid media type');
    throw e;
  }
}

async function dropOrphan(files: FileService, user: UserId, id: FileId): Promise<void> {
  try {
    await files.delete(user, id);
    log.debug('grpc: an upload whose call ended before its answer was removed', { file: id });
  } catch (e) {
    log.warn('grpc: an upload whose call ended before its answer could not be removed', { file: id, err: String(e) });
  }
}

/**
 * Streams `source` in chunks of at most `chunkBytes`, each written once the transport has
 * taken the last (`drain`). A call that ends stops the source.
 */
async function send(call: grpc.ServerWritableStream<DownloadFileRequest, DownloadFileResponse>, source: Readable, chunkBytes: number): Promise<void> {
  const stop = (): void => {
    source.destroy();
  };
  call.once('cancelled', stop);
  try {
    for await (const piece of source as AsyncIterable<Buffer>) {
      for (let at = 0; at < piece.length; at += chunkBytes) {
        if (call.cancelled) return;
        if (!call.write({ chunk: piece.subarray(at, at + chunkBytes) })) await drained(call);
      }
    }
  } catch (e) {
    if (call.cancelled) return;
    throw e;
  } finally {
    call.off('cancelled', stop);
    source.destroy();
  }
}

/** Resolves when the call can take more, or has ended. */
function drained(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}
