// RabbitMQ stops for 10 s under load and comes back: sends during the outage get a clear
// "unavailable" error (they are not held); the nodes reconnect by themselves; every
// acknowledged message is in the history exactly once; live delivery resumes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { http, register, WsClient, type Frame } from '../helpers/clients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';
import { AMQP_URL, mongoDatabaseUrl, serviceMissing } from '../helpers/services.ts';

const missing = (await serviceMissing('rabbitmq')) ?? (await serviceMissing('mongodb'));
const OUTAGE_MS = 10_000;
const rabbit = (action: 'start' | 'stop'): Promise<void> => new Promise((resolve) => {
  // Async, so the senders keep sending while the broker goes down.
  setImmediate(() => {
    execFileSync('bash', ['scripts/services/rabbitmq.sh', action], { stdio: 'ignore', timeout: 120_000 });
    resolve();
  });
});

describe('RabbitMQ outage', { skip: missing }, () => {
  const mongoUrl = mongoDatabaseUrl('amqp_outage');
  const nodes: RunningServer[] = [];
  after(async () => {
    execFileSync('bash', ['scripts/services/rabbitmq.sh', 'start'], { stdio: 'ignore', timeout: 120_000 });
    for (const n of nodes) {
      await n.stop();
      removeDataDir(n.dataDir);
    }
    const c = new MongoClient(mongoUrl);
    await c.db().dropDatabase();
    await c.close();
  });

  it('fails sends clearly while it is away, then recovers with nothing lost or doubled', async () => {
    const env = { AMQP_URL, MONGO_URL: mongoUrl, CLUSTER_HEARTBEAT_MS: '200', CLUSTER_NODE_TIMEOUT_MS: '1000', ASK_TIMEOUT_MS: '3000' };
    const n1 = await startServer({ ...env, NODE_ID: `o1-${process.pid}` });
    const n2 = await startServer({ ...env, NODE_ID: `o2-${process.pid}` });
    nodes.push(n1, n2);
    const [alice, bob] = await Promise.all([register(n1.url), register(n2.url)]);
    await new Promise((r) => setTimeout(r, 1000));
    const tx = await WsClient.connect(n1.wsUrl, alice.token);
    const rx = await WsClient.connect(n2.wsUrl, bob.token);
    await new Promise((r) => setTimeout(r, 300));

    const acked = new Map<string, number>();
    const errors = new Map<string, number>();
    let conversationId = '';
    let outage: Promise<void> | null = null;
    let outageOver = false;
    const started = Date.now();
    for (let i = 0; ; i++) {
      if (i === 20) {
        outage = rabbit('stop').then(() => new Promise((r) => setTimeout(r, OUTAGE_MS))).then(() => rabbit('start')).then(() => { outageOver = true; });
      }
      const clientMsgId = `m${i}`;
      for (;;) {
        assert.ok(Date.now() - started < 120_000, 'the cluster recovers');
        const r: Frame = await tx.request({ type: 'send', to: bob.userId, clientMsgId, body: clientMsgId }, 8000)
          .catch(() => ({ type: 'error', code: 'client_timeout' }));
        if (r.type === 'ack') {
          acked.set(clientMsgId, r.seq);
          conversationId = r.conversationId;
          break;
        }
        errors.set(String(r.code), (errors.get(String(r.code)) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, 200));
      }
      if (outageOver && i >= 40) break;
    }
    await outage;
    assert.ok((errors.get('unavailable') ?? 0) > 0, `sends during the outage were refused as unavailable: ${JSON.stringify([...errors])}`);
    assert.deepEqual([...errors.keys()].filter((k) => k !== 'unavailable'), [], 'no other kind of error');
    assert.equal(n1.process.exitCode, null);
    assert.equal(n2.process.exitCode, null);

    const page = await http(n2.url, 'GET', `/v1/conversations/${conversationId}/messages`, { token: bob.token });
    const msgs = page.body.messages as { clientMsgId: string; seq: number }[];
    assert.equal(msgs.length, acked.size, 'each acknowledged message once, nothing else');
    assert.deepEqual(msgs.map((m) => m.seq), msgs.map((_, i) => i + 1));
    for (const m of msgs) assert.equal(acked.get(m.clientMsgId), m.seq);

    // Live delivery across the nodes resumes (presence was told again after the reconnect).
    const ack = await tx.request({ type: 'send', to: bob.userId, clientMsgId: 'live', body: 'back' });
    assert.equal(ack.type, 'ack');
    const live = await rx.next((f) => f.type === 'message' && f.clientMsgId === 'live', 15_000);
    assert.equal(live.body, 'back');
    tx.ws.terminate();
    rx.ws.terminate();
  });
});
