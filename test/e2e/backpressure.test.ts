// A client that does not read is closed with 4008 once its unsent bytes pass the limit,
// never buffered without bound; it reconnects and syncs what it missed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { register, WsClient } from '../helpers/clients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

const LIMIT = 256 * 1024;
const BODY = 'z'.repeat(8 * 1024);
const MESSAGES = 1500; // ~12 MB: well past the limit plus what the kernel's socket buffers hold

describe('backpressure', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ WS_MAX_BUFFERED_BYTES: String(LIMIT), RATE_PERIOD_MS: '0' });
  });
  after(async () => {
    await server.stop();
    removeDataDir(server.dataDir);
  });

  it('closes a socket that stops reading with 4008, and the client resyncs from history', async () => {
    const [sender, slow] = await Promise.all([register(server.url), register(server.url)]);
    const tx = await WsClient.connect(server.wsUrl, sender.token);
    const rx = await WsClient.connect(server.wsUrl, slow.token);
    // Stop reading: the TCP window fills, then the server's buffer for this socket grows.
    (rx.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    let conversationId = '';
    for (let i = 0; i < MESSAGES; i += 50) {
      const acks = await Promise.all(Array.from({ length: 50 }, (_, k) =>
        tx.request({ type: 'send', to: slow.userId, clientMsgId: `b${i + k}`, body: BODY })));
      conversationId = acks[0]!.conversationId;
      assert.ok(acks.every((a) => a.type === 'ack'));
    }
    (rx.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await rx.closed;
    assert.equal(closed.code, 4008);
    assert.match(closed.reason, /sync from history/);
    const delivered = rx.frames.filter((f) => f.type === 'message').length;
    assert.ok(delivered < MESSAGES, `the slow socket got only part (${delivered}) live`);

    // The sender was never slowed down or cut off.
    assert.equal((await tx.request({ type: 'ping' })).type, 'pong');

    const again = await WsClient.connect(server.wsUrl, slow.token);
    let since = 0;
    let total = 0;
    for (;;) {
      const page = await again.request({ type: 'sync', conversationId, sinceSeq: since });
      total += page.messages.length;
      if (!page.hasMore) break;
      since = page.messages.at(-1).seq;
    }
    assert.equal(total, MESSAGES);
    tx.ws.terminate();
    again.ws.terminate();
  });
});
