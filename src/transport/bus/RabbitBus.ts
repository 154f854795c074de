// The cluster bus on RabbitMQ (amqplib). Topology (all names under `sb.`):
//
//   exchange sb.shards (direct, durable) --routing key "<shard>"--> queue sb.shard.<shard>
//       durable, x-single-active-consumer: the owner node consumes it (one consumer active at
//       a time, even while ownership moves); messages persistent; asks expire with their timeout.
//   exchange sb.nodes (fanout) --> queue sb.node.<node> (exclusive, auto-delete): heartbeats,
//       and (through the default exchange) replies to this node's asks and pushes to its sockets.
//
// Publisher confirms on every ask (an ask is failed as unavailable unless the broker took
// it); consumer acks after the actor handled the message, with a bounded prefetch; redelivery
// is harmless because actor handlers are idempotent. A lost connection fails what waits for
// it with a clear "unavailable" error and reconnects with backoff.
import { EventEmitter } from 'node:events';
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { deserializeError, serializeError, UnavailableError, type SerializedError } from '../../errors.ts';
import { shardOf, type ActorId, type UserId } from '../../ids.ts';
import { log } from '../../log.ts';
import type { ActorMessage, FrontEvent } from '../../actors/messages.ts';
import type { Bus, EventHandler, PushHandler } from './Bus.ts';
import type { InProcessBus } from './InProcessBus.ts';
import { ShardPlacement } from './ShardPlacement.ts';

export const SHARD_EXCHANGE = 'sb.shards';
export const NODE_EXCHANGE = 'sb.nodes';
export const shardQueue = (shard: number): string => `sb.shard.${shard}`;
export const nodeQueue = (node: string): string => `sb.node.${node}`;
export const RECONNECT_BACKOFF_MS = { first: 100, max: 5_000 } as const;
/** How long one attempt to reach the broker may take before it counts as failed (and is retried). */
export const AMQP_CONNECT_TIMEOUT_MS = 2_000;

export interface RabbitBusOptions {
  readonly url: string;
  readonly nodeId: string;
  readonly shards: number;
  readonly askTimeoutMs: number;
  readonly prefetch: number;
  readonly heartbeatMs: number;
  readonly nodeTimeoutMs: number;
}

type ShardEnvelope =
  | { readonly k: 'ask'; readonly to: ActorId; readonly msg: ActorMessage }
  | { readonly k: 'tell'; readonly to: ActorId; readonly msg: ActorMessage };

type NodeEnvelope =
  | { readonly k: 'reply'; readonly ok: true; readonly value: unknown }
  | { readonly k: 'reply'; readonly ok: false; readonly error: SerializedError }
  | { readonly k: 'push'; readonly user: UserId; readonly frame: string }
  | { readonly k: 'event'; readonly event: FrontEvent }
  | { readonly k: 'hb'; readonly node: string }
  | { readonly k: 'bye'; readonly node: string };

interface PendingAsk { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }

const encode = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

export class RabbitBus implements Bus {
  readonly frontId: string;
  /** 'connected', 'disconnected', 'released' (shards no longer ours). For the supervisor and fronts. */
  readonly observer = new EventEmitter();
  readonly #o: RabbitBusOptions;
  readonly #local: InProcessBus;
  readonly #placement: ShardPlacement;
  #conn: ChannelModel | null = null;
  #ch: ConfirmChannel | null = null;
  readonly #consumers = new Map<number, string>();
  readonly #pending = new Map<string, PendingAsk>();
  #nextId = 1;
  #push: PushHandler = () => {};
  #event: EventHandler = () => {};
  #closing = false;
  #backoff: number = RECONNECT_BACKOFF_MS.first;
  #heartbeat: NodeJS.Timeout | null = null;
  #placementReadyAt = 0;

  constructor(local: InProcessBus, options: RabbitBusOptions) {
    this.#o = options;
    this.frontId = options.nodeId;
    this.#local = local;
    this.#placement = new ShardPlacement(options.nodeId, options.shards, options.nodeTimeoutMs);
    // What this node's actors send elsewhere goes through the broker.
    local.setRemote({
      tell: (to, msg) => this.tell(to, msg),
      push: (front, user, frame) => this.#toNode(front, { k: 'push', user, frame }),
      event: (front, event) => this.#toNode(front, { k: 'event', event }),
    });
  }

  get connected(): boolean {
    return this.#ch !== null;
  }

  /** Owned shards right now (consuming). */
  /** Nodes this node hears, itself included. */
  get liveNodes(): number {
    return this.#placement.liveNodes().length;
  }

