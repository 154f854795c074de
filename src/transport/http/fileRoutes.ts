// The file routes: upload (the body streamed in), my files with my quota, download (streamed
// out; Range, ETag, Content-Disposition), delete. FileService decides who may do what.
import { Readable } from 'node:stream';
import { RangeNotSatisfiableError } from '../../errors.ts';
import type { FileService } from '../../service/FileService.ts';
import { fileId } from '../../service/validate.ts';
import { contentDisposition, noneMatch, parseRange, rangeStillValid } from './fileHeaders.ts';
import type { HttpExchange } from './HttpExchange.ts';
import type { Call, RouteKit } from './HttpFront.ts';

export interface FileRouteDeps {
  readonly files: FileService;
}

/** Every download says these. */
const DOWNLOAD_HEADERS: readonly [string, string][] = [
  ['accept-ranges', 'bytes'],
  ['cache-control', 'private, no-cache'],
  // Whatever type the uploader claimed, a file is never sniffed into, or run as, a page of ours.
  ['x-content-type-options', 'nosniff'],
  ['content-security-policy', "default-src 'none'; sandbox"],
  ['access-control-expose-headers', 'ETag, Content-Range, Content-Disposition, Accept-Ranges'],
];

/** Content-Length, when the client declared one (a chunked upload has none). */
function declaredSize(x: HttpExchange): number | undefined {
  const raw = x.header('content-length');
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

async function download(files: FileService, c: Call): Promise<void> {
  const meta = await files.readable(c.user, fileId(c.x.params[0], 'id'));
  const etag = `"${meta.sha256}"`;
  const headers: [string, string][] = [['etag', etag], ...DOWNLOAD_HEADERS];
  if (noneMatch(c.x.header('if-none-match'), etag)) return c.x.notModified(headers);
  const range = rangeStillValid(c.x.header('if-range'), etag) ? parseRange(c.x.header('range'), meta.size) : null;
  if (range === 'unsatisfiable') throw new RangeNotSatisfiableError(`no such range: the file has ${meta.size} bytes`, meta.size);
  const { start, end } = range ?? { start: 0, end: meta.size };
  headers.push(['content-type', meta.contentType], ['content-disposition', contentDisposition(meta.name)]);
  if (range) headers.push(['content-range', `bytes ${start}-${end - 1}/${meta.size}`]);
  const source = end > start ? files.read(meta, start, end) : Readable.from([]);
  await c.x.stream(range ? 206 : 200, headers, source, end - start);
}

export function fileRoutes({ files }: FileRouteDeps): (kit: RouteKit) => void {
  return ({ authed, streamed }) => {
    streamed('post', '/v1/files', 'stream', async (c) => {
      const file = await files.upload(c.user, {
        name: c.x.query.get('name'), contentType: c.x.header('content-type'), declaredSize: declaredSize(c.x),
      }, c.x.bodyStream());
      c.x.json(201, file);
    });
    authed('get', '/v1/files', async (c) => [200, await files.list(c.user)]);
    streamed('get', '/v1/files/:id', 'json', (c) => download(files, c));
    authed('del', '/v1/files/:id', async (c) => [200, await files.delete(c.user, fileId(c.x.params[0], 'id'))]);
  };
}
