// WebSocket clients and gRPC subscribers in one conversation see the same messages in the
// same order, whichever front each message was sent through.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, register, WsClient, type Registered } from '../helpers/clients.ts';
import { GrpcClients, type Obj, type Subscription } from '../helpers/grpcClients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

const PER_SENDER = 15;

describe('WebSocket and gRPC in one conversation', () => {
  let server: RunningServer;
  let g: GrpcClients;
  let alice: Registered, bob: Registered, carol: Registered;
  let aliceWs: WsClient, carolWs: WsClient;
  let bobGrpc: Subscription, carolGrpc: Subscription;

  before(async () => {
    server = await startServer();
    g = new GrpcClients(server.grpcAddress);
    [alice, bob, carol] = await Promise.all([register(server.url, 'alice'), register(server.url, 'bob'), register(server.url, 'carol')]);
    aliceWs = await WsClient.connect(server.wsUrl, alice.token);
    carolWs = await WsClient.connect(server.wsUrl, carol.token);
    bobGrpc = g.subscribe(bob.token);
    carolGrpc = g.subscribe(carol.token);
    await Promise.all([bobGrpc.ready(), carolGrpc.ready()]);
  });

  after(async () => {
    for (const c of [aliceWs, carolWs]) c?.ws.terminate();
    await Promise.all([bobGrpc?.cancel(), carolGrpc?.cancel()]);
    g?.close();
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('delivers every message, sent over WS, gRPC and HTTP at once, to every WS and gRPC client in seq order', async () => {
    const group = await g.messaging('CreateGroup', { name: 'mixed', members: [alice.userId, carol.userId] }, { token: bob.token });
    const conv: string = group.conversationId;

    // Three senders at once, each through another front; each sender's own sends in order.
    const viaWs = async (): Promise<void> => {
      for (let i = 0; i < PER_SENDER; i++) await aliceWs.request({ type: 'send', conversationId: conv, clientMsgId: `ws-${i}`, body: `ws ${i}` });
    };
    const viaGrpc = async (): Promise<void> => {
      for (let i = 0; i < PER_SENDER; i++) await g.messaging('SendMessage', { conversationId: conv, clientMsgId: `grpc-${i}`, body: `grpc ${i}` }, { token: bob.token });
    };
    const viaHttp = async (): Promise<void> => {
      for (let i = 0; i < PER_SENDER; i++) {
        const r = await http(server.url, 'POST', `/v1/conversations/${conv}/messages`, { token: carol.token, body: { clientMsgId: `http-${i}`, body: `http ${i}` } });
        assert.equal(r.status, 201);
      }
    };
    await Promise.all([viaWs(), viaGrpc(), viaHttp()]);

    const total = 3 * PER_SENDER;
    const seen = (ms: Obj[]): string[] => ms.map((m) => `${m.seq} ${m.id ?? m.messageId} ${m.from ?? m.senderId} ${m.body}`);
    const wsViews = await Promise.all([aliceWs.messages(conv, total), carolWs.messages(conv, total)]);
    const grpcViews = await Promise.all([bobGrpc.messages(conv, total), carolGrpc.messages(conv, total)]);
    const reference = seen(wsViews[0]!);
    assert.deepEqual(wsViews[0]!.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 1), 'seq 1..N without gaps');
    for (const view of [...wsViews, ...grpcViews]) assert.deepEqual(seen(view), reference);

    // And the history agrees with what was streamed.
    const page = await g.messaging('ListMessages', { conversationId: conv }, { token: alice.token });
    assert.deepEqual(seen(page.messages), reference);
  });
});
