// Each internal error kind as its gRPC status, through a real grpc-js client against a real
// server process: the one table in src/errors.ts, with the internal message kept for known
// kinds. (UNAVAILABLE and the generic INTERNAL path need faults a real server does not
// make on demand: grpc-front-faults.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { ERROR_TABLE, type ErrorKind } from '../../src/errors.ts';
import {
  expectStatus, GrpcClients, registerGrpc, registryConnections, TEST_PASSWORD, type Obj,
} from '../helpers/grpcClients.ts';
import { removeDataDir, startServer, TEST_SECRET, type RunningServer } from '../helpers/server.ts';

const MAX_MESSAGE_BYTES = 1024;
const GRPC_MAX_MESSAGE_BYTES = 8 * 1024;

describe('gRPC front: mapped error statuses', () => {
  let server: RunningServer;
  let g: GrpcClients;
  let alice: Obj, bob: Obj, carol: Obj;
  let group: Obj;

  before(async () => {
    server = await startServer({ MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES), GRPC_MAX_MESSAGE_BYTES: String(GRPC_MAX_MESSAGE_BYTES) });
    g = new GrpcClients(server.grpcAddress);
    [alice, bob, carol] = await Promise.all([registerGrpc(g, 'alice'), registerGrpc(g, 'bob'), registerGrpc(g, 'carol')]);
    group = await g.messaging('CreateGroup', { name: 'g', members: [bob.userId] }, { token: alice.token });
  });

  after(async () => {
    g?.close();
    assert.equal(server.process.exitCode, null, 'the server is still up');
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('maps every error kind onto the gRPC status of the same name (the table agrees with grpc-js)', () => {
    const expected: Record<ErrorKind, keyof typeof grpc.status> = {
      invalid_argument: 'INVALID_ARGUMENT', unauthenticated: 'UNAUTHENTICATED', permission_denied: 'PERMISSION_DENIED',
      not_found: 'NOT_FOUND', already_exists: 'ALREADY_EXISTS', payload_too_large: 'RESOURCE_EXHAUSTED',
      rate_limited: 'RESOURCE_EXHAUSTED', unavailable: 'UNAVAILABLE', internal: 'INTERNAL',
      quota_exceeded: 'RESOURCE_EXHAUSTED', range_not_satisfiable: 'OUT_OF_RANGE',
    };
    for (const [kind, name] of Object.entries(expected)) assert.equal(ERROR_TABLE[kind as ErrorKind].grpc, grpc.status[name], kind);
  });

  it('UNAUTHENTICATED: no token, a malformed header, a forged or expired token, a wrong password', async () => {
    await expectStatus(g.auth('GetCurrentUser', {}), 'UNAUTHENTICATED', /missing or malformed Authorization: Bearer/);
    await expectStatus(g.messaging('ListConversations', {}, { authorization: 'Token abc' }), 'UNAUTHENTICATED', /malformed/);
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(alice.userId)
      .setIssuer('switchboard').setAudience('switchboard').setExpirationTime('1h').sign(new TextEncoder().encode('not-the-secret-not-the-secret-000'));
    await expectStatus(g.messaging('ListConversations', {}, { token: forged }), 'UNAUTHENTICATED', /signature is invalid/);
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(alice.userId)
      .setIssuer('switchboard').setAudience('switchboard').setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(new TextEncoder().encode(TEST_SECRET));
    await expectStatus(g.messaging('ListConversations', {}, { token: expired }), 'UNAUTHENTICATED', /token expired/);
    await expectStatus(g.auth('Login', { username: alice.username, password: 'wrong horse battery' }), 'UNAUTHENTICATED', /wrong username or password/);
    await expectStatus(g.auth('Login', { username: 'nobody_at_all', password: TEST_PASSWORD }), 'UNAUTHENTICATED', /wrong username or password/);
  });

  it('UNAUTHENTICATED ends a subscription without a token, and registers nothing', async () => {
    const before = await registryConnections(server);
    const sub = g.subscribe(null);
    const status = await sub.ended;
    assert.equal(status.code, grpc.status.UNAUTHENTICATED);
    assert.match(status.details, /Authorization: Bearer/);
    assert.equal(sub.events.length, 0);
    assert.equal(await registryConnections(server), before);
  });

  it('PERMISSION_DENIED: reading or writing a group one is not in, changing a group one does not own', async () => {
    const opts = { token: carol.token };
    await expectStatus(g.messaging('ListMessages', { conversationId: group.conversationId }, opts), 'PERMISSION_DENIED', /not a member/);
    await expectStatus(g.messaging('SendMessage', { conversationId: group.conversationId, clientMsgId: 'x', body: 'x' }, opts), 'PERMISSION_DENIED', /not a member/);
    await expectStatus(g.messaging('AddGroupMember', { conversationId: group.conversationId, userId: carol.userId }, { token: bob.token }),
      'PERMISSION_DENIED', /only the owner/);
  });

  it('NOT_FOUND: a conversation or a recipient that does not exist', async () => {
    await expectStatus(g.messaging('GetConversation', { conversationId: 'g_AAAAAAAAAAAAAAAA' }, { token: alice.token }), 'NOT_FOUND', /conversation not found/);
    await expectStatus(g.messaging('SendMessage', { recipientId: 'u_AAAAAAAAAAAAAAAA', clientMsgId: 'x', body: 'x' }, { token: alice.token }),
      'NOT_FOUND', /recipient not found/);
    await expectStatus(g.messaging('RemoveGroupMember', { conversationId: group.conversationId, userId: carol.userId }, { token: alice.token }),
      'NOT_FOUND', /not a member/);
  });

  it('INVALID_ARGUMENT: bad fields, named as the proto names them', async () => {
    const opts = { token: alice.token };
    const cases: [string, Obj, RegExp][] = [
      ['SendMessage', { recipientId: bob.userId, clientMsgId: '', body: 'x' }, /"client_msg_id" must be 1 to 64/],
      ['SendMessage', { recipientId: bob.userId, clientMsgId: 'has space', body: 'x' }, /"client_msg_id" has characters/],
      ['SendMessage', { recipientId: bob.userId, clientMsgId: 'a', body: '' }, /"body" must not be empty/],
      ['SendMessage', { recipientId: 'nobody', clientMsgId: 'a', body: 'x' }, /"recipient_id" is not a user id/],
      ['SendMessage', { recipientId: alice.userId, clientMsgId: 'a', body: 'x' }, /needs another user/],
      ['SendMessage', { clientMsgId: 'a', body: 'x' }, /set "conversation_id" or "recipient_id"/],
      ['SendMessage', { conversationId: 'dm_nonsense', clientMsgId: 'a', body: 'x' }, /"conversation_id" is not a conversation id/],
      ['ListMessages', { conversationId: group.conversationId, sinceSeq: -1 }, /"since_seq" must be between/],
      ['ListMessages', { conversationId: group.conversationId, pageSize: 100_000 }, /"page_size" must be between 1 and/],
      ['CreateGroup', { name: 'x', members: ['not-a-user'] }, /"members\[0\]" is not a user id/],
      ['AddGroupMember', { conversationId: group.conversationId, userId: '' }, /"user_id" is not a user id/],
    ];
    for (const [method, req, details] of cases) await expectStatus(g.messaging(method, req, opts), 'INVALID_ARGUMENT', details);
    await expectStatus(g.auth('Register', { username: 'x', password: TEST_PASSWORD }), 'INVALID_ARGUMENT', /"username" must be 3 to 32/);
    await expectStatus(g.auth('Register', { username: 'has space', password: TEST_PASSWORD }), 'INVALID_ARGUMENT', /"username" has characters/);
  });

  it('ALREADY_EXISTS: a username that is taken', async () => {
    await expectStatus(g.auth('Register', { username: alice.username, password: TEST_PASSWORD }), 'ALREADY_EXISTS', /taken|exists/);
  });

  it('RESOURCE_EXHAUSTED: a body over MAX_MESSAGE_BYTES, and a request over GRPC_MAX_MESSAGE_BYTES', async () => {
    const opts = { token: alice.token };
    await expectStatus(g.messaging('SendMessage', { recipientId: bob.userId, clientMsgId: 'big', body: 'x'.repeat(MAX_MESSAGE_BYTES + 1) }, opts),
      'RESOURCE_EXHAUSTED', /"body" is larger than 1024 bytes/);
    await expectStatus(g.messaging('SendMessage', { recipientId: bob.userId, clientMsgId: 'huge', body: 'x'.repeat(GRPC_MAX_MESSAGE_BYTES + 1) }, opts),
      'RESOURCE_EXHAUSTED', /larger than max/);
    // Neither was stored; the channel still works.
    const ack = await g.messaging('SendMessage', { recipientId: bob.userId, clientMsgId: 'ok', body: 'fits' }, opts);
    assert.equal(ack.seq, 1);
  });
});
