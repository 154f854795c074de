// Peer for the DM benchmark: the hand-rolled stack people write first. One process, the
// `ws` package, messages kept in memory (no disk, no threads, no auth beyond a user id).
// It speaks the subset of Switchboard's WebSocket protocol the benchmark uses.
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT ?? 0);
const wss = new WebSocketServer({ port, host: '127.0.0.1', path: '/v1/ws' });
const sockets = new Map<string, Set<WebSocket>>();
const seqs = new Map<string, number>();
const history = new Map<string, unknown[]>();

wss.on('connection', (ws) => {
  let user: string | null = null;
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    if (f.type === 'auth') {
      user = String(f.token);
      if (!sockets.has(user)) sockets.set(user, new Set());
      sockets.get(user)!.add(ws);
      ws.send(JSON.stringify({ type: 'ready', userId: user }));
      return;
    }
    if (f.type === 'send' && user) {
      const conv = [user, f.to].sort().join('_');
      const seq = (seqs.get(conv) ?? 0) + 1;
      seqs.set(conv, seq);
      const msg = { type: 'message', conversationId: conv, seq, from: user, clientMsgId: f.clientMsgId, body: f.body, sentAt: Date.now() };
      if (!history.has(conv)) history.set(conv, []);
      history.get(conv)!.push(msg);
      ws.send(JSON.stringify({ type: 'ack', ref: f.ref, conversationId: conv, seq, clientMsgId: f.clientMsgId }));
      const frame = JSON.stringify(msg);
      for (const u of [user, f.to]) for (const s of sockets.get(u) ?? []) s.send(frame);
    }
  });
  ws.on('close', () => { if (user) sockets.get(user)?.delete(ws); });
});
wss.on('listening', () => {
  const addr = wss.address() as { port: number };
  process.stderr.write(JSON.stringify({ msg: 'listening', port: addr.port }) + '\n');
});
