// File upload and download throughput, and the server's memory while a big file streams
// in and out: one file of --mib MiB is uploaded (Content-Length declared, written as fast
// as the socket takes it), downloaded (read as fast as it comes), then deleted. The
// server's RSS (/proc/<pid>/status, every thread of the process) is sampled throughout;
// streaming should keep its growth far below the file's size (target: < 64 MiB for 1 GiB).
//
//   node --import tsx bench/files-throughput.ts [--mib 1024] [--mongo] [--verify]
//
// --mongo stores the file in GridFS on the MongoDB-compatible server (MONGO_URL, default
// mongodb://127.0.0.1:27017; start it with scripts/services/mongo.sh start) instead of the
// disk. --verify hashes the download and compares it with the upload's SHA-256 (costs
// client CPU on the same cores). The data folder (and database) are removed at the end.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { removeDataDir, startServer } from '../test/helpers/server.ts';
import { mongoDatabaseUrl } from '../test/helpers/services.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '1024' },
    mongo: { type: 'boolean', default: false },
    verify: { type: 'boolean', default: false },
  },
});
const MiB = 1024 * 1024;
const SIZE = Number(values.mib) * MiB;
/** What the client writes at a time: one random block, sent again and again. */
const BLOCK = randomBytes(MiB);
const SAMPLE_MS = 50;
/**
 * This uWebSockets.js build drops a request whose Content-Length has ten digits (1e9 bytes
 * and up) before any handler sees it; bigger uploads go chunked, which it streams fine.
 */
const UWS_MAX_CONTENT_LENGTH = 999_999_999;

const rssOf = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};

/** Highest RSS of `pid` while `work` runs. */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssOf(pid);
  const timer = setInterval(() => { peak = Math.max(peak, rssOf(pid)); }, SAMPLE_MS);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, rssOf(pid)) };
  } finally {
    clearInterval(timer);
  }
}

const declared = (size: number): boolean => size <= UWS_MAX_CONTENT_LENGTH;

function uploadFile(base: string, token: string, size: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/v1/files?name=bench.bin`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream',
        ...(declared(size) ? { 'content-length': String(size) } : {}),
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    void (async () => {
      for (let sent = 0; sent < size; sent += BLOCK.length) {
        const piece = size - sent >= BLOCK.length ? BLOCK : BLOCK.subarray(0, size - sent);
        if (!req.write(piece)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })();
  });
}

function downloadFile(base: string, token: string, id: string): Promise<{ bytes: number; sha256: string | null }> {
  return new Promise((resolve, reject) => {
    const hash = values.verify ? createHash('sha256') : null;
    const req = request(`${base}/v1/files/${id}`, { headers: { authorization: `Bearer ${token}` } });
    req.on('response', (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; hash?.update(c); });
      res.on('end', () => resolve({ bytes, sha256: hash?.digest('hex') ?? null }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function timed<T>(f: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const t0 = process.hrtime.bigint();
  const result = await f();
  return { result, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

const mongoUrl = values.mongo ? mongoDatabaseUrl('bench_files') : undefined;
const server = await startServer({
  FILE_MAX_BYTES: String(SIZE), USER_QUOTA_BYTES: String(2 * SIZE), MEDIA_WORKERS: '0', RATE_PERIOD_MS: '0', LOG_LEVEL: 'info',
  ...(mongoUrl ? { MONGO_URL: mongoUrl } : {}),
});
const pid = server.process.pid!;
try {
  const reg = await fetch(`${server.url}/v1/auth/register`, {
    method: 'POST', body: JSON.stringify({ username: `bench_${process.pid}`, password: 'bench-password' }),
  }).then((r) => r.json() as Promise<{ token: string }>);
  // Warm up the code paths (and the JIT) with a small file, so the baseline is a serving server's.
  const warm = JSON.parse((await uploadFile(server.url, reg.token, 8 * MiB)).body) as { fileId: string };
  await downloadFile(server.url, reg.token, warm.fileId);
  await fetch(`${server.url}/v1/files/${warm.fileId}`, { method: 'DELETE', headers: { authorization: `Bearer ${reg.token}` } });
  await new Promise((r) => setTimeout(r, 500));
  const baseline = rssOf(pid);

  const up = await peakRss(pid, () => timed(() => uploadFile(server.url, reg.token, SIZE)));
  if (up.result.result.status !== 201) throw new Error(`upload failed: ${up.result.result.status} ${up.result.result.body}`);
  const file = JSON.parse(up.result.result.body) as { fileId: string; size: number; sha256: string };
  const down = await peakRss(pid, () => timed(() => downloadFile(server.url, reg.token, file.fileId)));
  if (down.result.result.bytes !== SIZE) throw new Error(`download gave ${down.result.result.bytes} of ${SIZE} bytes`);
  if (down.result.result.sha256 !== null && down.result.result.sha256 !== file.sha256) throw new Error('download differs from upload');
  await fetch(`${server.url}/v1/files/${file.fileId}`, { method: 'DELETE', headers: { authorization: `Bearer ${reg.token}` } });

  const mibs = (n: number): string => (n / MiB).toFixed(1);
  const rate = (s: number): string => (SIZE / MiB / s).toFixed(0);
  console.log(`\nfiles: one ${mibs(SIZE)} MiB file through ${mongoUrl ? 'GridFS (mongo-java-server)' : 'the disk store'}, `
    + `uploaded ${declared(SIZE) ? 'with Content-Length' : 'chunked'}${values.verify ? ', download SHA-256 verified' : ''}`);
  console.log(`  upload    ${rate(up.result.seconds).padStart(6)} MiB/s  (${up.result.seconds.toFixed(2)} s)   server RSS peak ${mibs(up.peak)} MiB (+${mibs(up.peak - baseline)})`);
  console.log(`  download  ${rate(down.result.seconds).padStart(6)} MiB/s  (${down.result.seconds.toFixed(2)} s)   server RSS peak ${mibs(down.peak)} MiB (+${mibs(down.peak - baseline)})`);
  console.log(`  server RSS before: ${mibs(baseline)} MiB; most growth: ${mibs(Math.max(up.peak, down.peak) - baseline)} MiB (target < 64 MiB)\n`);
} finally {
  await server.stop();
  removeDataDir(server.dataDir);
  if (mongoUrl) {
    const c = new MongoClient(mongoUrl);
    await c.db().dropDatabase();
    await c.close();
  }
}
