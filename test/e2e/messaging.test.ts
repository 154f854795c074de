// The first whole slice, as three users see it over real WebSockets (the `ws` package).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, register, WsClient, type Registered } from '../helpers/clients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

describe('messaging end to end on embedded defaults', () => {
  let server: RunningServer;
  let alice: Registered, bob: Registered, carol: Registered;
  let alicePhone: WsClient, aliceLaptop: WsClient, bobWs: WsClient, carolWs: WsClient;

  before(async () => {
    server = await startServer();
    [alice, bob, carol] = await Promise.all([register(server.url, 'alice'), register(server.url, 'bob'), register(server.url, 'carol')]);
    alicePhone = await WsClient.connect(server.wsUrl, alice.token);
    aliceLaptop = await WsClient.connect(server.wsUrl, alice.token, { viaFrame: true });
    bobWs = await WsClient.connect(server.wsUrl, bob.token);
    carolWs = await WsClient.connect(server.wsUrl, carol.token);
  });

  after(async () => {
    for (const c of [alicePhone, aliceLaptop, bobWs, carolWs]) c?.ws.terminate();
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('delivers a direct message to the recipient and to every device of the sender', async () => {
    const ack = await alicePhone.request({ type: 'send', to: bob.userId, clientMsgId: 'dm-1', body: 'hi bob' });
    assert.equal(ack.type, 'ack');
    assert.equal(ack.seq, 1);
    assert.equal(ack.duplicate, false);
    for (const device of [bobWs, alicePhone, aliceLaptop]) {
      const [m] = await device.messages(ack.conversationId, 1);
      assert.equal(m!.body, 'hi bob');
      assert.equal(m!.from, alice.userId);
      assert.equal(m!.seq, 1);
      assert.equal(m!.id, ack.messageId);
    }
    // Bob answers in the same conversation, by user id.
    const reply = await bobWs.request({ type: 'send', to: alice.userId, clientMsgId: 'dm-2', body: 'hi alice' });
    assert.equal(reply.conversationId, ack.conversationId);
    assert.equal(reply.seq, 2);
    const [m] = await aliceLaptop.messages(ack.conversationId, 1);
    assert.equal(m!.body, 'hi alice');
  });

  it('gives a group of three every message in seq order on every connection, and syncs a member who was away', async () => {
    const created = await http(server.url, 'POST', '/v1/groups', {
      token: alice.token, body: { name: 'trio', members: [bob.userId, carol.userId] },
    });
    assert.equal(created.status, 201);
    const group: string = created.body.id;
    assert.deepEqual([...created.body.members].sort(), [alice.userId, bob.userId, carol.userId].sort());

    const senders: [WsClient, string][] = [[alicePhone, 'one'], [bobWs, 'two'], [carolWs, 'three']];
    const acks = [];
    for (const [client, body] of senders) {
      acks.push(await client.request({ type: 'send', conversationId: group, clientMsgId: `g-${body}`, body }));
    }
    assert.deepEqual(acks.map((a) => a.seq), [1, 2, 3]);
    for (const device of [alicePhone, aliceLaptop, bobWs, carolWs]) {
      const got = await device.messages(group, 3);
      assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
      assert.deepEqual(got.map((m) => m.body), ['one', 'two', 'three']);
    }

    // Carol goes away; two more messages; she comes back and asks for what she missed.
    await carolWs.close();
    await alicePhone.request({ type: 'send', conversationId: group, clientMsgId: 'g-four', body: 'four' });
    await bobWs.request({ type: 'send', conversationId: group, clientMsgId: 'g-five', body: 'five' });
    carolWs = await WsClient.connect(server.wsUrl, carol.token);
    const sync = await carolWs.request({ type: 'sync', conversationId: group, sinceSeq: 3 });
    assert.equal(sync.type, 'history');
    assert.deepEqual(sync.messages.map((m: { seq: number }) => m.seq), [4, 5]);
    assert.deepEqual(sync.messages.map((m: { body: string }) => m.body), ['four', 'five']);
    assert.equal(sync.hasMore, false);

    // And over HTTP, from the start.
    const page = await http(server.url, 'GET', `/v1/conversations/${group}/messages?since=0`, { token: carol.token });
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.messages.map((m: { seq: number }) => m.seq), [1, 2, 3, 4, 5]);
  });

  it('makes no second message from a resend with the same client message id', async () => {
    const first = await bobWs.request({ type: 'send', to: carol.userId, clientMsgId: 'retry-me', body: 'once' });
    const again = await bobWs.request({ type: 'send', to: carol.userId, clientMsgId: 'retry-me', body: 'once' });
    assert.equal(again.duplicate, true);
    assert.equal(again.messageId, first.messageId);
    assert.equal(again.seq, first.seq);
    const page = await http(server.url, 'GET', `/v1/conversations/${first.conversationId}/messages`, { token: carol.token });
    assert.equal(page.body.messages.length, 1);
    // Carol got it live exactly once.
    await carolWs.messages(first.conversationId, 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(carolWs.frames.filter((f) => f.type === 'message' && f.conversationId === first.conversationId).length, 0);
  });

  it('lists my conversations', async () => {
    const r = await http(server.url, 'GET', '/v1/conversations', { token: carol.token });
    assert.equal(r.status, 200);
    const kinds = r.body.conversations.map((c: { kind: string }) => c.kind).sort();
    assert.deepEqual(kinds, ['direct', 'group']);
    const ws = await carolWs.request({ type: 'conversations' });
    assert.equal(ws.conversations.length, 2);
  });

  it('answers who-am-I and health', async () => {
    const me = await http(server.url, 'GET', '/v1/me', { token: bob.token });
    assert.deepEqual(me.body, { userId: bob.userId, username: bob.username });
    const health = await http(server.url, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
  });
});
