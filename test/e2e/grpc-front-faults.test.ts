// The gRPC front when things go wrong behind it, with a grpc-js client over a real socket
// and a scripted bus standing in for the actors: UNAVAILABLE, the generic INTERNAL answer
// (which must not leak the internal error), deadlines, rate limits, a subscriber that
// does not read, and shutdown.
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { messageFrame } from '../../src/actors/messages.ts';
import { GENERIC_INTERNAL_MESSAGE, UnavailableError } from '../../src/errors.ts';
import type { ConversationId, MessageId, UserId } from '../../src/ids.ts';
import { RETRY_AFTER_MS_TRAILER } from '../../src/transport/grpc/status.ts';
import { expectStatus, GrpcClients, waitFor } from '../helpers/grpcClients.ts';
import { startInProcessFront, type InProcessFront } from '../helpers/grpcFront.ts';

const ALICE = 'u_ALICEALICEALICEA';

function frame(seq: number, body = `m${seq}`): string {
  return messageFrame({
    id: `m_${String(seq).padStart(16, '0')}` as MessageId, conversationId: 'g_GROUPGROUPGROUPG' as ConversationId, seq,
    sender: ALICE as UserId, clientMsgId: `c${seq}`, body, sentAt: Date.now(),
  });
}

/** Runs `fn` with everything written to stderr (our JSON logs) captured. */
async function capturingLogs<T>(fn: () => Promise<T>): Promise<[T, string]> {
  const original = process.stderr.write.bind(process.stderr);
  let captured = '';
  process.stderr.write = ((chunk: string | Uint8Array) => { captured += chunk.toString(); return true; }) as typeof process.stderr.write;
  try {
    return [await fn(), captured];
  } finally {
    process.stderr.write = original;
  }
}

