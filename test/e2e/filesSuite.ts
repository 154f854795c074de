// Files end to end, on a real server with real clients: one suite, run against the disk
// store (files-disk.test.ts) and against GridFS on the MongoDB-compatible server
// (files-mongo.test.ts). Small chunks and limits make chunk boundaries and limits cheap;
// a second server with default chunks carries a file big enough to be cut mid-download.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { http, register, WsClient, type Registered } from '../helpers/clients.ts';
import { download, openDownload, openUpload, readSlowly, sleep, until, upload } from '../helpers/files.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = KiB;
const MAX_FILE = 64 * KiB;
const QUOTA = 128 * KiB;
const BIG_FILE = 8 * MiB;

export interface FilesBackend {
  /** Settings for one server of the suite (its own database, say). */
  env(): Record<string, string>;
  /** Bytes or records half-written uploads left behind on that server. */
  leftovers(server: RunningServer, env: Record<string, string>): Promise<number>;
  /** After the server stopped. */
  cleanup?(env: Record<string, string>): Promise<void>;
}

interface Served {
  readonly server: RunningServer;
  readonly env: Record<string, string>;
}

async function serve(backend: FilesBackend, limits: Record<string, string>): Promise<Served> {
  const env = { ...backend.env(), ...limits, MEDIA_WORKERS: '0', RATE_PERIOD_MS: '0' };
  return { server: await startServer(env), env };
}

/** A wait that fails says what the server logged (warnings and errors) meanwhile. */
async function withServerLog<T>(s: Served, what: string, wait: Promise<T>): Promise<T> {
  const from = s.server.logs.length;
  try {
    return await wait;
  } catch (e) {
    const log = s.server.logs.slice(from).filter((l) => /"level":"(warn|error)"/.test(l)).join('\n');
    throw new Error(`${what}: ${(e as Error).message}\nserver warnings and errors meanwhile:\n${log || '(none)'}`);
  }
}

async function stop(backend: FilesBackend, s: Served | undefined): Promise<void> {
  if (!s) return;
  await s.server.stop();
  removeDataDir(s.server.dataDir);
  await backend.cleanup?.(s.env);
}