  get ownedShards(): number[] {
    return [...this.#consumers.keys()].sort((a, b) => a - b);
  }

  /** The local actor host an actor runs on when its shard is owned here. */
  hostOf(id: ActorId): number {
    return this.#local.hostOf(id);
  }

  onPush(handler: PushHandler): void {
    this.#push = handler;
    this.#local.onPush(handler);
  }

  onEvent(handler: EventHandler): void {
    this.#event = handler;
    this.#local.onEvent(handler);
  }

  /** Connects (retrying in the background if the broker is not there yet). */
  async start(): Promise<void> {
    this.#heartbeat = setInterval(() => this.#beat(), this.#o.heartbeatMs);
    await this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#closing) return;
    try {
      // amqplib leaves Nagle's algorithm on: a small ask then waits for the broker's delayed
      // ACK (~40 ms a hop). Our frames are small and latency-bound, so send them at once.
      const conn = await amqp.connect(this.#o.url, { timeout: AMQP_CONNECT_TIMEOUT_MS, noDelay: true });
      const ch = await conn.createConfirmChannel();
      conn.on('error', (e) => log.warn('amqp connection error', { err: String(e) }));
      ch.on('error', (e) => log.warn('amqp channel error', { err: String(e) }));
      const lost = (): void => this.#lost(conn);
      conn.on('close', lost);
      ch.on('close', lost);
      await this.#declare(ch);
      this.#conn = conn;
      this.#ch = ch;
      this.#backoff = RECONNECT_BACKOFF_MS.first;
      // Listen for the other nodes for a while before claiming shards.
      this.#placementReadyAt = Date.now() + this.#o.heartbeatMs * 1.5;
      this.#beat();
      log.info('amqp connected', { node: this.#o.nodeId });
      this.observer.emit('connected');
    } catch (e) {
      log.warn('amqp connect failed; retrying', { err: String(e), retryInMs: this.#backoff });
      this.#retry();
    }
  }

  #retry(): void {
    if (this.#closing) return;
    const delay = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, RECONNECT_BACKOFF_MS.max);
    setTimeout(() => void this.#connect(), delay).unref();
  }

  async #declare(ch: ConfirmChannel): Promise<void> {
    await ch.assertExchange(SHARD_EXCHANGE, 'direct', { durable: true });
    await ch.assertExchange(NODE_EXCHANGE, 'fanout', { durable: false });
    for (let s = 0; s < this.#o.shards; s++) {
      await ch.assertQueue(shardQueue(s), { durable: true, arguments: { 'x-single-active-consumer': true } });
      await ch.bindQueue(shardQueue(s), SHARD_EXCHANGE, String(s));
    }
    const mine = nodeQueue(this.#o.nodeId);
    await ch.assertQueue(mine, { exclusive: true, autoDelete: true });
    await ch.bindQueue(mine, NODE_EXCHANGE, '');
    await ch.prefetch(this.#o.prefetch);
    await ch.consume(mine, (m) => m && this.#fromNodeQueue(m), { noAck: true });
  }

  #lost(conn: ChannelModel): void {
    if (this.#conn !== conn) return;
    this.#conn = null;
    this.#ch = null;
    this.#consumers.clear();
    this.#failPending('message bus unavailable; retry');
    this.observer.emit('disconnected');
    if (this.#closing) return;
    log.warn('amqp connection lost; reconnecting', { node: this.#o.nodeId });
    // Everything this node owned may be taken over meanwhile: forget it.
    this.observer.emit('released', Array.from({ length: this.#o.shards }, (_, i) => i));
    conn.close().catch(() => {});
    this.#retry();
  }

  #failPending(message: string): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(new UnavailableError(message));
    }
  }

  #beat(): void {
    const ch = this.#ch;
    if (!ch) return;
    this.#placement.heard(this.#o.nodeId);
    ch.publish(NODE_EXCHANGE, '', encode({ k: 'hb', node: this.#o.nodeId } satisfies NodeEnvelope));
    if (Date.now() >= this.#placementReadyAt) void this.#rebalance(ch);
  }

  async #rebalance(ch: ConfirmChannel): Promise<void> {
    const want = this.#placement.owned();
    const released: number[] = [];
    for (const [shard, tag] of this.#consumers) {
      if (want.has(shard)) continue;
      this.#consumers.delete(shard);
      released.push(shard);
      await ch.cancel(tag).catch(() => {});
    }
    if (released.length > 0) {
      log.info('shards released', { node: this.#o.nodeId, shards: released.length });
      this.observer.emit('released', released);
    }
    let claimed = 0;
    for (const shard of want) {
      if (this.#consumers.has(shard) || this.#ch !== ch) continue;
      this.#consumers.set(shard, 'pending');
      try {
        const { consumerTag } = await ch.consume(shardQueue(shard), (m) => m && this.#fromShardQueue(ch, m), { noAck: false });
        if (this.#consumers.get(shard) === 'pending') this.#consumers.set(shard, consumerTag);
        else await ch.cancel(consumerTag).catch(() => {});
        claimed++;
      } catch {
        this.#consumers.delete(shard);
      }
    }
    if (claimed > 0) log.info('shards claimed', { node: this.#o.nodeId, shards: claimed, owned: this.#consumers.size });
  }

  #fromShardQueue(ch: ConfirmChannel, m: ConsumeMessage): void {
    let env: ShardEnvelope;
    try {
      env = JSON.parse(m.content.toString()) as ShardEnvelope;
    } catch {
      log.error('amqp: dropping an undecodable message', { queue: m.fields.routingKey });
      return ack();
    }
    function ack(): void {
      try { ch.ack(m); } catch { /* channel gone: the broker redelivers */ }
    }
    if (env.k === 'tell') {
      this.#local.tell(env.to, env.msg);
      return ack();
    }
    const { replyTo, correlationId } = m.properties;
    this.#local.ask(env.to, env.msg).then(
      (value) => this.#reply(ch, replyTo, correlationId, { k: 'reply', ok: true, value }),
      (e) => this.#reply(ch, replyTo, correlationId, { k: 'reply', ok: false, error: serializeError(e) }),
    ).finally(ack);
  }

  #reply(ch: ConfirmChannel, replyTo: string, correlationId: string, env: NodeEnvelope): void {
    if (!replyTo) return;
    try {
      ch.sendToQueue(replyTo, encode(env), { correlationId });
    } catch { /* the asker times out and the client retries */ }
  }

  #fromNodeQueue(m: ConsumeMessage): void {
    const env = JSON.parse(m.content.toString()) as NodeEnvelope;
    switch (env.k) {
      case 'reply': {
        const p = this.#pending.get(m.properties.correlationId);
        if (!p) return;
        this.#pending.delete(m.properties.correlationId);
        clearTimeout(p.timer);
        if (env.ok) p.resolve(env.value);
        else p.reject(deserializeError(env.error));
        return;
      }
      case 'push': return this.#push(env.user, env.frame);
      case 'event': return this.#event(env.event);
      case 'hb': return this.#placement.heard(env.node);
      case 'bye': return this.#placement.left(env.node);
    }
  }

  #toNode(front: string, env: NodeEnvelope): void {
    if (front === this.frontId) {
      if (env.k === 'push') this.#push(env.user, env.frame);
      else if (env.k === 'event') this.#event(env.event);
      return;
    }
    try {
      this.#ch?.sendToQueue(nodeQueue(front), encode(env));
    } catch (e) {
      log.warn('amqp: push to another node failed', { err: String(e) });
    }
  }

  ask<R>(to: ActorId, msg: ActorMessage): Promise<R> {
    const ch = this.#ch;
    if (!ch) return Promise.reject(new UnavailableError('message bus unavailable; retry'));
    const id = `${this.#o.nodeId}:${this.#nextId++}`;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(id)) reject(new UnavailableError('the actor did not answer in time; retry'));
      }, this.#o.askTimeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const env: ShardEnvelope = { k: 'ask', to, msg };
      try {
        ch.publish(SHARD_EXCHANGE, String(shardOf(to, this.#o.shards)), encode(env), {
          persistent: true, correlationId: id, replyTo: nodeQueue(this.#o.nodeId), expiration: String(this.#o.askTimeoutMs),
        }, (err) => {
          if (err && this.#pending.delete(id)) {
            clearTimeout(timer);
            reject(new UnavailableError('message bus refused the message; retry'));
          }
        });
      } catch {
        if (this.#pending.delete(id)) {
          clearTimeout(timer);
          reject(new UnavailableError('message bus unavailable; retry'));
        }
      }
    });
  }

  tell(to: ActorId, msg: ActorMessage): void {
    const env: ShardEnvelope = { k: 'tell', to, msg };
    try {
      this.#ch?.publish(SHARD_EXCHANGE, String(shardOf(to, this.#o.shards)), encode(env), { persistent: true });
    } catch (e) {
      log.warn('amqp: tell not sent', { err: String(e) });
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    const ch = this.#ch;
    if (ch) {
      try {
        ch.publish(NODE_EXCHANGE, '', encode({ k: 'bye', node: this.#o.nodeId } satisfies NodeEnvelope));
        for (const tag of this.#consumers.values()) await ch.cancel(tag).catch(() => {});
        await ch.waitForConfirms().catch(() => {});
      } catch { /* closing anyway */ }
    }
    this.#failPending('server is shutting down');
    await this.#conn?.close().catch(() => {});
    this.#conn = null;
    this.#ch = null;
  }
}
