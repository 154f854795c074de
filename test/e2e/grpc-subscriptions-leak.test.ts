// Opening and cancelling 10,000 SubscribeEvents calls gives back what they held: the
// connection registry and the presence it announces drop to zero, and heap and open
// handles return to their baseline (within a tolerance). In this process (the real gRPC
// front over a scripted bus, grpc-js clients over real sockets) so gc and handles can be
// read directly; the server side and the client side must both come back.
//
// The calls are spread over several connections: Node's HTTP/2 (nghttp2's stream reset
// rate limit, about 1,000 resets in a burst) answers a client that cancels thousands of
// streams at once on one connection with GOAWAY, which would measure that defence
// rather than our cancellation path.
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { GrpcClients, waitFor } from '../helpers/grpcClients.ts';
import { startInProcessFront, type InProcessFront } from '../helpers/grpcFront.ts';

const SUBSCRIPTIONS = 10_000;
/** Below nghttp2's reset burst, so cancelling them all is not taken for an attack. */
const PER_CONNECTION = 500;
const WARM_UP = 200;
/** What may stay behind on the heap after gc (allocator slack, JIT code, caches). */
const HEAP_TOLERANCE_BYTES = 4 * 1024 * 1024;
const TEST_TIMEOUT_MS = 60_000;
/** Each GrpcClients its own connection (grpc-js shares one per target otherwise). */
const OWN_CONNECTION = { 'grpc.use_local_subchannel_pool': 1 };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Footprint {
  readonly heapUsed: number;
  readonly handles: Record<string, number>;
}

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const h of process.getActiveResourcesInfo()) counts[h] = (counts[h] ?? 0) + 1;
  return counts;
}

async function footprint(): Promise<Footprint> {
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 25));
    await turn();
    gc();
  }
  return { heapUsed: process.memoryUsage().heapUsed, handles: handles() };
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

describe('10,000 gRPC subscriptions opened and cancelled', () => {
  const USER = 'u_LEAKLEAKLEAKLEAK';
  let front: InProcessFront;
  let token: string;

  before(async () => {
    front = await startInProcessFront();
    token = await front.tokenFor(USER);
  });
  after(async () => {
    await front?.stop();
  });

  /** Opens `n` subscriptions over n / PER_CONNECTION connections, cancels them all, closes the connections. */
  async function openAndCancel(n: number): Promise<{ peakHeap: number; ms: number }> {
    const started = Date.now();
    const clients = Array.from({ length: Math.ceil(n / PER_CONNECTION) }, () => new GrpcClients(front.address, OWN_CONNECTION));
    let subs = clients.flatMap((g, i) => Array.from({ length: Math.min(PER_CONNECTION, n - i * PER_CONNECTION) }, () => g.subscribe(token)));
    await Promise.all(subs.map((s) => s.ready(TEST_TIMEOUT_MS)));
    assert.equal(front.connections.size, n, 'every subscription is in the registry');
    assert.equal(front.bus.presence.get(USER), n, 'the session actor was told the count');
    const peakHeap = process.memoryUsage().heapUsed;

    const statuses = await Promise.all(subs.map((s) => s.cancel()));
    assert.ok(statuses.every((s) => s.code === 1), 'every call ended CANCELLED');
    subs = [];
    await waitFor('the registry to empty', () => front.connections.size === 0, TEST_TIMEOUT_MS);
    assert.equal(front.bus.presence.has(USER), false, 'presence back to zero');
    const ms = Date.now() - started;
    for (const g of clients) g.close();
    return { peakHeap, ms };
  }

  it('returns the registry, heap and handles to their baseline', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const serverOnly = handles();
    await openAndCancel(WARM_UP);
    await waitFor('the warm-up connections to close', () => JSON.stringify(handles()) === JSON.stringify(serverOnly));
    const baseline = await footprint();

    const { peakHeap, ms } = await openAndCancel(SUBSCRIPTIONS);
    await waitFor('the connections to close', () => JSON.stringify(handles()) === JSON.stringify(serverOnly));
    const end = await footprint();

    const figures = `heap ${mb(baseline.heapUsed)} -> ${mb(peakHeap)} with ${SUBSCRIPTIONS} open -> ${mb(end.heapUsed)} after ` +
      `(${mb(end.heapUsed - baseline.heapUsed)} left); handles ${JSON.stringify(baseline.handles)} -> ${JSON.stringify(end.handles)}; ` +
      `opened, registered and cancelled in ${ms} ms`;
    t.diagnostic(figures);
    process.stderr.write(`grpc subscriptions leak check: ${figures}\n`);
    assert.deepEqual(end.handles, baseline.handles, 'open handles back to baseline');
    assert.ok(end.heapUsed - baseline.heapUsed < HEAP_TOLERANCE_BYTES, `heap back to baseline: ${figures}`);
  });
});
