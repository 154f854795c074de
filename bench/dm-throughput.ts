// Direct-message throughput and latency: N WebSocket clients in pairs, each keeping a window
// of sends in flight for a fixed time. Measured against Switchboard (embedded defaults:
// every ack is on disk) and, in the same run, against a hand-rolled in-memory `ws` relay.
//
//   npm run bench:dm -- [--clients 200] [--window 8] [--seconds 10] [--body 100] [--cluster] [--profile DIR]
//
// --cluster adds a third target: two Switchboard nodes on RabbitMQ + MongoDB (AMQP_URL,
// MONGO_URL, defaults on 127.0.0.1; start them with scripts/services/*.sh), clients split
// between the nodes so half the messages cross from one node to the other.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    window: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '10' },
    body: { type: 'string', default: '100' },
    only: { type: 'string', default: '' },
    cluster: { type: 'boolean', default: false },
    /** A folder: each server process (every thread) writes a V8 CPU profile there when it stops. */
    profile: { type: 'string', default: '' },
  },
});
const CLIENTS = Number(values.clients);
const WINDOW = Number(values.window);
const SECONDS = Number(values.seconds);
const BODY = 'x'.repeat(Number(values.body));
const ROOT = new URL('..', import.meta.url).pathname;

interface Target { name: string; ports: number[]; children: ChildProcess[]; tokens: { userId: string; token: string }[]; cleanup(): void }

function spawnAndWait(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split('\n')) {
        try {
          const e = JSON.parse(line);
          if (e.msg === 'listening') return resolve({ child, port: e.port });
        } catch { /* partial */ }
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
  });
}

async function registerAll(port: number): Promise<{ userId: string; token: string }[]> {
  const tokens = [];
  for (let i = 0; i < CLIENTS; i += 20) {
    tokens.push(...await Promise.all(Array.from({ length: Math.min(20, CLIENTS - i) }, async (_, k) => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/auth/register`, {
        method: 'POST', body: JSON.stringify({ username: `bench${i + k}_${process.pid}`, password: 'bench-password' }),
      });
      const b = await res.json() as { userId: string; token: string };
      return { userId: b.userId, token: b.token };
    })));
  }
  return tokens;
}

async function switchboard(): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const { child, port } = await spawnAndWait(['src/main.ts', 'serve'], {
    PORT: '0', GRPC_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RATE_PERIOD_MS: '0', LOG_LEVEL: 'info',
  });
  const tokens = await registerAll(port);
  return { name: 'switchboard (embedded)', ports: [port], children: [child], tokens, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

async function switchboardCluster(): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const env = {
    PORT: '0', GRPC_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RATE_PERIOD_MS: '0', LOG_LEVEL: 'info',
    AMQP_URL: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    MONGO_URL: process.env.MONGO_URL ?? `mongodb://127.0.0.1:27017/bench_${process.pid}`,
    ACTOR_HOSTS: '1',
  };
  const a = await spawnAndWait(['src/main.ts', 'serve'], { ...env, NODE_ID: `bench-a-${process.pid}` });
  const b = await spawnAndWait(['src/main.ts', 'serve'], { ...env, NODE_ID: `bench-b-${process.pid}` });
  await new Promise((r) => setTimeout(r, 3000)); // shards settle between the nodes
  const tokens = await registerAll(a.port);
  return {
    name: 'switchboard (2 nodes, RabbitMQ)', ports: [a.port, b.port], children: [a.child, b.child], tokens,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function relay(): Promise<Target> {
  const { child, port } = await spawnAndWait(['bench/peers/ws-relay.ts'], { PORT: '0' });
  const tokens = Array.from({ length: CLIENTS }, (_, i) => ({ userId: `user${i}`, token: `user${i}` }));
  return { name: 'ws-relay (in-memory, no fsync)', ports: [port], children: [child], tokens, cleanup: () => {} };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function run(t: Target): Promise<{ acksPerS: number; ack: number[]; delivery: number[] }> {
  const sockets = await Promise.all(t.tokens.map((u, i) => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.ports[i % t.ports.length]}/v1/ws`);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: u.token })));
    ws.on('message', function ready(d) {
      if (JSON.parse(d.toString()).type === 'ready') { ws.off('message', ready); resolve(ws); }
    });
    ws.on('error', reject);
  })));
  const ackLat: number[] = [];
  const delLat: number[] = [];
  let acks = 0;
  let running = true;
  const start = performance.now();
  const done = sockets.map((ws, i) => new Promise<void>((resolve) => {
    const to = t.tokens[(i + 1) % CLIENTS]!.userId;
    const sentAt = new Map<string, number>();
    let n = 0;
    let inFlight = 0;
    const send = (): void => {
      const id = `${i}-${n++}`;
      sentAt.set(id, performance.now());
      inFlight++;
      ws.send(JSON.stringify({ type: 'send', to, clientMsgId: id, body: `${performance.now()}|${BODY}` }));
    };
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString());
      if (f.type === 'ack') {
        ackLat.push(performance.now() - sentAt.get(f.clientMsgId)!);
        sentAt.delete(f.clientMsgId);
        acks++;
        inFlight--;
        if (running) send();
        else if (inFlight === 0) resolve();
      } else if (f.type === 'message' && f.from !== t.tokens[i]!.userId) {
        delLat.push(performance.now() - Number(String(f.body).split('|')[0]));
      } else if (f.type === 'error') {
        inFlight--;
        if (running) send();
      }
    });
    for (let k = 0; k < WINDOW; k++) send();
  }));
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  running = false;
  const elapsed = (performance.now() - start) / 1000;
  const counted = acks;
  await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 5000))]);
  for (const ws of sockets) ws.terminate();
  return { acksPerS: counted / elapsed, ack: ackLat.sort((a, b) => a - b), delivery: delLat.sort((a, b) => a - b) };
}

const results: [string, Awaited<ReturnType<typeof run>>][] = [];
for (const make of values.cluster ? [switchboard, switchboardCluster, relay] : [switchboard, relay]) {
  if (values.only && !make.name.startsWith(values.only)) continue;
  const t = await make();
  try {
    results.push([t.name, await run(t)]);
  } finally {
    for (const child of t.children) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    t.cleanup();
  }
}

console.log(`\nDM benchmark: ${CLIENTS} clients, window ${WINDOW}, ${SECONDS}s, body ${BODY.length} B, node ${process.version}\n`);
console.log('target'.padEnd(34) + 'msgs/s'.padStart(10) + 'ack p50'.padStart(10) + 'ack p99'.padStart(10) + 'dlv p50'.padStart(10) + 'dlv p99'.padStart(10));
for (const [name, r] of results) {
  const ms = (v: number): string => `${v.toFixed(1)}ms`.padStart(10);
  console.log(name.padEnd(34) + r.acksPerS.toFixed(0).padStart(10) + ms(percentile(r.ack, 0.5)) + ms(percentile(r.ack, 0.99))
    + ms(percentile(r.delivery, 0.5)) + ms(percentile(r.delivery, 0.99)));
}
const peer = results.at(-1)!;
for (const [name, r] of results.slice(0, -1)) {
  console.log(`${name} / ${peer[0]} throughput ratio: ${(r.acksPerS / peer[1].acksPerS).toFixed(2)}`);
}
