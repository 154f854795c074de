// Two nodes on one machine sharing a real RabbitMQ and a real MongoDB-compatible server:
// users on either node exchange direct and group messages, in order, on every device.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { http, register, WsClient, type Registered } from '../helpers/clients.ts';
import { DEFAULTS } from '../../src/config.ts';
import { samples, scrape } from '../helpers/metrics.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';
import { AMQP_URL, mongoDatabaseUrl, serviceMissing } from '../helpers/services.ts';

const missing = (await serviceMissing('rabbitmq')) ?? (await serviceMissing('mongodb'));
export const CLUSTER_ENV = { AMQP_URL, CLUSTER_HEARTBEAT_MS: '200', CLUSTER_NODE_TIMEOUT_MS: '1000' };

describe('cluster: two nodes, RabbitMQ + MongoDB', { skip: missing }, () => {
  const mongoUrl = mongoDatabaseUrl('cluster');
  let n1: RunningServer, n2: RunningServer;
  let alice: Registered, bob: Registered, carol: Registered;
  const clients: WsClient[] = [];

  before(async () => {
    n1 = await startServer({ ...CLUSTER_ENV, MONGO_URL: mongoUrl, NODE_ID: `n1-${process.pid}` });
    n2 = await startServer({ ...CLUSTER_ENV, MONGO_URL: mongoUrl, NODE_ID: `n2-${process.pid}` });
    // Users register on either node: storage is shared.
    [alice, bob, carol] = await Promise.all([register(n1.url, 'alice'), register(n2.url, 'bob'), register(n2.url, 'carol')]);
  });

  after(async () => {
    if (process.env.DUMP_LOGS) for (const n of [n1, n2]) process.stderr.write(n.logs.join('\n') + '\n----\n');
    for (const c of clients) c.ws.terminate();
    await Promise.all([n1?.stop(), n2?.stop()]);
    for (const n of [n1, n2]) if (n) removeDataDir(n.dataDir);
    const c = new MongoClient(mongoUrl);
    await c.db().dropDatabase();
    await c.close();
  });

  async function connect(node: RunningServer, user: Registered): Promise<WsClient> {
    const c = await WsClient.connect(node.wsUrl, user.token);
    clients.push(c);
    return c;
  }

  it('splits the shards between the nodes', async () => {
    for (let i = 0; i < 50; i++) {
      if (n1.logs.some((l) => l.includes('shards released')) && n2.logs.some((l) => l.includes('shards claimed'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(n2.logs.some((l) => l.includes('shards claimed')), 'node 2 took a share');
  });

  it('reports the cluster in /metrics: each node hears both, and they own every shard between them', async () => {
    let seen = '';
    for (let i = 0; i < 50; i++) {
      const [m1, m2] = await Promise.all([n1, n2].map(async (n) => samples((await scrape(n)).text)));
      const owned = (m1!.get('switchboard_cluster_owned_shards') ?? 0) + (m2!.get('switchboard_cluster_owned_shards') ?? 0);
      const view = [m1!, m2!].map((m) => [m.get('switchboard_cluster_broker_connected'), m.get('switchboard_cluster_live_nodes')]);
      seen = JSON.stringify({ owned, view });
      if (owned === DEFAULTS.SHARDS && view.every(([up, live]) => up === 1 && live === 2)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`the nodes' metrics did not settle: ${seen}`);
  });

  it('delivers DMs and group messages across nodes, in order, on every device', async () => {
    const aliceN1 = await connect(n1, alice);
    const aliceN2 = await connect(n2, alice); // a second device, on the other node
    const bobN2 = await connect(n2, bob);
    const carolN2 = await connect(n2, carol);
    // Presence travels through the broker to the session actors: give it a moment.
    await new Promise((r) => setTimeout(r, 300));

    const dm = await aliceN1.request({ type: 'send', to: bob.userId, clientMsgId: 'x-dm-1', body: 'hello from node 1' });
    assert.equal(dm.type, 'ack', JSON.stringify(dm));
    assert.equal(dm.seq, 1);
    for (const device of [bobN2, aliceN1, aliceN2]) {
      const [m] = await device.messages(dm.conversationId, 1);
      assert.equal(m!.body, 'hello from node 1');
    }

    const group = await http(n2.url, 'POST', '/v1/groups', { token: bob.token, body: { name: 'spread', members: [alice.userId, carol.userId] } });
    assert.equal(group.status, 201);
    const id = group.body.id;
    const senders: [WsClient, string][] = [[aliceN1, 'a'], [bobN2, 'b'], [carolN2, 'c'], [aliceN2, 'd'], [aliceN1, 'e']];
    for (const [client, body] of senders) {
      const ack = await client.request({ type: 'send', conversationId: id, clientMsgId: `x-g-${body}`, body });
      assert.equal(ack.type, 'ack', JSON.stringify(ack));
    }
    for (const device of [aliceN1, aliceN2, bobN2, carolN2]) {
      const got = await device.messages(id, senders.length);
      assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4, 5]);
      assert.deepEqual(got.map((m) => m.body), ['a', 'b', 'c', 'd', 'e']);
    }
    // History is the same from both nodes, and a resend is still one message.
    const again = await aliceN2.request({ type: 'send', conversationId: id, clientMsgId: 'x-g-a', body: 'a' });
    assert.equal(again.duplicate, true);
    const h1 = await http(n1.url, 'GET', `/v1/conversations/${id}/messages`, { token: carol.token });
    const h2 = await http(n2.url, 'GET', `/v1/conversations/${id}/messages`, { token: alice.token });
    assert.deepEqual(h1.body.messages, h2.body.messages);
    assert.equal(h1.body.messages.length, 5);
  });
});
