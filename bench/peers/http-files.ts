// Peer for the files benchmark: the hand-rolled file server a team might write instead.
// One process, plain node:http, fs streams with their default buffer sizes. An upload is
// piped to `<id>.part` while its SHA-256 is computed, fsynced, renamed and its folder
// fsynced, as Switchboard's disk store does; a download is the file piped to the response.
// No auth, no quota, no Range, no metadata: a floor, not a competitor. It answers the
// paths the benchmark uses (POST /v1/files, GET and DELETE /v1/files/<id>), in the same
// shapes as Switchboard, and ignores the Authorization header.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const port = Number(process.env.PORT ?? 0);
const dir = process.env.DATA_DIR;
if (!dir) throw new Error('DATA_DIR: the folder to store files in');
const FILE_PATH = /^\/v1\/files\/([0-9a-f-]{36})$/;

/** A rename is durable once its folder is synced. */
async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://peer');
    if (req.method === 'POST' && url.pathname === '/v1/files') {
      const fileId = randomUUID();
      const final = join(dir, fileId);
      const hash = createHash('sha256');
      let size = 0;
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      // flush: fsync before the file is closed.
      await pipeline(req, hashing, createWriteStream(`${final}.part`, { flags: 'wx', flush: true }));
      await rename(`${final}.part`, final);
      await syncDir(dir);
      return reply(res, 201, { fileId, size, sha256: hash.digest('hex') });
    }
    const id = FILE_PATH.exec(url.pathname)?.[1];
    if (!id) return reply(res, 404);
    const path = join(dir, id);
    if (req.method === 'GET') {
      const st = await stat(path).catch(() => null);
      if (!st) return reply(res, 404);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
      return await pipeline(createReadStream(path), res);
    }
    if (req.method === 'DELETE') {
      await rm(path, { force: true });
      return reply(res, 204);
    }
    reply(res, 405);
  } catch (err) {
    process.stderr.write(JSON.stringify({ msg: 'request failed', error: String(err) }) + '\n');
    if (!res.headersSent) reply(res, 500);
    else res.destroy();
  }
});
server.listen(port, '127.0.0.1', () => {
  const addr = server.address() as { port: number };
  process.stderr.write(JSON.stringify({ msg: 'listening', port: addr.port }) + '\n');
});