export function filesE2e(name: string, backend: FilesBackend): void {
  describe(`files end to end: ${name}`, () => {
    let small: Served;
    let big: Served;
    const sockets: WsClient[] = [];
    const url = (): string => small.server.url;
    const people = <N extends string[]>(...names: N) =>
      Promise.all(names.map((n) => register(url(), n))) as Promise<{ [K in keyof N]: Registered }>;
    const quota = async (u: Registered, base = url()) => (await http(base, 'GET', '/v1/files', { token: u.token })).body.quota;
    const stored = async (u: Registered, data: Buffer, opts: Parameters<typeof upload>[3] = {}) => {
      const r = await upload(url(), u.token, data, opts);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { fileId: string; name: string; size: number; contentType: string; sha256: string };
    };
    const nothingLeft = async (u: Registered, s = small) => {
      const mine = await http(s.server.url, 'GET', '/v1/files', { token: u.token });
      assert.deepEqual(mine.body.files, []);
      assert.equal(mine.body.quota.usedBytes, 0);
      assert.equal(mine.body.quota.reservedBytes, 0);
      assert.equal(await backend.leftovers(s.server, s.env), 0);
    };

    before(async () => {
      [small, big] = await Promise.all([
        serve(backend, {
          FILE_CHUNK_BYTES: String(CHUNK), FILE_MAX_BYTES: String(MAX_FILE), USER_QUOTA_BYTES: String(QUOTA),
          FILE_QUOTA_STEP_BYTES: String(4 * KiB), ASK_TIMEOUT_MS: '3000',
        }),
        serve(backend, { FILE_MAX_BYTES: String(2 * BIG_FILE), USER_QUOTA_BYTES: String(4 * BIG_FILE) }),
      ]);
    });
    after(async () => {
      for (const c of sockets) c.ws.terminate();
      await Promise.all([stop(backend, small), stop(backend, big)]);
    });

    it('attaches a file to a message: members get its metadata and may download it; nobody else, not even by its id', async () => {
      const [alice, bob, carol] = await people('alice', 'bob', 'carol');
      const data = randomBytes(2500);
      const file = await stored(alice, data, { name: 'plan.pdf', contentType: 'application/pdf' });
      const group = (await http(url(), 'POST', '/v1/groups', { token: alice.token, body: { name: 'g', members: [bob.userId] } })).body.id;
      const [aliceWs, bobWs] = await Promise.all([WsClient.connect(small.server.wsUrl, alice.token), WsClient.connect(small.server.wsUrl, bob.token)]);
      sockets.push(aliceWs, bobWs);
      const t0 = Date.now();
      const steps: string[] = [];
      void aliceWs.closed.then((c) => steps.push(`alice closed ${c.code} at +${Date.now() - t0}`));
      const unknown = `f_${'A'.repeat(16)}`;
      const strangers = await download(url(), carol.token, unknown);
      steps.push(`carol download at +${Date.now() - t0}`);
      assert.equal((await download(url(), bob.token, file.fileId)).status, 404, 'not shared yet');
      steps.push(`bob download at +${Date.now() - t0}`);

      let ack;
      try {
        ack = await aliceWs.request({ type: 'send', conversationId: group, clientMsgId: 'f1', body: 'the plan', fileId: file.fileId }, 4000);
      } catch (e) {
        const pong = await aliceWs.request({ type: 'ping' }, 3000).then((f) => f.type, (err) => String(err).slice(0, 80));
        const bobPong = await bobWs.request({ type: 'ping' }, 3000).then((f) => f.type, (err) => String(err).slice(0, 80));
        const fresh = await WsClient.connect(small.server.wsUrl, alice.token).then((c) => c.request({ type: 'ping' }, 3000).then((f) => f.type), (err) => String(err).slice(0, 80)).catch((err) => String(err).slice(0, 80));
        const h = await http(url(), 'GET', '/healthz').then((r) => r.status, (err) => String(err));
        throw new Error(`ack missing; steps ${steps.join(', ')}; alice ping: ${pong}; bob ping: ${bobPong}; fresh socket ping: ${fresh}; healthz ${h}; alice ws readyState ${aliceWs.ws.readyState} closed ${JSON.stringify(await Promise.race([aliceWs.closed, sleep(100).then(() => 'open')]))}; frames ${JSON.stringify(aliceWs.frames)}; logs: ${small.server.logs.slice(-5).join(' | ')}`);
      }
      assert.equal(ack.type, 'ack', JSON.stringify(ack));
      const attachment = { fileId: file.fileId, name: 'plan.pdf', size: 2500, contentType: 'application/pdf' };
      const [pushed] = await withServerLog(small, 'the push to a member', bobWs.messages(group, 1));
      assert.deepEqual(pushed!.attachment, attachment);
      const got = await download(url(), bob.token, file.fileId);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(data));

      // A non-member is told exactly what an unknown id gets.
      const denied = await download(url(), carol.token, file.fileId);
      assert.equal(denied.status, 404);
      assert.deepEqual(denied.body, strangers.body);
      // Attach: only the owner; a reader who is not is told so, a stranger sees nothing.
      const bobAttaches = await http(url(), 'POST', `/v1/conversations/${group}/messages`, { token: bob.token, body: { clientMsgId: 'b1', fileId: file.fileId } });
      assert.equal(bobAttaches.status, 403);
      const carolAttaches = await http(url(), 'POST', `/v1/users/${alice.userId}/messages`, { token: carol.token, body: { clientMsgId: 'c1', fileId: file.fileId } });
      assert.equal(carolAttaches.status, 404);
      // Over HTTP, a file alone is a message; history carries it.
      const viaHttp = await http(url(), 'POST', `/v1/conversations/${group}/messages`, { token: alice.token, body: { clientMsgId: 'f2', fileId: file.fileId } });
      assert.equal(viaHttp.status, 201);
      const history = await http(url(), 'GET', `/v1/conversations/${group}/messages`, { token: bob.token });
      assert.deepEqual(history.body.messages.map((m: { attachment?: unknown }) => m.attachment), [attachment, attachment]);
      assert.equal(history.body.messages[1].body, '');
      // Only the owner deletes; a member who may read is refused, a stranger sees nothing.
      assert.equal((await http(url(), 'DELETE', `/v1/files/${file.fileId}`, { token: bob.token })).status, 403);
      assert.equal((await http(url(), 'DELETE', `/v1/files/${file.fileId}`, { token: carol.token })).status, 404);
      // Leaving the group ends the right to read.
      assert.equal((await http(url(), 'DELETE', `/v1/groups/${group}/members/${bob.userId}`, { token: bob.token })).status, 200);
      assert.equal((await download(url(), bob.token, file.fileId)).status, 404);
      assert.equal((await http(url(), 'DELETE', `/v1/files/${file.fileId}`, { token: alice.token })).status, 200);
      assert.equal((await download(url(), alice.token, file.fileId)).status, 404);
      assert.equal((await quota(alice)).usedBytes, 0);
    });

    it('round-trips empty, 1-byte, one-chunk, chunk+1 and multi-chunk files byte for byte, declared or chunked', async () => {
      const [alice] = await people('alice');
      const sizes = [0, 1, CHUNK, CHUNK + 1, 5 * CHUNK + 7];
      let total = 0;
      for (const [i, size] of sizes.entries()) {
        const data = randomBytes(size);
        const pieces = size > 2 ? [data.subarray(0, 2), data.subarray(2, size >> 1), data.subarray(size >> 1)] : [data];
        const r = await upload(url(), alice.token, pieces, { declare: i % 2 === 0, contentType: 'application/x-test' });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        const file = r.body;
        total += size;
        assert.equal(file.size, size);
        assert.equal(file.contentType, 'application/x-test');
        assert.equal(file.sha256, createHash('sha256').update(data).digest('hex'));
        const got = await download(url(), alice.token, file.fileId);
        assert.equal(got.status, 200);
        assert.ok(got.body.equals(data), `size ${size}: bytes differ`);
        assert.equal(got.headers.get('content-length'), String(size));
        assert.equal(got.headers.get('content-type'), 'application/x-test');
        assert.equal(got.headers.get('etag'), `"${file.sha256}"`);
        assert.equal(got.headers.get('accept-ranges'), 'bytes');
        assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
      }
      const mine = await http(url(), 'GET', '/v1/files', { token: alice.token });
      assert.deepEqual(mine.body.files.map((f: { size: number }) => f.size), sizes);
      assert.deepEqual(mine.body.quota, { usedBytes: total, reservedBytes: 0, limitBytes: QUOTA, maxFileBytes: MAX_FILE });
    });

    it('serves single ranges (start, end, across a chunk boundary, suffix) and answers 416 when none is satisfiable', async () => {
      const [alice] = await people('alice');
      const data = randomBytes(5 * CHUNK + 7);
      const n = data.length;
      const file = await stored(alice, data);
      const ranged = async (range: string, extra: Record<string, string> = {}) => download(url(), alice.token, file.fileId, { range, ...extra });
      const cases: [string, number, number][] = [
        ['bytes=0-9', 0, 10], // the start
        [`bytes=${n - 10}-`, n - 10, n], // the end, open
        [`bytes=${CHUNK - 4}-${CHUNK + 3}`, CHUNK - 4, CHUNK + 4], // across a chunk boundary
        [`bytes=${CHUNK}-${2 * CHUNK - 1}`, CHUNK, 2 * CHUNK], // exactly one chunk
        ['bytes=-10', n - 10, n], // suffix
        ['bytes=-100000', 0, n], // suffix longer than the file: all of it
        [`bytes=${n - 1}-${n + 1000}`, n - 1, n], // last-pos past the end: clamped
        [' BYTES = 3-3'.replace(/ /g, ''), 3, 4],
      ];
      for (const [range, start, end] of cases) {
        const r = await ranged(range);
        assert.equal(r.status, 206, range);
        assert.equal(r.headers.get('content-range'), `bytes ${start}-${end - 1}/${n}`, range);
        assert.equal(r.headers.get('content-length'), String(end - start), range);
        assert.ok(r.body.equals(data.subarray(start, end)), `${range}: bytes differ`);
      }
      for (const range of [`bytes=${n}-`, `bytes=${n + 5}-${n + 10}`, 'bytes=-0']) {
        const r = await ranged(range);
        assert.equal(r.status, 416, range);
        assert.equal(r.headers.get('content-range'), `bytes */${n}`);
        assert.equal(JSON.parse(r.body.toString()).error.code, 'range_not_satisfiable');
      }
      // Ignored (the whole file): several ranges, a syntax we do not follow, another unit, a stale If-Range.
      for (const [range, extra] of [['bytes=0-1,5-6', {}], ['bytes=abc', {}], ['items=0-1', {}], ['bytes=9-2', {}], ['bytes=0-1', { 'if-range': '"stale"' }]] as const) {
        const r = await ranged(range, extra);
        assert.equal(r.status, 200, range);
        assert.ok(r.body.equals(data));
      }
      assert.equal((await ranged('bytes=0-1', { 'if-range': `"${file.sha256}"` })).status, 206);
      // An empty file has no byte to give.
      const empty = await stored(alice, Buffer.alloc(0));
      assert.equal((await download(url(), alice.token, empty.fileId, { range: 'bytes=0-' })).status, 416);
    });

    it('answers a matching If-None-Match with 304 and the ETag', async () => {
      const [alice] = await people('alice');
      const file = await stored(alice, randomBytes(3000));
      const etag = `"${file.sha256}"`;
      for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const r = await download(url(), alice.token, file.fileId, { 'if-none-match': inm });
        assert.equal(r.status, 304, inm);
        assert.equal(r.headers.get('etag'), etag);
        assert.equal(r.body.length, 0);
      }
      assert.equal((await download(url(), alice.token, file.fileId, { 'if-none-match': '"other"' })).status, 200);
    });

    it('refuses a file over the size limit with 413 payload_too_large, declared or streamed, and keeps nothing', async () => {
      const [alice] = await people('alice');
      const declared = await upload(url(), alice.token, randomBytes(MAX_FILE + 1));
      assert.equal(declared.status, 413);
      assert.equal(declared.body.error.code, 'payload_too_large');
      const pieces = Array.from({ length: MAX_FILE / (4 * KiB) + 2 }, () => randomBytes(4 * KiB));
      const streamed = await upload(url(), alice.token, pieces, { declare: false });
      assert.equal(streamed.status, 413);
      assert.equal(streamed.body.error.code, 'payload_too_large');
      assert.match(streamed.body.error.message, /larger than the limit of 65536 bytes/);
      await nothingLeft(alice);
      // Exactly the limit is fine.
      await stored(alice, randomBytes(MAX_FILE), { declare: false });
    });

    it('refuses an upload past the quota with 413 quota_exceeded, declared or streamed, and keeps nothing of it', async () => {
      const [alice] = await people('alice');
      await stored(alice, randomBytes(MAX_FILE));
      await stored(alice, randomBytes(MAX_FILE - 10 * KiB));
      const declared = await upload(url(), alice.token, randomBytes(11 * KiB));
      assert.equal(declared.status, 413);
      assert.equal(declared.body.error.code, 'quota_exceeded');
      const streamed = await upload(url(), alice.token, Array.from({ length: 11 }, () => randomBytes(KiB)), { declare: false });
      assert.equal(streamed.status, 413);
      assert.equal(streamed.body.error.code, 'quota_exceeded');
      assert.deepEqual(await quota(alice), { usedBytes: QUOTA - 10 * KiB, reservedBytes: 0, limitBytes: QUOTA, maxFileBytes: MAX_FILE });
      assert.equal((await http(url(), 'GET', '/v1/files', { token: alice.token })).body.files.length, 2);
      assert.equal(await backend.leftovers(small.server, small.env), 0);
      await stored(alice, randomBytes(10 * KiB), { declare: false });
    });

    it('lets concurrent uploads at the quota edge store exactly what fits, never more', async () => {
      const [alice, bob] = await people('alice', 'bob');
      const declared = await Promise.all(Array.from({ length: 5 }, () => upload(url(), alice.token, randomBytes(30 * KiB))));
      assert.deepEqual(declared.map((r) => r.status).sort(), [201, 201, 201, 201, 413]);
      assert.equal(declared.find((r) => r.status === 413)!.body.error.code, 'quota_exceeded');
      assert.deepEqual(await quota(alice), { usedBytes: 120 * KiB, reservedBytes: 0, limitBytes: QUOTA, maxFileBytes: MAX_FILE });
      // Chunked, so the server learns the sizes only as the bytes come.
      const streamed = await Promise.all(Array.from({ length: 6 }, () =>
        upload(url(), bob.token, Array.from({ length: 30 }, () => randomBytes(KiB)), { declare: false })));
      // Never more than fits (racing for the last of a quota, uploads of unknown length may even all be refused).
      const ok = streamed.filter((r) => r.status === 201).length;
      assert.ok(ok <= 4, `${ok} stored`);
      for (const r of streamed) if (r.status !== 201) assert.equal(r.body.error.code, 'quota_exceeded');
      const use = await quota(bob);
      assert.equal(use.usedBytes, ok * 30 * KiB);
      assert.equal(use.reservedBytes, 0);
      assert.equal(await backend.leftovers(small.server, small.env), 0);
    });

    it('a client that disconnects mid-upload leaves nothing and gets its quota back; the server stays up', async () => {
      const [alice] = await people('alice');
      for (const length of [60 * KiB, undefined]) {
        const req = openUpload(url(), alice.token, { length });
        req.on('error', () => {});
        req.write(randomBytes(20 * KiB));
        await until('the upload to hold quota', async () => (await quota(alice)).reservedBytes > 0);
        req.destroy();
        await until('the quota to come back', async () => (await quota(alice)).reservedBytes === 0);
        await nothingLeft(alice);
      }
      assert.equal((await http(url(), 'GET', '/healthz')).status, 200);
      await stored(alice, randomBytes(MAX_FILE));
    });

    it('a client that disconnects mid-download does no harm: the server stays up and serves the file again', async () => {
      const [alice] = await people('alice');
      const data = randomBytes(BIG_FILE);
      const r = await upload(big.server.url, alice.token, data);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      for (let i = 0; i < 3; i++) {
        const { req, res } = await openDownload(big.server.url, alice.token, r.body.fileId);
        assert.equal(res.statusCode, 200);
        await new Promise((resolve) => res.once('data', resolve));
        res.pause();
        await sleep(100); // the server meets backpressure
        req.destroy();
      }
      assert.equal((await http(big.server.url, 'GET', '/healthz')).status, 200);
      const again = await download(big.server.url, alice.token, r.body.fileId);
      assert.ok(again.body.equals(data));
      assert.deepEqual(await quota(alice, big.server.url), {
        usedBytes: BIG_FILE, reservedBytes: 0, limitBytes: 4 * BIG_FILE, maxFileBytes: 2 * BIG_FILE,
      });
    });

    it('keeps a connection good for its next requests after streamed, paused uploads and slow downloads (keep-alive)', async () => {
      const [alice] = await people('alice');
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const base = big.server.url;
      const sockets = new Set<unknown>();
      agent.on('free', (socket) => sockets.add(socket));
      try {
        const data = randomBytes(4 * MiB);
        const pieces = Array.from({ length: 16 }, (_, i) => data.subarray(i * (data.length / 16), (i + 1) * (data.length / 16)));
        for (const declare of [false, true, false]) {
          const r = await upload(base, alice.token, pieces, { declare, agent });
          assert.equal(r.status, 201, JSON.stringify(r.body));
          for (let i = 0; i < 2; i++) {
            const { res } = await openDownload(base, alice.token, r.body.fileId, agent);
            assert.equal(res.statusCode, 200);
            assert.ok((await readSlowly(res)).equals(data));
          }
        }
        assert.equal(sockets.size, 1, 'every request went down one connection');
      } finally {
        agent.destroy();
      }
    });

    it('handles names with path separators, control characters and non-ASCII safely', async () => {
      const [alice] = await people('alice');
      const cases: [string, string, string][] = [
        ['../../etc/passwd', 'passwd', 'passwd'],
        ['C:\\Users\\x\\evil.exe', 'evil.exe', 'evil.exe'],
        ['a\u0000b\r\nc\u0007.txt', 'abc.txt', 'abc.txt'],
        ['report\u202Efdp.exe', 'reportfdp.exe', 'reportfdp.exe'],
        ['résumé 日本語.pdf', 'résumé 日本語.pdf', 'r_sum_ ___.pdf'],
        ['say "hi"; 100%.txt', 'say "hi"; 100%.txt', 'say _hi_; 100_.txt'],
        ['..', 'file', 'file'],
        ['dir/', 'file', 'file'],
      ];
      for (const [raw, safe, fallback] of cases) {
        const file = await stored(alice, Buffer.from('x'), { name: raw });
        assert.equal(file.name, safe, JSON.stringify(raw));
        const got = await download(url(), alice.token, file.fileId);
        const cd = got.headers.get('content-disposition')!;
        assert.equal(cd, `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(safe).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`);
        assert.equal(decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(cd)![1]!), safe);
      }
      const missing = await upload(url(), alice.token, Buffer.from('x'), { name: null });
      assert.equal(missing.status, 400);
      const long = await upload(url(), alice.token, Buffer.from('x'), { name: 'n'.repeat(256) });
      assert.equal(long.status, 400);
      const badType = await upload(url(), alice.token, Buffer.from('x'), { contentType: 'text/html x' });
      assert.equal(badType.status, 400);
      assert.equal(badType.body.error.message, 'Content-Type is not a valid media type');
    });

    it('needs a token, and a well-formed file id', async () => {
      const [alice] = await people('alice');
      assert.equal((await upload(url(), '', Buffer.from('x'))).status, 401);
      assert.equal((await http(url(), 'GET', '/v1/files')).status, 401);
      assert.equal((await download(url(), 'nope', `f_${'A'.repeat(16)}`)).status, 401);
      assert.equal((await download(url(), alice.token, '..%2F..%2Fetc')).status, 400);
      assert.equal((await http(url(), 'DELETE', `/v1/files/f_${'A'.repeat(16)}`, { token: alice.token })).status, 404);
    });
  });
}
