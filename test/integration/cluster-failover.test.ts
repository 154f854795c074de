// A node dies (SIGKILL) while clients on both nodes send: the dead node's clients reconnect
// to the survivor, which takes over the dead node's shards; every acknowledged message ends
// up in every member's history exactly once and live messages flow again.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { http, register, WsClient, type Frame, type Registered } from '../helpers/clients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';
import { AMQP_URL, mongoDatabaseUrl, serviceMissing } from '../helpers/services.ts';

const missing = (await serviceMissing('rabbitmq')) ?? (await serviceMissing('mongodb'));
const ENV = { AMQP_URL, CLUSTER_HEARTBEAT_MS: '200', CLUSTER_NODE_TIMEOUT_MS: '1000', ASK_TIMEOUT_MS: '5000' };
/** What we promise: a dead node's shards are served again within this time. */
const TAKEOVER_MS = 15_000;
const PER_SENDER = 60;

/** Sends `n` messages, retrying each (same clientMsgId) through errors and reconnects. */
async function sendAll(
  connect: () => Promise<WsClient>, frame: (i: number) => Record<string, unknown>, n: number, acked: Map<string, number>,
  onProgress?: (i: number) => Promise<void>,
): Promise<void> {
  let ws = await connect();
  const deadline = Date.now() + TAKEOVER_MS * 2;
  for (let i = 0; i < n; i++) {
    await onProgress?.(i);
    for (;;) {
      assert.ok(Date.now() < deadline, 'sends resume in time');
      const f = frame(i);
      const r: Frame = await ws.request(f, 6000).catch((e: Error) => ({ type: 'timeout', message: e.message }));
      if (r.type === 'ack') {
        acked.set(String(f.clientMsgId), r.seq);
        break;
      }
      if (r.type === 'error') assert.equal(r.code, 'unavailable', JSON.stringify(r));
      if (ws.ws.readyState !== ws.ws.OPEN) {
        ws = await connect().catch(() => ws);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  ws.ws.terminate();
}

describe('cluster: a node dies', { skip: missing }, () => {
  const mongoUrl = mongoDatabaseUrl('failover');
  const nodes: RunningServer[] = [];
  after(async () => {
    for (const n of nodes) {
      if (n.process.exitCode === null && n.process.signalCode === null) await n.stop();
      removeDataDir(n.dataDir);
    }
    const c = new MongoClient(mongoUrl);
    await c.db().dropDatabase();
    await c.close();
  });

  it('is taken over by the survivor; nothing acknowledged is lost or doubled', async () => {
    const n1 = await startServer({ ...ENV, MONGO_URL: mongoUrl, NODE_ID: `f1-${process.pid}` });
    const n2 = await startServer({ ...ENV, MONGO_URL: mongoUrl, NODE_ID: `f2-${process.pid}` });
    nodes.push(n1, n2);
    const [alice, bob, carol]: [Registered, Registered, Registered] = await Promise.all([register(n1.url), register(n2.url), register(n2.url)]);
    const group = await http(n2.url, 'POST', '/v1/groups', { token: bob.token, body: { members: [alice.userId, carol.userId] } });
    assert.equal(group.status, 201);
    await new Promise((r) => setTimeout(r, 1000)); // shards settle between the two nodes

    // Alice starts on node 1 and fails over to node 2; bob stays on node 2.
    let aliceNode = n1;
    const connectAlice = async (): Promise<WsClient> => WsClient.connect(aliceNode.wsUrl, alice.token);
    const bobLive = await WsClient.connect(n2.wsUrl, bob.token);
    const acked = new Map<string, number>();
    const killAt = Math.floor(PER_SENDER / 3);
    await Promise.all([
      sendAll(connectAlice, (i) => ({ type: 'send', conversationId: group.body.id, clientMsgId: `a${i}`, body: `a${i}` }), PER_SENDER, acked,
        async (i) => {
          if (i !== killAt) return;
          await n1.kill();
          aliceNode = n2;
        }),
      sendAll(() => WsClient.connect(n2.wsUrl, bob.token), (i) => ({ type: 'send', conversationId: group.body.id, clientMsgId: `b${i}`, body: `b${i}` }), PER_SENDER, acked),
      sendAll(() => WsClient.connect(n2.wsUrl, carol.token), (i) => ({ type: 'send', to: alice.userId, clientMsgId: `c${i}`, body: `c${i}` }), PER_SENDER, acked),
    ]);
    assert.equal(acked.size, PER_SENDER * 3);

    // Every member's history holds each acknowledged group message once, seqs without gaps.
    for (const user of [alice, bob, carol]) {
      const page = await http(n2.url, 'GET', `/v1/conversations/${group.body.id}/messages`, { token: user.token });
      const msgs = page.body.messages as { clientMsgId: string; seq: number }[];
      assert.equal(msgs.length, PER_SENDER * 2, 'no message lost or doubled');
      assert.deepEqual(msgs.map((m) => m.seq), msgs.map((_, i) => i + 1));
      for (const m of msgs) assert.equal(acked.get(m.clientMsgId), m.seq);
    }
    const dmId = `dm_${[alice.userId, carol.userId].sort().join('_')}`;
    const dm = await http(n2.url, 'GET', `/v1/conversations/${dmId}/messages`, { token: alice.token });
    assert.equal(dm.body.messages.length, PER_SENDER);

    // Live messages flow again: alice (now on node 2) to bob.
    const aliceWs = await connectAlice();
    await new Promise((r) => setTimeout(r, 300));
    const ack = await aliceWs.request({ type: 'send', conversationId: group.body.id, clientMsgId: 'live', body: 'after the failover' });
    assert.equal(ack.type, 'ack');
    const live = await bobLive.next((f) => f.type === 'message' && f.clientMsgId === 'live');
    assert.equal(live.seq, PER_SENDER * 2 + 1);
    aliceWs.ws.terminate();
    bobLive.ws.terminate();
  });
});
