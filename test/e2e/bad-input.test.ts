// Bad input gets a clear error and the server stays up: malformed frames, unknown types,
// wrong fields, oversized frames and bodies, strangers, bad tokens, floods.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { http, register, WsClient, type Registered } from '../helpers/clients.ts';
import { removeDataDir, startServer, TEST_SECRET, type RunningServer } from '../helpers/server.ts';

const MAX_FRAME_BYTES = 8 * 1024;
const MAX_MESSAGE_BYTES = 1024;
const key = new TextEncoder().encode(TEST_SECRET);

function b64(o: object): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

describe('bad input', () => {
  let server: RunningServer;
  let alice: Registered, bob: Registered, carol: Registered;
  let ws: WsClient;

  before(async () => {
    server = await startServer({ MAX_FRAME_BYTES: String(MAX_FRAME_BYTES), MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) });
    [alice, bob, carol] = await Promise.all([register(server.url), register(server.url), register(server.url)]);
    ws = await WsClient.connect(server.wsUrl, alice.token);
  });
  after(async () => {
    ws?.ws.terminate();
    // The server is still healthy after everything below.
    const health = await http(server.url, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(server.process.exitCode, null);
    await server.stop();
    removeDataDir(server.dataDir);
  });

  async function expectError(frame: string | Buffer, code: string, message: RegExp): Promise<void> {
    ws.sendRaw(frame);
    const e = await ws.next((f) => f.type === 'error');
    assert.equal(e.code, code);
    assert.match(e.message, message);
    // The connection is still usable.
    const pong = await ws.request({ type: 'ping' });
    assert.equal(pong.type, 'pong');
  }

  it('answers a frame that does not decode', async () => {
    await expectError('{"type": "send", ', 'invalid_argument', /not valid JSON/);
    await expectError(Buffer.from([0xff, 0x00, 0x13]), 'invalid_argument', /JSON text, not binary/);
    await expectError('[1,2,3]', 'invalid_argument', /must be a JSON object/);
  });

  it('answers an unknown frame type', async () => {
    await expectError('{"type":"launch-missiles"}', 'invalid_argument', /unknown frame type "launch-missiles"/);
    await expectError('{"hello":1}', 'invalid_argument', /no "type"/);
  });

  it('answers missing and wrong-typed fields, naming the field', async () => {
    const cases: [object, RegExp][] = [
      [{ type: 'send', to: bob.userId, body: 'x' }, /"clientMsgId" must be a string/],
      [{ type: 'send', to: bob.userId, clientMsgId: 'a', body: 42 }, /"body" must be a string/],
      [{ type: 'send', to: bob.userId, clientMsgId: 'a', body: '' }, /"body" must not be empty/],
      [{ type: 'send', to: 'nobody', clientMsgId: 'a', body: 'x' }, /"to" is not a user id/],
      [{ type: 'send', clientMsgId: 'a', body: 'x' }, /set "conversationId" \(a conversation\) or "to" \(a user\)/],
      [{ type: 'send', conversationId: 17, clientMsgId: 'a', body: 'x' }, /"conversationId" is not a conversation id/],
      [{ type: 'send', to: bob.userId, clientMsgId: 'has space', body: 'x' }, /"clientMsgId" has characters/],
      [{ type: 'sync', conversationId: 'g_AAAAAAAAAAAAAAAA', sinceSeq: -1 }, /"sinceSeq" must be between/],
      [{ type: 'sync', conversationId: 'g_AAAAAAAAAAAAAAAA', sinceSeq: 'zero' }, /"sinceSeq" must be an integer/],
      [{ type: 'ping', ref: 5 }, /"ref" must be a string/],
    ];
    for (const [frame, message] of cases) await expectError(JSON.stringify(frame), 'invalid_argument', message);
  });

  it('answers an auth frame with ready carrying its ref', async () => {
    const bare = await WsClient.connect(server.wsUrl, null);
    try {
      const ready = await bare.request({ type: 'auth', token: carol.token });
      assert.deepEqual([ready.type, ready.userId], ['ready', carol.userId]);
    } finally {
      bare.ws.terminate();
    }
  });

  it("refuses another user's token on a signed-in socket, keeping the socket and its user", async () => {
    await expectError(JSON.stringify({ type: 'auth', token: bob.token }), 'invalid_argument', /signed in as another user/);
    const again = await ws.request({ type: 'auth', token: alice.token });
    assert.deepEqual([again.type, again.userId], ['ready', alice.userId]);
    const ack = await ws.request({ type: 'send', to: bob.userId, clientMsgId: 'still-alice', body: 'x' });
    assert.equal(ack.type, 'ack');
    const page = await http(server.url, 'GET', `/v1/conversations/${ack.conversationId}/messages`, { token: bob.token });
    assert.equal(page.body.messages.at(-1).sender, alice.userId);
  });

  it('refuses a message body over the limit with payload_too_large, keeping the socket', async () => {
    const body = 'x'.repeat(MAX_MESSAGE_BYTES + 1);
    await expectError(JSON.stringify({ type: 'send', to: bob.userId, clientMsgId: 'big', body }), 'payload_too_large', /larger than 1024 bytes/);
  });

  it('closes the socket on a frame over the frame limit (1009), and the server stays up', async () => {
    const victim = await WsClient.connect(server.wsUrl, carol.token);
    victim.sendRaw(JSON.stringify({ type: 'send', to: bob.userId, clientMsgId: 'huge', body: 'y'.repeat(MAX_FRAME_BYTES * 2) }));
    const { code, reason } = await victim.closed;
    assert.equal(code, 1009);
    assert.match(reason, /frame larger than 8192 bytes/);
    const pong = await ws.request({ type: 'ping' });
    assert.equal(pong.type, 'pong');
  });

  it('refuses messages to a conversation the user is not in', async () => {
    const group = await http(server.url, 'POST', '/v1/groups', { token: bob.token, body: { name: 'private', members: [carol.userId] } });
    assert.equal(group.status, 201);
    const r = await ws.request({ type: 'send', conversationId: group.body.id, clientMsgId: 'x', body: 'let me in' });
    assert.equal(r.type, 'error');
    assert.equal(r.code, 'permission_denied');
    const sync = await ws.request({ type: 'sync', conversationId: group.body.id, sinceSeq: 0 });
    assert.equal(sync.code, 'permission_denied');
    const missing = await ws.request({ type: 'send', conversationId: 'g_AAAAAAAAAAAAAAAA', clientMsgId: 'x', body: 'hello?' });
    assert.equal(missing.code, 'not_found');
    const dmOthers = await http(server.url, 'GET', `/v1/conversations/${[bob.userId, carol.userId].sort().join('_').replace(/^/, 'dm_')}/messages`, { token: alice.token });
    assert.equal(dmOthers.status, 404); // that DM does not exist yet; nothing leaks either way
    const http403 = await http(server.url, 'POST', `/v1/conversations/${group.body.id}/messages`, {
      token: alice.token, body: { clientMsgId: 'x', body: 'hi' },
    });
    assert.equal(http403.status, 403);
    assert.equal(http403.body.error.code, 'permission_denied');
  });

  describe('tokens', () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = () => ({ sub: alice.userId, iss: 'switchboard', aud: 'switchboard' });
    const tokens: [string, () => Promise<string>, RegExp][] = [
      ['expired', () => new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(key), /token expired/],
      ['tampered', async () => {
        const good = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
        const [h, , s] = good.split('.');
        return `${h}.${b64({ ...claims(), sub: bob.userId, exp: now + 3600 })}.${s}`;
      }, /signature is invalid/],
      ['unsigned (alg none)', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims(), exp: now + 3600 })}.`, /algorithm is not allowed|malformed/],
      ['another algorithm (HS512)', () => new SignJWT(claims()).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('1h').sign(key), /algorithm is not allowed/],
      ['signed with another secret', async () => {
        const h = b64({ alg: 'HS256', typ: 'JWT' });
        const p = b64({ ...claims(), exp: now + 3600 });
        const s = createHmac('sha256', 'not-the-secret').update(`${h}.${p}`).digest('base64url');
        return `${h}.${p}.${s}`;
      }, /signature is invalid/],
      ['garbage', async () => 'not.a.token', /malformed/],
    ];

    for (const [name, make, message] of tokens) {
      it(`refuses a token that is ${name}, on HTTP and WebSocket`, async () => {
        const token = await make();
        const r = await http(server.url, 'GET', '/v1/me', { token });
        assert.equal(r.status, 401);
        assert.equal(r.body.error.code, 'unauthenticated');
        assert.match(r.body.error.message, message);
        await assert.rejects(WsClient.connect(server.wsUrl, token), /upgrade refused: 401/);
        const viaFrame = await WsClient.connect(server.wsUrl, null);
        viaFrame.sendRaw(JSON.stringify({ type: 'auth', token }));
        const e = await viaFrame.next((f) => f.type === 'error');
        assert.equal(e.code, 'unauthenticated');
        assert.equal((await viaFrame.closed).code, 4003);
      });
    }

    it('refuses a missing Authorization header and frames before auth', async () => {
      const r = await http(server.url, 'GET', '/v1/conversations');
      assert.equal(r.status, 401);
      assert.match(r.body.error.message, /Bearer/);
      const anon = await WsClient.connect(server.wsUrl, null);
      const e = await anon.request({ type: 'send', to: bob.userId, clientMsgId: 'a', body: 'b' });
      assert.equal(e.code, 'unauthenticated');
      anon.ws.terminate();
    });
  });

  it('answers bad HTTP bodies with 400 and 413', async () => {
    const notJson = await http(server.url, 'POST', '/v1/auth/login', { raw: '{nope', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.error.message, /not valid JSON/);
    const big = await http(server.url, 'POST', '/v1/auth/login', { raw: JSON.stringify({ username: 'x'.repeat(200_000) }) });
    assert.equal(big.status, 413);
    const short = await http(server.url, 'POST', '/v1/auth/register', { body: { username: 'ab', password: 'password123' } });
    assert.equal(short.status, 400);
    assert.match(short.body.error.message, /"username" must be 3 to 32/);
    const taken = await http(server.url, 'POST', '/v1/auth/register', { body: { username: alice.username, password: 'password123' } });
    assert.equal(taken.status, 409);
    const wrong = await http(server.url, 'POST', '/v1/auth/login', { body: { username: alice.username, password: 'wrong password' } });
    assert.equal(wrong.status, 401);
    const nowhere = await http(server.url, 'GET', '/v1/nowhere');
    assert.equal(nowhere.status, 404);
  });
});

describe('floods', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ RATE_BURST: '20', RATE_PERIOD_MS: '1000' });
  });
  after(async () => {
    await server.stop();
    removeDataDir(server.dataDir);
  });

  it('rate-limits WebSocket frames per user and HTTP requests per address, then recovers', async () => {
    const u = await register(server.url);
    const ws = await WsClient.connect(server.wsUrl, u.token);
    for (let i = 0; i < 60; i++) ws.sendRaw(JSON.stringify({ type: 'ping', ref: `p${i}` }));
    const limited = await ws.next((f) => f.type === 'error' && f.code === 'rate_limited');
    assert.match(limited.message, /rate limit exceeded/);
    ws.ws.terminate();

    let lastStatus = 0;
    let retryAfter: string | null = null;
    for (let i = 0; i < 40 && lastStatus !== 429; i++) {
      const r = await http(server.url, 'GET', '/healthz');
      lastStatus = r.status;
      retryAfter = r.headers.get('retry-after');
    }
    assert.equal(lastStatus, 429);
    assert.ok(Number(retryAfter) >= 1);
  });
});