describe('gRPC front: faults behind it', () => {
  let front: InProcessFront;
  let g: GrpcClients;
  let token: string;

  before(async () => {
    front = await startInProcessFront();
    g = new GrpcClients(front.address);
    token = await front.tokenFor(ALICE);
  });
  after(async () => {
    g?.close();
    await front?.stop();
  });

  it('UNAVAILABLE when an actor does not answer in time, with the internal message', async () => {
    front.bus.answer = async () => { throw new UnavailableError('the actor did not answer in time; retry'); };
    await expectStatus(g.messaging('ListConversations', {}, { token }), 'UNAVAILABLE', /^the actor did not answer in time; retry$/);
  });

  it('INTERNAL with a generic message for an error nobody anticipated; the error is logged, not sent', async () => {
    const secret = 'SQLITE_CORRUPT at /var/lib/switchboard/db: password=hunter2';
    front.bus.answer = async () => { throw new Error(secret); };
    const [err, logs] = await capturingLogs(() => expectStatus(g.messaging('ListConversations', {}, { token }), 'INTERNAL'));
    assert.equal(err.details, GENERIC_INTERNAL_MESSAGE);
    assert.doesNotMatch(JSON.stringify({ details: err.details, trailers: err.metadata.getMap() }), /hunter2|SQLITE|switchboard\/db/);
    const line = logs.split('\n').find((l) => l.includes('unhandled error'));
    assert.ok(line, `logged: ${logs}`);
    assert.match(line, /hunter2/);
    assert.match(line, /"method":"ListConversations"/);

    // A TypeError from a bug is no different.
    front.bus.answer = async () => (null as unknown as { x: { y: number } }).x.y;
    const [bug] = await capturingLogs(() => expectStatus(g.messaging('ListConversations', {}, { token }), 'INTERNAL'));
    assert.equal(bug.details, GENERIC_INTERNAL_MESSAGE);
  });

  it('gives up a unary call at its deadline; the late answer is dropped and nothing breaks', async () => {
    let release!: () => void;
    const late = new Promise<void>((r) => { release = r; });
    let answered = false;
    front.bus.answer = async () => {
      await late;
      answered = true;
      return [];
    };
    await expectStatus(g.messaging('ListConversations', {}, { token, deadlineMs: 100 }), 'DEADLINE_EXCEEDED');
    release();
    await waitFor('the late answer', () => answered);
    await turn();
    front.bus.answer = async () => [];
    const list = await g.messaging('ListConversations', {}, { token });
    assert.deepEqual(list.conversations, []);
  });

  it('ends a subscription at its deadline and takes it out of the registry', async () => {
    const sub = g.subscribe(token, { deadlineMs: 300 });
    await sub.ready();
    assert.equal(front.connections.size, 1);
    assert.equal(front.bus.presence.get(ALICE), 1);
    const status = await sub.ended;
    assert.equal(status.code, grpc.status.DEADLINE_EXCEEDED);
    await waitFor('the registry to empty', () => front.connections.size === 0);
    assert.equal(front.bus.presence.has(ALICE), false, 'the session actor was told: no connection left');
  });

  it('never registers a subscription cancelled while its token was being checked', async () => {
    const slow = await startInProcessFront({ authDelayMs: 300 });
    const client = new GrpcClients(slow.address);
    try {
      const token = await slow.tokenFor(ALICE);
      slow.bus.answer = async () => [];
      await client.messaging('ListConversations', {}, { token }); // the channel is connected: the call below goes out at once
      const sub = client.subscribe(token);
      await new Promise((r) => setTimeout(r, 100)); // the server has it and is checking the token
      const status = await sub.cancel();
      assert.equal(status.code, grpc.status.CANCELLED);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(slow.connections.size, 0);
      assert.equal(slow.bus.presence.has(ALICE), false, 'no presence was ever announced');
    } finally {
      client.close();
      await slow.stop();
    }
  });

  it('streams pushed messages in order, and ends a subscriber that does not read (RESOURCE_EXHAUSTED)', async () => {
    const sub = g.subscribe(token);
    await sub.ready();
    for (let seq = 1; seq <= 3; seq++) front.bus.push(ALICE, frame(seq));
    const got = await sub.messages('g_GROUPGROUPGROUPG', 3);
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
    assert.equal(got[0]!.senderId, ALICE);

    // Stop reading; push until the front gives up on it (bounded, never buffered without end).
    sub.stream.pause();
    const body = 'x'.repeat(8 * 1024);
    for (let seq = 4; front.connections.size > 0; seq++) {
      assert.ok(seq < 50_000, 'the front kept buffering for a subscriber that does not read');
      front.bus.push(ALICE, frame(seq, body));
      if (seq % 32 === 0) await turn();
    }
    sub.stream.resume();
    const status = await sub.ended;
    assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(status.details, /too slow: subscribe again/);
  });

  it('takes a rate limit per user, with a retry-after-ms trailer', async () => {
    const limited = await startInProcessFront({ rateBurst: 2, ratePeriodMs: 60_000 });
    const client = new GrpcClients(limited.address);
    try {
      limited.bus.answer = async () => [];
      const t = await limited.tokenFor(ALICE);
      await client.messaging('ListConversations', {}, { token: t });
      await client.messaging('ListConversations', {}, { token: t });
      const err = await expectStatus(client.messaging('ListConversations', {}, { token: t }), 'RESOURCE_EXHAUSTED', /rate limit exceeded/);
      assert.ok(Number(err.metadata.get(RETRY_AFTER_MS_TRAILER)[0]) > 0);
    } finally {
      client.close();
      await limited.stop();
    }
  });

  it('ends subscriptions with UNAVAILABLE when the server shuts down', async () => {
    const stopping = await startInProcessFront();
    const client = new GrpcClients(stopping.address);
    try {
      const sub = client.subscribe(await stopping.tokenFor(ALICE));
      await sub.ready();
      await stopping.stop();
      const status = await sub.ended;
      assert.equal(status.code, grpc.status.UNAVAILABLE);
      assert.match(status.details, /shutting down/);
      assert.equal(stopping.connections.size, 0);
    } finally {
      client.close();
    }
  });
});
