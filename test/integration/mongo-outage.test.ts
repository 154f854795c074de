// MongoDB stops: requests that need it get a clear 503 / "unavailable", the process stays
// up, and it recovers by itself when the database returns.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { http, register, WsClient } from '../helpers/clients.ts';
import { removeDataDir, startServer } from '../helpers/server.ts';
import { mongoDatabaseUrl, serviceMissing } from '../helpers/services.ts';

const missing = await serviceMissing('mongodb');
const mongo = (action: 'start' | 'stop'): void => {
  execFileSync('bash', ['scripts/services/mongo.sh', action], { stdio: 'ignore', timeout: 120_000 });
};

describe('MongoDB outage', { skip: missing }, () => {
  after(() => mongo('start'));

  it('answers 503 while the database is away and recovers when it returns', async () => {
    const server = await startServer({ MONGO_URL: mongoDatabaseUrl('outage') });
    try {
      const alice = await register(server.url);
      const bob = await register(server.url);
      const ws = await WsClient.connect(server.wsUrl, alice.token);
      const first = await ws.request({ type: 'send', to: bob.userId, clientMsgId: 'before', body: 'before' });
      assert.equal(first.type, 'ack');

      mongo('stop');
      const reg = await http(server.url, 'POST', '/v1/auth/register', { body: { username: `late${process.pid}`, password: 'password123' } });
      assert.equal(reg.status, 503);
      assert.equal(reg.body.error.code, 'unavailable');
      assert.match(reg.body.error.message, /database unavailable/);
      const hist = await http(server.url, 'GET', `/v1/conversations/${first.conversationId}/messages`, { token: bob.token });
      assert.equal(hist.status, 503);
      const during = await ws.request({ type: 'send', to: bob.userId, clientMsgId: 'during', body: 'during' });
      assert.equal(during.type, 'error');
      assert.equal(during.code, 'unavailable');
      assert.equal(server.process.exitCode, null, 'the process is still up');

      mongo('start');
      // The driver reconnects by itself; the client retries its failed send with the same id.
      let retried: Record<string, unknown> = {};
      for (let i = 0; i < 50; i++) {
        retried = await ws.request({ type: 'send', to: bob.userId, clientMsgId: 'during', body: 'during' });
        if (retried.type === 'ack') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(retried.type, 'ack');
      assert.equal(retried.seq, 2);
      const page = await http(server.url, 'GET', `/v1/conversations/${first.conversationId}/messages`, { token: bob.token });
      assert.deepEqual(page.body.messages.map((m: { body: string }) => m.body), ['before', 'during']);
      ws.ws.terminate();
    } catch (e) {
      // What the server said is the only clue to a failure here: show its last lines.
      console.error(`server log (last 60 lines):\n${server.logs.slice(-60).join('\n')}`);
      throw e;
    } finally {
      await server.stop();
      removeDataDir(server.dataDir);
    }
  });
});
