// Every RPC of AuthService and MessagingService, through a real grpc-js client against a
// real server process; health; files and rooms served (grpc-files.test.ts and
// grpc-rooms.test.ts have the rest); a cancelled subscription leaving the connection registry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  expectStatus, GrpcClients, registerGrpc, registryConnections, TEST_PASSWORD, waitFor, type Obj,
} from '../helpers/grpcClients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';
import { SERVICE } from '../../src/transport/grpc/protos.ts';

describe('gRPC front: every RPC', () => {
  let server: RunningServer;
  let g: GrpcClients;
  let alice: Obj, bob: Obj, carol: Obj;

  before(async () => {
    server = await startServer();
    g = new GrpcClients(server.grpcAddress);
    [alice, bob, carol] = await Promise.all([registerGrpc(g, 'alice'), registerGrpc(g, 'bob'), registerGrpc(g, 'carol')]);
  });

  after(async () => {
    g?.close();
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('registers, logs in and answers who-am-I', async () => {
    assert.match(alice.userId, /^u_/);
    const login = await g.auth('Login', { username: alice.username, password: TEST_PASSWORD });
    assert.equal(login.userId, alice.userId);
    assert.equal(login.username, alice.username);
    assert.ok(login.token.length > 20);
    const me = await g.auth('GetCurrentUser', {}, { token: login.token });
    assert.deepEqual(me, { userId: alice.userId, username: alice.username });
  });

  it('sends a direct message, streams it to the recipient and to the sender, with ready first', async () => {
    const bobEvents = g.subscribe(bob.token);
    const aliceEvents = g.subscribe(alice.token);
    assert.equal(await bobEvents.ready(), bob.userId);
    assert.equal(await aliceEvents.ready(), alice.userId);

    const ack = await g.messaging('SendMessage', { recipientId: bob.userId, clientMsgId: 'dm-1', body: 'hi bob' }, { token: alice.token });
    assert.equal(ack.seq, 1);
    assert.equal(ack.duplicate, false);
    assert.equal(ack.clientMsgId, 'dm-1');
    assert.match(ack.conversationId, /^dm_/);
    assert.ok(ack.sendTime.seconds > 0);
    for (const sub of [bobEvents, aliceEvents]) {
      const [m] = await sub.messages(ack.conversationId, 1);
      assert.equal(m!.body, 'hi bob');
      assert.equal(m!.senderId, alice.userId);
      assert.equal(m!.messageId, ack.messageId);
      assert.equal(m!.seq, 1);
      assert.deepEqual(m!.sendTime, ack.sendTime);
    }

    // Bob answers in the same conversation, by its id.
    const reply = await g.messaging('SendMessage', { conversationId: ack.conversationId, clientMsgId: 'dm-2', body: 'hi alice' }, { token: bob.token });
    assert.equal(reply.seq, 2);
    const [m] = await aliceEvents.messages(ack.conversationId, 1);
    assert.equal(m!.body, 'hi alice');

    // A resend is answered with the first message, and streamed to nobody again.
    const again = await g.messaging('SendMessage', { conversationId: ack.conversationId, clientMsgId: 'dm-2', body: 'hi alice' }, { token: bob.token });
    assert.equal(again.duplicate, true);
    assert.equal(again.messageId, reply.messageId);
    await bobEvents.messages(ack.conversationId, 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(aliceEvents.events.length, 0);
    assert.equal(bobEvents.events.length, 0);

    await Promise.all([bobEvents.cancel(), aliceEvents.cancel()]);
  });

  it('creates a group, adds and removes members, and lists and describes conversations', async () => {
    const group = await g.messaging('CreateGroup', { name: 'trio', members: [bob.userId] }, { token: alice.token });
    assert.equal(group.kind, 'GROUP');
    assert.equal(group.name, 'trio');
    assert.equal(group.ownerId, alice.userId);
    assert.deepEqual([...group.members].sort(), [alice.userId, bob.userId].sort());
    assert.ok(group.createTime.seconds > 0);

    const added = await g.messaging('AddGroupMember', { conversationId: group.conversationId, userId: carol.userId }, { token: alice.token });
    assert.deepEqual([...added.members].sort(), [alice.userId, bob.userId, carol.userId].sort());

    const described = await g.messaging('GetConversation', { conversationId: group.conversationId }, { token: carol.token });
    assert.equal(described.conversationId, group.conversationId);
    assert.equal(described.members.length, 3);

    await g.messaging('SendMessage', { conversationId: group.conversationId, clientMsgId: 'g-1', body: 'welcome' }, { token: alice.token });
    const list = await g.messaging('ListConversations', {}, { token: carol.token });
    const mine = list.conversations.find((c: Obj) => c.conversationId === group.conversationId);
    assert.deepEqual({ kind: mine.kind, name: mine.name, lastSeq: mine.lastSeq }, { kind: 'GROUP', name: 'trio', lastSeq: 1 });

    // The owner removes bob; carol leaves by herself.
    const removed = await g.messaging('RemoveGroupMember', { conversationId: group.conversationId, userId: bob.userId }, { token: alice.token });
    assert.deepEqual([...removed.members].sort(), [alice.userId, carol.userId].sort());
    const left = await g.messaging('RemoveGroupMember', { conversationId: group.conversationId, userId: carol.userId }, { token: carol.token });
    assert.deepEqual(left.members, [alice.userId]);
    const after = await g.messaging('ListConversations', {}, { token: carol.token });
    assert.equal(after.conversations.some((c: Obj) => c.conversationId === group.conversationId), false);
  });

  it('reads history since a seq, page by page', async () => {
    const group = await g.messaging('CreateGroup', { name: 'history', members: [bob.userId] }, { token: alice.token });
    for (let i = 1; i <= 5; i++) {
      await g.messaging('SendMessage', { conversationId: group.conversationId, clientMsgId: `h-${i}`, body: `m${i}` }, { token: alice.token });
    }
    const first = await g.messaging('ListMessages', { conversationId: group.conversationId, sinceSeq: 0, pageSize: 2 }, { token: bob.token });
    assert.deepEqual(first.messages.map((m: Obj) => m.seq), [1, 2]);
    assert.equal(first.hasMore, true);
    const rest = await g.messaging('ListMessages', { conversationId: group.conversationId, sinceSeq: 2 }, { token: bob.token });
    assert.deepEqual(rest.messages.map((m: Obj) => m.body), ['m3', 'm4', 'm5']);
    assert.equal(rest.hasMore, false);
    assert.equal(rest.conversationId, group.conversationId);
  });

  it('takes a cancelled subscription out of the connection registry', async () => {
    const before = await registryConnections(server);
    const subs = Array.from({ length: 5 }, () => g.subscribe(carol.token));
    await Promise.all(subs.map((s) => s.ready()));
    assert.equal(await registryConnections(server), before + 5);
    const statuses = await Promise.all(subs.map((s) => s.cancel()));
    assert.ok(statuses.every((s) => s.code === 1), 'CANCELLED on the client');
    await waitFor('the registry to drop back', async () => (await registryConnections(server)) === before);
  });

  it('answers health for the server and each service, and serves files and rooms', async () => {
    for (const service of ['', SERVICE.auth, SERVICE.messaging, SERVICE.rooms, SERVICE.files]) {
      const h = await g.call(SERVICE.health, 'Check', { service });
      assert.equal(h.status, 'SERVING', service);
    }
    await expectStatus(g.call(SERVICE.health, 'Check', { service: 'switchboard.v1.NoSuchService' }), 'NOT_FOUND');
    const quota = await g.files('GetQuota', {}, { token: alice.token });
    assert.equal(quota.usedBytes, 0);
    const room = await g.rooms('CreateRoom', {}, { token: alice.token });
    assert.equal(room.ownerId, alice.userId);
    assert.deepEqual(await g.rooms('CloseRoom', { roomId: room.roomId }, { token: alice.token }), {});
  });
});
