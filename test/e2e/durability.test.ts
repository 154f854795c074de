// Acknowledged means stored: SIGKILL the server mid-stream, start it again on the same data
// folder, and every acknowledged message is in the history.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { http, register, WsClient } from '../helpers/clients.ts';
import { removeDataDir, startServer, tempDataDir } from '../helpers/server.ts';

const MESSAGES = 400;
const KILL_AFTER_ACKS = 150;

describe('durability across SIGKILL', () => {
  const dataDir = tempDataDir();
  after(() => removeDataDir(dataDir));

  it('keeps every acknowledged message', async () => {
    const first = await startServer({}, dataDir);
    const alice = await register(first.url, 'alice');
    const bob = await register(first.url, 'bob');
    const ws = await WsClient.connect(first.wsUrl, alice.token);

    const acked = new Map<string, number>(); // clientMsgId -> seq
    let conversationId = '';
    const killed = new Promise<void>((resolve) => {
      ws.ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.type !== 'ack') return;
        acked.set(f.clientMsgId, f.seq);
        conversationId = f.conversationId;
        if (acked.size === KILL_AFTER_ACKS) void first.kill().then(resolve);
      });
    });
    // Pipelined: many sends in flight when the kill lands.
    for (let i = 0; i < MESSAGES; i++) {
      ws.sendRaw(JSON.stringify({ type: 'send', to: bob.userId, clientMsgId: `c${i}`, body: `message ${i}` }));
    }
    await killed;
    ws.ws.terminate();
    assert.ok(acked.size >= KILL_AFTER_ACKS);

    const second = await startServer({}, dataDir);
    try {
      const stored = new Map<string, number>();
      let since = 0;
      for (;;) {
        const page = await http(second.url, 'GET', `/v1/conversations/${conversationId}/messages?since=${since}`, { token: bob.token });
        assert.equal(page.status, 200);
        for (const m of page.body.messages) stored.set(m.clientMsgId, m.seq);
        if (!page.body.hasMore) break;
        since = page.body.messages.at(-1).seq;
      }
      for (const [clientMsgId, seq] of acked) assert.equal(stored.get(clientMsgId), seq, `acked ${clientMsgId} is stored with its seq`);
      // Seqs are 1..n without gaps.
      const seqs = [...stored.values()].sort((a, b) => a - b);
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
      // The conversation goes on from where it was.
      const next = await http(second.url, 'POST', `/v1/users/${bob.userId}/messages`, {
        token: alice.token, body: { clientMsgId: 'after-restart', body: 'still here' },
      });
      assert.equal(next.status, 201);
      assert.equal(next.body.seq, seqs.length + 1);
    } finally {
      await second.stop();
    }
  });
});
