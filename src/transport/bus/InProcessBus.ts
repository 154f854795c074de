// The embedded bus: the main thread routes between fronts and actor hosts over batched
// MessagePorts. An actor id hashes to a shard, a shard lives on one host. While a host is
// down (crashed, being restarted) its traffic waits; asks it had not answered are sent
// once more to its replacement (actor handlers are idempotent: sends de-duplicate by client
// message id, creates by id).
import { deserializeError, UnavailableError } from '../../errors.ts';
import { shardOf, type ActorId, type UserId } from '../../ids.ts';
import { log } from '../../log.ts';
import type { ActorMessage, FrontEvent } from '../../actors/messages.ts';
import { BatchedPort } from '../../supervisor/BatchedPort.ts';
import type { Bus, EventHandler, PushHandler } from './Bus.ts';
import type { FromHost, ToHost } from './HostProtocol.ts';
import type { MessagePort } from 'node:worker_threads';

/** How many times an unanswered ask is delivered when its host dies. */
export const MAX_ASK_ATTEMPTS = 2;
/** Tells held for a host that is down, beyond which they are dropped (clients resync). */
export const MAX_HELD_TELLS = 100_000;

interface PendingAsk {
  readonly to: ActorId;
  readonly msg: ActorMessage;
  readonly host: number;
  /** How many times it has been handed to a host. */
  sent: number;
  /** Handed to a host that is still up. */
  inFlight: boolean;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export const LOCAL_FRONT = 'local';

/** Where traffic for other nodes goes, in cluster mode. */
export interface RemoteRouter {
  tell(to: ActorId, msg: ActorMessage): void;
  push(front: string, user: UserId, frame: string): void;
  event(front: string, event: FrontEvent): void;
}

export class InProcessBus implements Bus {
  readonly frontId: string;
  #remote: RemoteRouter | null = null;
  readonly #shards: number;
  readonly #askTimeoutMs: number;
  readonly #links: (BatchedPort<ToHost, FromHost> | null)[];
  readonly #held: ToHost[][];
  readonly #pending = new Map<number, PendingAsk>();
  #nextId = 1;
  #push: PushHandler = () => {};
  #event: EventHandler = () => {};

  constructor(hosts: number, shards: number, askTimeoutMs: number, frontId = LOCAL_FRONT) {
    this.frontId = frontId;
    this.#shards = shards;
    this.#askTimeoutMs = askTimeoutMs;
    this.#links = new Array(hosts).fill(null);
    this.#held = Array.from({ length: hosts }, () => []);
  }

  hostOf(id: ActorId): number {
    return shardOf(id, this.#shards) % this.#links.length;
  }

  onPush(handler: PushHandler): void {
    this.#push = handler;
  }

  onEvent(handler: EventHandler): void {
    this.#event = handler;
  }

  /** Cluster mode: actors' tells, and pushes for other fronts, leave through `remote`. */
  setRemote(remote: RemoteRouter): void {
    this.#remote = remote;
  }

  /** A host (new or restarted) is ready on this port. */
  attachHost(index: number, port: MessagePort): void {
    const link: BatchedPort<ToHost, FromHost> = new BatchedPort(port, (env) => this.#fromHost(env), () => {
      if (this.#links[index] === link) this.detachHost(index);
    });
    this.#links[index] = link;
    for (const env of this.#held[index]!.splice(0)) link.send(env);
    for (const [id, p] of this.#pending) {
      if (p.host !== index || p.inFlight) continue;
      p.sent++;
      p.inFlight = true;
      link.send({ t: 'ask', id, to: p.to, msg: p.msg });
    }
  }

  /** The host is gone: hold its traffic until a replacement attaches. */
  detachHost(index: number): void {
    this.#links[index] = null;
    for (const [id, p] of this.#pending) {
      if (p.host !== index) continue;
      p.inFlight = false;
      if (p.sent >= MAX_ASK_ATTEMPTS) this.#settle(id)?.reject(new UnavailableError('actor host failed; retry'));
    }
  }

  ask<R>(to: ActorId, msg: ActorMessage): Promise<R> {
    const id = this.#nextId++;
    const host = this.hostOf(to);
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle(id)?.reject(new UnavailableError('the actor did not answer in time; retry'));
      }, this.#askTimeoutMs);
      timer.unref();
      const link = this.#links[host];
      this.#pending.set(id, {
        to, msg, host, sent: link ? 1 : 0, inFlight: link !== null,
        resolve: resolve as (v: unknown) => void, reject, timer,
      });
      link?.send({ t: 'ask', id, to, msg });
    });
  }

  tell(to: ActorId, msg: ActorMessage): void {
    this.#toHost(this.hostOf(to), { t: 'tell', to, msg });
  }

  #toHost(host: number, env: ToHost): void {
    const link = this.#links[host];
    if (link) return link.send(env);
    const held = this.#held[host]!;
    if (held.length < MAX_HELD_TELLS) held.push(env);
    else log.warn('bus: dropping a tell for a host that is down', { host });
  }

  #settle(id: number): PendingAsk | undefined {
    const p = this.#pending.get(id);
    if (!p) return undefined;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  #fromHost(env: FromHost): void {
    switch (env.t) {
      case 'reply': {
        const p = this.#settle(env.id);
        if (!p) return;
        if (env.ok) p.resolve(env.value);
        else p.reject(deserializeError(env.error));
        return;
      }
      case 'tell':
        if (this.#remote) this.#remote.tell(env.to, env.msg);
        else this.tell(env.to, env.msg);
        return;
      case 'push':
        if (env.front === this.frontId) this.#push(env.user as UserId, env.frame);
        else this.#remote?.push(env.front, env.user, env.frame);
        return;
      case 'event':
        if (env.front === this.frontId) this.#event(env.event);
        else this.#remote?.event(env.front, env.event);
        return;
    }
  }

  /** Fail everything still waiting: the process is shutting down. */
  close(): void {
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id)?.reject(new UnavailableError('server is shutting down'));
    }
  }
}
