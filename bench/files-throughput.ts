// File upload and download throughput, and the server's memory while a big file streams
// in and out: one file of --mib MiB is uploaded (written as fast as the socket takes it),
// downloaded (read as fast as it comes), then deleted. The server's RSS (/proc/<pid>/status,
// every thread of the process) is sampled throughout; streaming should keep its growth far
// below the file's size (target: < 64 MiB for 1 GiB). Measured against Switchboard and then,
// in the same run with the same client code, against bench/peers/http-files.ts: node:http
// and fs streams to the disk, with fsync and SHA-256 but no auth and no quota (a floor).
//
//   npm run bench:files -- [--mib 1024] [--mongo] [--verify]
//
// --mongo stores Switchboard's file in GridFS on the MongoDB-compatible server (MONGO_URL,
// default mongodb://127.0.0.1:27017; start it with scripts/services/mongo.sh start) instead
// of the disk; the peer always writes to the disk. --verify hashes each download and
// compares it with the upload's SHA-256 (costs client CPU on the same cores). The data
// folders (and database) are removed at the end.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { removeDataDir, startServer, tempDataDir } from '../test/helpers/server.ts';
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
const ROOT = new URL('..', import.meta.url).pathname;
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

/** A server under test: where it listens, its process (for RSS), a token, how to stop it. */
interface Target { name: string; url: string; pid: number; token: string; stop(): Promise<void> }

async function switchboard(): Promise<Target> {
  const mongoUrl = values.mongo ? mongoDatabaseUrl('bench_files') : undefined;
  const server = await startServer({
    FILE_MAX_BYTES: String(SIZE), USER_QUOTA_BYTES: String(2 * SIZE), MEDIA_WORKERS: '0', RATE_PERIOD_MS: '0', LOG_LEVEL: 'info',
    ...(mongoUrl ? { MONGO_URL: mongoUrl } : {}),
  });
  const stop = async (): Promise<void> => {
    await server.stop();
    removeDataDir(server.dataDir);
    if (mongoUrl) {
      const c = new MongoClient(mongoUrl);
      await c.db().dropDatabase();
      await c.close();
    }
  };
  try {
    const reg = await fetch(`${server.url}/v1/auth/register`, {
      method: 'POST', body: JSON.stringify({ username: `bench_${process.pid}`, password: 'bench-password' }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    const name = `switchboard (${mongoUrl ? 'GridFS, mongo-java-server' : 'disk store'})`;
    return { name, url: server.url, pid: server.process.pid!, token: reg.token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function httpFilesPeer(): Promise<Target> {
  const dataDir = tempDataDir();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/peers/http-files.ts'], {
    cwd: ROOT, env: { ...process.env, PORT: '0', DATA_DIR: dataDir }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await exited;
    removeDataDir(dataDir);
  };
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /"msg":"listening","port":(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`http-files peer exited before listening:\n${log}`)));
  }).catch(async (err) => { await stop(); throw err; });
  return { name: 'http-files peer (node:http + fs streams)', url: `http://127.0.0.1:${port}`, pid: child.pid!, token: 'none', stop };
}

interface Measured { up: number; down: number; baseline: number; upPeak: number; downPeak: number }

async function measure(t: Target): Promise<Measured> {
  const remove = (id: string): Promise<Response> =>
    fetch(`${t.url}/v1/files/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${t.token}` } });
  // Warm up the code paths (and the JIT) with a small file, so the baseline is a serving server's.
  const warm = JSON.parse((await uploadFile(t.url, t.token, 8 * MiB)).body) as { fileId: string };
  await downloadFile(t.url, t.token, warm.fileId);
  await remove(warm.fileId);
  await new Promise((r) => setTimeout(r, 500));
  const baseline = rssOf(t.pid);

  const up = await peakRss(t.pid, () => timed(() => uploadFile(t.url, t.token, SIZE)));
  if (up.result.result.status !== 201) throw new Error(`${t.name}: upload failed: ${up.result.result.status} ${up.result.result.body}`);
  const file = JSON.parse(up.result.result.body) as { fileId: string; size: number; sha256: string };
  const down = await peakRss(t.pid, () => timed(() => downloadFile(t.url, t.token, file.fileId)));
  if (down.result.result.bytes !== SIZE) throw new Error(`${t.name}: download gave ${down.result.result.bytes} of ${SIZE} bytes`);
  if (down.result.result.sha256 !== null && down.result.result.sha256 !== file.sha256) throw new Error(`${t.name}: download differs from upload`);
  await remove(file.fileId);
  return { up: up.result.seconds, down: down.result.seconds, baseline, upPeak: up.peak, downPeak: down.peak };
}

const results: [Target, Measured][] = [];
for (const start of [switchboard, httpFilesPeer]) {
  const t = await start();
  try {
    results.push([t, await measure(t)]);
  } finally {
    await t.stop();
  }
}

const mibs = (n: number): string => (n / MiB).toFixed(1);
const rate = (s: number): number => SIZE / MiB / s;
const growth = (m: Measured): number => Math.max(m.upPeak, m.downPeak) - m.baseline;
const transfer = (s: number): string => `${rate(s).toFixed(0)} MiB/s (${s.toFixed(2)} s)`.padStart(20);
const rss = (peak: number, m: Measured): string => `${mibs(peak)} (+${mibs(peak - m.baseline)})`.padStart(18);
console.log(`\nfiles: one ${mibs(SIZE)} MiB file, uploaded ${declared(SIZE) ? 'with Content-Length' : 'chunked'}`
  + `${values.verify ? ', downloads SHA-256 verified' : ''}; node ${process.version}, ${availableParallelism()} cores shared with the client\n`);
console.log('target'.padEnd(42) + 'upload'.padStart(20) + 'download'.padStart(20) + 'RSS before'.padStart(12)
  + 'RSS peak, up'.padStart(18) + 'RSS peak, down'.padStart(18));
for (const [t, m] of results) {
  console.log(t.name.padEnd(42) + transfer(m.up) + transfer(m.down) + mibs(m.baseline).padStart(12) + rss(m.upPeak, m) + rss(m.downPeak, m));
}
const [[sb, s], [peer, p]] = results as [[Target, Measured], [Target, Measured]];
console.log(`\nswitchboard / peer MiB/s: upload ${(rate(s.up) / rate(p.up)).toFixed(2)}, download ${(rate(s.down) / rate(p.down)).toFixed(2)}`);
console.log(`RSS most growth (MiB): ${sb.name} +${mibs(growth(s))} (target < 64), ${peer.name} +${mibs(growth(p))}`);
console.log('the peer has no auth, no quota, no Range and always writes to the disk: a floor, not a competitor\n');
