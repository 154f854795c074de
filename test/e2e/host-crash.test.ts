// A crashed actor host is restarted by the supervisor: sends continue, no acknowledged
// message is lost, nothing is stored twice, and live delivery resumes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, register, WsClient, type Registered } from '../helpers/clients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

const MESSAGES = 300;

describe('actor host crash', () => {
  let server: RunningServer;
  let alice: Registered, bob: Registered;

  before(async () => {
    server = await startServer({ SWITCHBOARD_TEST_FAULTS: '1' });
    alice = await register(server.url, 'alice');
    bob = await register(server.url, 'bob');
  });
  after(async () => {
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('is off unless switched on', async () => {
    const other = await startServer();
    try {
      const r = await http(other.url, 'POST', '/_test/crash-host/0');
      assert.equal(r.status, 404);
    } finally {
      await other.stop();
      removeDataDir(other.dataDir);
    }
  });

  it('restarts the host; sends continue with retries, none lost or doubled', async () => {
    const sender = await WsClient.connect(server.wsUrl, alice.token);
    const receiver = await WsClient.connect(server.wsUrl, bob.token);
    const acked = new Map<string, number>();
    let conversationId = '';
    let crashes = 0;
    for (let i = 0; i < MESSAGES; i++) {
      if (i === 100 || i === 200) {
        const r = await http(server.url, 'POST', `/_test/crash-host/${crashes++ % 2}`);
        assert.equal(r.status, 202);
      }
      // A client retries an error with the same client message id, as the protocol intends.
      for (let attempt = 0; ; attempt++) {
        // A replacement thread loads and compiles its code: on a loaded machine that takes
        // seconds, so wait longer than the server's ask timeout (its "unavailable" is retried).
        const f = await sender.request({ type: 'send', to: bob.userId, clientMsgId: `m${i}`, body: `n${i}` }, 30_000);
        if (f.type === 'ack') {
          acked.set(`m${i}`, f.seq);
          conversationId = f.conversationId;
          break;
        }
        assert.equal(f.code, 'unavailable', `only "unavailable" is expected while a host restarts: ${JSON.stringify(f)}`);
        assert.ok(attempt < 50, 'sends resume');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(acked.size, MESSAGES);
    assert.ok(server.logs.some((l) => l.includes('crashed; restarting')), 'a host crashed and was restarted');

    const page = await http(server.url, 'GET', `/v1/conversations/${conversationId}/messages?limit=500`, { token: bob.token });
    const stored = page.body.messages as { clientMsgId: string; seq: number }[];
    assert.equal(stored.length, MESSAGES, 'each message stored once');
    for (const m of stored) assert.equal(acked.get(m.clientMsgId), m.seq);

    // Live delivery resumes for sockets that were open across the crash.
    const ack = await sender.request({ type: 'send', to: bob.userId, clientMsgId: 'after', body: 'live again' });
    const live = await receiver.next((f) => f.type === 'message' && f.seq === ack.seq);
    assert.equal(live.body, 'live again');
    sender.ws.terminate();
    receiver.ws.terminate();
  });
});
