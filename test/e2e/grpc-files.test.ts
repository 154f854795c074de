// FileService over gRPC, through a real grpc-js client against a real server process: the
// same files, rules and quota as the HTTP routes (one FileService behind both), bytes
// streamed both ways, a file shared by sending it in a message, and calls that end early
// (cancelled, deadline passed) leaving nothing behind and the server serving.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { PART_SUFFIX } from '../../src/files/DiskFileStore.ts';
import { FILES_DIR } from '../../src/files/openFileStore.ts';
import { FILE_CHUNK_BYTES } from '../../src/transport/grpc/fileService.ts';
import { SERVICE } from '../../src/transport/grpc/protos.ts';
import { http, WsClient } from '../helpers/clients.ts';
import { download as httpDownload } from '../helpers/files.ts';
import {
  expectStatus, GrpcClients, registerGrpcUsers, waitFor, type Obj, type Subscription,
} from '../helpers/grpcClients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

const KiB = 1024;
const MAX_FILE = 512 * KiB;
const QUOTA = 1024 * KiB;
/** Small store chunks and quota steps, so one upload crosses many of both. */
const STORE_CHUNK = 4 * KiB;
const QUOTA_STEP = 16 * KiB;
const UNKNOWN_FILE = `f_${'A'.repeat(16)}`;

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** `data` cut into pieces of `size` bytes (the last one shorter). */
const pieces = (data: Buffer, size: number): Buffer[] => {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
};

describe('gRPC front: files', () => {
  let server: RunningServer;
  let g: GrpcClients;
  const sockets: WsClient[] = [];
  const subscriptions: Subscription[] = [];

  const people = <N extends string[]>(...names: N) => registerGrpcUsers(g, ...names);
  const as = (u: Obj) => ({ token: u.token });
  const quotaOf = (u: Obj) => g.files('GetQuota', {}, as(u));
  const partFiles = (): number =>
    readdirSync(join(server.dataDir, FILES_DIR), { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith(PART_SUFFIX)).length;
  /** Nothing of `u`'s is stored or held, on the wire and on disk. */
  const nothingLeft = async (u: Obj): Promise<void> => {
    const mine = await g.files('ListFiles', {}, as(u));
    assert.deepEqual(mine.files, []);
    assert.equal(mine.quota.usedBytes, 0);
    assert.equal(mine.quota.reservedBytes, 0);
    assert.equal(partFiles(), 0, 'no half-written upload on disk');
  };
  const settledQuota = (u: Obj) => waitFor('the upload to be aborted', async () => {
    const q = await quotaOf(u);
    return q.usedBytes === 0 && q.reservedBytes === 0 && partFiles() === 0;
  });
  const unauthenticatedDetails = async (): Promise<string> =>
    (await expectStatus(g.files('GetQuota', {}), 'UNAUTHENTICATED')).details;

  before(async () => {
    server = await startServer({
      MEDIA_WORKERS: '0', RATE_PERIOD_MS: '0', MONGO_URL: '', AMQP_URL: '',
      FILE_MAX_BYTES: String(MAX_FILE), USER_QUOTA_BYTES: String(QUOTA),
      FILE_CHUNK_BYTES: String(STORE_CHUNK), FILE_QUOTA_STEP_BYTES: String(QUOTA_STEP),
    });
    g = new GrpcClients(server.grpcAddress);
  });

  after(async () => {
    await Promise.all(subscriptions.map((s) => s.cancel()));
    for (const c of sockets) c.ws.terminate();
    g?.close();
    assert.equal(server.process.exitCode, null, 'the server is still up');
    assert.deepEqual(server.logs.filter((l) => /unhandled error/.test(l)), [], 'no error reached INTERNAL');
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('round-trips an empty, a 1-byte and a multi-chunk file byte for byte, declared or not', async () => {
    const [alice] = await people('alice');
    const big = randomBytes(5 * FILE_CHUNK_BYTES + 123);
    const cases: [string, Buffer, Buffer[], boolean][] = [
      ['empty.txt', Buffer.alloc(0), [], true],
      ['empty-undeclared.txt', Buffer.alloc(0), [], false],
      ['one.bin', Buffer.from([0x7f]), [Buffer.from([0x7f])], true],
      ['big.bin', big, pieces(big, FILE_CHUNK_BYTES), true],
      ['big-undeclared.bin', big, pieces(big, 10_000), false],
    ];
    for (const [filename, data, chunks, declare] of cases) {
      const before = Date.now();
      const stored = await g.upload({ filename, contentType: 'application/x-test', sizeBytes: declare ? data.length : 0 }, chunks, as(alice));
      assert.match(stored.fileId, /^f_[A-Za-z0-9_-]{16}$/, filename);
      assert.equal(stored.ownerId, alice.userId);
      assert.equal(stored.filename, filename);
      assert.equal(stored.contentType, 'application/x-test');
      assert.equal(stored.sizeBytes, data.length);
      assert.equal(stored.sha256, sha256(data));
      assert.ok(stored.createTime.seconds >= Math.floor(before / 1000) - 1);

      const got = await g.download({ fileId: stored.fileId }, as(alice));
      assert.deepEqual(got.file, stored, `${filename}: the file message describes it`);
      assert.equal(got.order[0], 'file');
      assert.ok(got.data.equals(data), `${filename}: the same bytes`);
      assert.ok(got.chunkSizes.every((n) => n > 0 && n <= FILE_CHUNK_BYTES), `${filename}: chunks of at most 64 KiB: ${got.chunkSizes}`);
      if (data.length === 0) assert.deepEqual(got.order, ['file']);
      // The HTTP front reads the same file.
      const viaHttp = await httpDownload(server.url, alice.token, stored.fileId);
      assert.equal(viaHttp.status, 200);
      assert.ok(viaHttp.body.equals(data));
      assert.equal(viaHttp.headers.get('etag'), `"${stored.sha256}"`);
    }
    const big1 = await g.download({ fileId: (await g.files('ListFiles', {}, as(alice))).files[3].fileId }, as(alice));
    assert.ok(big1.chunkSizes.length >= 6, 'a multi-chunk file comes in several chunks');
  });

  it('downloads a byte range: offset and length, clamped at the end; past the end is OUT_OF_RANGE', async () => {
    const [alice] = await people('alice');
    const data = randomBytes(3 * FILE_CHUNK_BYTES + 17);
    const { fileId } = await g.upload({ filename: 'r.bin', sizeBytes: data.length }, pieces(data, FILE_CHUNK_BYTES), as(alice));
    const range = async (offset: number, length: number) => (await g.download({ fileId, offset, length }, as(alice))).data;
    assert.ok((await range(0, 1)).equals(data.subarray(0, 1)));
    assert.ok((await range(100, 1000)).equals(data.subarray(100, 1100)));
    assert.ok((await range(FILE_CHUNK_BYTES - 5, FILE_CHUNK_BYTES + 10)).equals(data.subarray(FILE_CHUNK_BYTES - 5, 2 * FILE_CHUNK_BYTES + 5)));
    assert.ok((await range(data.length - 10, 0)).equals(data.subarray(data.length - 10)), 'length 0: to the end');
    assert.ok((await range(data.length - 5, 100)).equals(data.subarray(data.length - 5)), 'clamped at the end');
    const atEnd = await g.download({ fileId, offset: data.length }, as(alice));
    assert.deepEqual(atEnd.order, ['file'], 'offset = size: the file and no bytes');
    assert.equal(atEnd.file.sizeBytes, data.length);
    await expectStatus(g.download({ fileId, offset: data.length + 1 }, as(alice)), 'OUT_OF_RANGE', new RegExp(`"offset" is past the end: the file has ${data.length} bytes`));
    await expectStatus(g.download({ fileId, offset: -1 }, as(alice)), 'INVALID_ARGUMENT', /"offset" must not be negative/);
    await expectStatus(g.download({ fileId, length: -1 }, as(alice)), 'INVALID_ARGUMENT', /"length" must not be negative/);
    await expectStatus(g.download({ fileId: 'nope' }, as(alice)), 'INVALID_ARGUMENT', /"file_id" is not a file id/);
  });

  it('lists my files with my quota; GetQuota agrees; DeleteFile frees the bytes', async () => {
    const [alice] = await people('alice');
    const empty = await quotaOf(alice);
    assert.deepEqual(empty, { usedBytes: 0, limitBytes: QUOTA, maxFileBytes: MAX_FILE, reservedBytes: 0 });
    const sizes = [1000, 20_000, 70_000];
    const stored = [];
    for (const [i, n] of sizes.entries()) {
      stored.push(await g.upload({ filename: `f${i}`, sizeBytes: n }, pieces(randomBytes(n), FILE_CHUNK_BYTES), as(alice)));
    }
    const listed = await g.files('ListFiles', {}, as(alice));
    assert.deepEqual(listed.files, stored, 'every file, oldest first, as uploads answered them');
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.deepEqual(listed.quota, { usedBytes: total, limitBytes: QUOTA, maxFileBytes: MAX_FILE, reservedBytes: 0 });
    assert.deepEqual(await quotaOf(alice), listed.quota);
    // The HTTP front tells the same numbers.
    const viaHttp = await http(server.url, 'GET', '/v1/files', { token: alice.token });
    assert.deepEqual(viaHttp.body.quota, { usedBytes: total, reservedBytes: 0, limitBytes: QUOTA, maxFileBytes: MAX_FILE });

    assert.deepEqual(await g.files('DeleteFile', { fileId: stored[1]!.fileId }, as(alice)), {});
    await expectStatus(g.download({ fileId: stored[1]!.fileId }, as(alice)), 'NOT_FOUND', /file not found/);
    await expectStatus(g.files('DeleteFile', { fileId: stored[1]!.fileId }, as(alice)), 'NOT_FOUND', /file not found/);
    const after = await g.files('ListFiles', {}, as(alice));
    assert.deepEqual(after.files.map((f: Obj) => f.fileId), [stored[0]!.fileId, stored[2]!.fileId]);
    assert.equal(after.quota.usedBytes, total - sizes[1]!);
    await expectStatus(g.files('DeleteFile', { fileId: '' }, as(alice)), 'INVALID_ARGUMENT', /"file_id" is not a file id/);
  });

  it('RESOURCE_EXHAUSTED past the per-file limit or the quota, declared or not, keeping nothing', async () => {
    const [alice] = await people('alice');
    // Declared too large: refused before a byte, whatever follows.
    await expectStatus(g.upload({ filename: 'x', sizeBytes: MAX_FILE + 1 }, [randomBytes(10)], as(alice)),
      'RESOURCE_EXHAUSTED', new RegExp(`file is larger than the limit of ${MAX_FILE} bytes`));
    // Undeclared: refused when the byte past the limit arrives.
    await expectStatus(g.upload({ filename: 'x' }, pieces(randomBytes(MAX_FILE + 1), FILE_CHUNK_BYTES), as(alice)),
      'RESOURCE_EXHAUSTED', /file is larger than the limit/);
    await settledQuota(alice);
    await nothingLeft(alice);

    // Fill most of the quota, then ask for more than is left.
    const kept = [];
    for (let i = 0; i < 2; i++) kept.push(await g.upload({ filename: `k${i}`, sizeBytes: MAX_FILE - KiB }, pieces(randomBytes(MAX_FILE - KiB), FILE_CHUNK_BYTES), as(alice)));
    const left = QUOTA - 2 * (MAX_FILE - KiB);
    await expectStatus(g.upload({ filename: 'over', sizeBytes: left + 1 }, [randomBytes(left + 1)], as(alice)),
      'RESOURCE_EXHAUSTED', new RegExp(`storage quota of ${QUOTA} bytes exceeded`));
    await expectStatus(g.upload({ filename: 'over' }, pieces(randomBytes(left + 1), 512), as(alice)),
      'RESOURCE_EXHAUSTED', /storage quota .* exceeded/);
    await settledQuota(alice).catch(() => { /* used is not 0 here: checked below */ });
    await waitFor('the reservations to return', async () => (await quotaOf(alice)).reservedBytes === 0);
    const mine = await g.files('ListFiles', {}, as(alice));
    assert.deepEqual(mine.files, kept);
    assert.deepEqual(mine.quota, { usedBytes: 2 * (MAX_FILE - KiB), limitBytes: QUOTA, maxFileBytes: MAX_FILE, reservedBytes: 0 });
    // What is left still fits, exactly.
    const last = await g.upload({ filename: 'fits', sizeBytes: left }, [randomBytes(left)], as(alice));
    assert.equal((await quotaOf(alice)).usedBytes, QUOTA);
    for (const f of [...kept, last]) await g.files('DeleteFile', { fileId: f.fileId }, as(alice));
    await nothingLeft(alice);
  });

  it('INVALID_ARGUMENT when the chunks do not add up to the declared size, or the stream is malformed; nothing is stored', async () => {
    const [alice] = await people('alice');
    const data = randomBytes(1000);
    await expectStatus(g.upload({ filename: 'short', sizeBytes: 1001 }, [data], as(alice)),
      'INVALID_ARGUMENT', /the chunks add up to 1000 bytes, not "size_bytes" \(1001\)/);
    await expectStatus(g.upload({ filename: 'long', sizeBytes: 999 }, [data.subarray(0, 500), data.subarray(500)], as(alice)),
      'INVALID_ARGUMENT', /the chunks add up to more than "size_bytes" \(999\)/);
    await expectStatus(g.upload({ filename: 'neg', sizeBytes: -1 }, [data], as(alice)), 'INVALID_ARGUMENT', /"size_bytes" must not be negative/);
    // The fields name the proto fields, not the HTTP ones.
    await expectStatus(g.upload({ filename: '' }, [data], as(alice)), 'INVALID_ARGUMENT', /^"filename" is required$/);
    await expectStatus(g.upload({ filename: 'x'.repeat(256) }, [data], as(alice)), 'INVALID_ARGUMENT', /^"filename" must be at most 255 characters$/);
    await expectStatus(g.upload({ filename: 'x', contentType: 'not a type' }, [data], as(alice)),
      'INVALID_ARGUMENT', /^"content_type" is not a valid media type$/);

    const raw = async (messages: Obj[]) => {
      const { call, answer } = g.openUpload(as(alice));
      for (const m of messages) call.write(m);
      call.end();
      return answer;
    };
    await expectStatus(raw([]), 'INVALID_ARGUMENT', /the first message must carry "metadata"/);
    await expectStatus(raw([{ chunk: data }]), 'INVALID_ARGUMENT', /the first message must carry "metadata"/);
    await expectStatus(raw([{ metadata: { filename: 'a' } }, { chunk: data }, { metadata: { filename: 'b' } }]),
      'INVALID_ARGUMENT', /"metadata" comes once, first/);
    await settledQuota(alice);
    await nothingLeft(alice);
  });

  it('shares a file by sending it: non-members get NOT_FOUND as for an unknown id, members download it, WS and HTTP see the attachment', async () => {
    const [alice, bob, carol] = await people('alice', 'bob', 'carol');
    const data = randomBytes(2 * FILE_CHUNK_BYTES + 7);
    const file = await g.upload({ filename: 'plan.pdf', contentType: 'application/pdf', sizeBytes: data.length }, pieces(data, FILE_CHUNK_BYTES), as(alice));

    const unknown = await expectStatus(g.download({ fileId: UNKNOWN_FILE }, as(bob)), 'NOT_FOUND');
    const notShared = await expectStatus(g.download({ fileId: file.fileId }, as(bob)), 'NOT_FOUND');
    assert.equal(notShared.details, unknown.details, 'a file one may not read looks like one that does not exist');
    assert.equal((await httpDownload(server.url, bob.token, file.fileId)).status, 404, 'HTTP agrees');
    await expectStatus(g.files('DeleteFile', { fileId: file.fileId }, as(bob)), 'NOT_FOUND', /file not found/);

    const bobEvents = g.subscribe(bob.token);
    subscriptions.push(bobEvents);
    await bobEvents.ready();
    const bobWs = await WsClient.connect(server.wsUrl, bob.token);
    sockets.push(bobWs);

    // A file alone is a message: the body may be empty.
    const ack = await g.messaging('SendMessage', { recipientId: bob.userId, clientMsgId: 'f1', body: '', fileId: file.fileId }, as(alice));
    const attachment = { fileId: file.fileId, filename: 'plan.pdf', contentType: 'application/pdf', sizeBytes: data.length };
    const [pushed] = await bobEvents.messages(ack.conversationId, 1);
    assert.deepEqual(pushed!.attachment, attachment);
    assert.equal(pushed!.body, '');
    const [frame] = await bobWs.messages(ack.conversationId, 1);
    assert.deepEqual(frame!.attachment, { fileId: file.fileId, name: 'plan.pdf', size: data.length, contentType: 'application/pdf' });
    const history = await g.messaging('ListMessages', { conversationId: ack.conversationId }, as(bob));
    assert.deepEqual(history.messages.map((m: Obj) => m.attachment), [attachment]);
    const viaHttp = await http(server.url, 'GET', `/v1/conversations/${ack.conversationId}/messages`, { token: bob.token });
    assert.deepEqual(viaHttp.body.messages[0].attachment, frame!.attachment);

    // Bob, a member now, downloads it over gRPC; Carol still cannot.
    const got = await g.download({ fileId: file.fileId }, as(bob));
    assert.ok(got.data.equals(data));
    assert.equal(got.file.ownerId, alice.userId);
    assert.equal(got.file.sha256, sha256(data));
    assert.equal((await expectStatus(g.download({ fileId: file.fileId }, as(carol)), 'NOT_FOUND')).details, unknown.details);

    // Only the owner deletes or sends it; a member who may read it is told so.
    await expectStatus(g.files('DeleteFile', { fileId: file.fileId }, as(bob)), 'PERMISSION_DENIED', /only the owner of a file/);
    await expectStatus(g.messaging('SendMessage', { recipientId: alice.userId, clientMsgId: 'b1', fileId: file.fileId }, as(bob)),
      'PERMISSION_DENIED', /only the owner of a file/);
    await expectStatus(g.messaging('SendMessage', { recipientId: alice.userId, clientMsgId: 'b2', body: 'x', fileId: 'nope' }, as(bob)),
      'INVALID_ARGUMENT', /^"file_id" is not a file id$/);
    // A message without a file carries no attachment.
    const text = await g.messaging('SendMessage', { recipientId: bob.userId, clientMsgId: 't1', body: 'hi' }, as(alice));
    const [plain] = await bobEvents.messages(text.conversationId, 1);
    assert.equal(plain!.attachment, null);

    assert.deepEqual(await g.files('DeleteFile', { fileId: file.fileId }, as(alice)), {});
    assert.equal((await expectStatus(g.download({ fileId: file.fileId }, as(bob)), 'NOT_FOUND')).details, unknown.details);
  });

  it('UNAUTHENTICATED without a token, on every RPC', async () => {
    const details = await unauthenticatedDetails();
    assert.match(details, /missing or malformed Authorization: Bearer/);
    await expectStatus(g.files('ListFiles', {}), 'UNAUTHENTICATED', /Authorization: Bearer/);
    await expectStatus(g.files('DeleteFile', { fileId: UNKNOWN_FILE }), 'UNAUTHENTICATED', /Authorization: Bearer/);
    await expectStatus(g.download({ fileId: UNKNOWN_FILE }), 'UNAUTHENTICATED', /Authorization: Bearer/);
    await expectStatus(g.upload({ filename: 'x', sizeBytes: 3 }, [Buffer.from('abc')]), 'UNAUTHENTICATED', /Authorization: Bearer/);
    await expectStatus(g.files('GetQuota', {}, { token: 'not.a.token' }), 'UNAUTHENTICATED');
  });

  it('a client that cancels mid-upload, or whose deadline passes, leaves no file and its quota at 0', async () => {
    const [alice] = await people('alice');
    for (const declare of [true, false]) {
      const { call, answer } = g.openUpload(as(alice));
      call.write({ metadata: { filename: 'gone', sizeBytes: declare ? MAX_FILE : 0 } });
      for (const c of pieces(randomBytes(3 * QUOTA_STEP), 8 * KiB)) call.write({ chunk: c });
      // The upload is under way: bytes reserved, a part file on disk.
      await waitFor('the upload to hold quota', async () => (await quotaOf(alice)).reservedBytes >= (declare ? MAX_FILE : QUOTA_STEP) && partFiles() > 0);
      call.cancel();
      await expectStatus(answer, 'CANCELLED');
      await settledQuota(alice);
      await nothingLeft(alice);
    }

    const { call, answer } = g.openUpload({ ...as(alice), deadlineMs: 1500 });
    call.write({ metadata: { filename: 'late' } });
    call.write({ chunk: randomBytes(20 * KiB) });
    await waitFor('the upload to hold quota', async () => (await quotaOf(alice)).reservedBytes > 0);
    await expectStatus(answer, 'DEADLINE_EXCEEDED');
    await settledQuota(alice);
    await nothingLeft(alice);
  });

  it('a client that cancels mid-download leaves the server serving', async () => {
    const [alice] = await people('alice');
    const data = randomBytes(MAX_FILE);
    const { fileId } = await g.upload({ filename: 'big', sizeBytes: data.length }, pieces(data, FILE_CHUNK_BYTES), as(alice));
    for (let round = 0; round < 3; round++) {
      const stream = g.openDownload({ fileId }, as(alice));
      const ended = new Promise<grpc.StatusObject>((resolve) => {
        stream.on('status', resolve);
        stream.on('error', () => { /* the status says it */ });
      });
      const first = await new Promise<Obj>((resolve) => stream.once('data', resolve));
      assert.equal(first.data, 'file');
      // Stop reading: the server meets backpressure, then the client goes away.
      stream.pause();
      await new Promise((r) => setTimeout(r, 100));
      stream.cancel();
      assert.equal((await ended).code, grpc.status.CANCELLED);
    }
    // Still serving, the whole file and every other call.
    const again = await g.download({ fileId }, as(alice));
    assert.ok(again.data.equals(data));
    assert.equal((await g.files('ListFiles', {}, as(alice))).files.length, 1);
    const h = await g.call(SERVICE.health, 'Check', { service: SERVICE.files });
    assert.equal(h.status, 'SERVING');
  });
});
