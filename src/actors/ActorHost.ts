// Hosts thousands of virtual actors on one thread: activates them on their first message,
// runs each mailbox one message at a time, yields after a batch so a busy actor cannot
// starve its neighbours, and passivates the idle.
import { EventEmitter } from 'node:events';
import { AppError, serializeError, type SerializedError } from '../errors.ts';
import { actorKind, shardOf, type ActorId, type UserId } from '../ids.ts';
import { log } from '../log.ts';
import type { Storage } from '../storage/Storage.ts';
import { DeferredReply, type Actor, type ActorContext, type ActorSettings, type DeactivationReason } from './Actor.ts';
import { ConversationActor } from './ConversationActor.ts';
import { Mailbox } from './Mailbox.ts';
import type { ActorMessage, FrontEvent } from './messages.ts';
import { RoomActor } from './RoomActor.ts';
import { SessionActor } from './SessionActor.ts';

/** Messages one actor handles before it lets the others run. */
export const MAILBOX_BATCH = 64;

export type Reply = (result: { ok: true; value: unknown } | { ok: false; error: SerializedError }) => void;

interface Envelope {
  readonly msg: ActorMessage;
  readonly reply?: Reply;
}

export interface HostLinks {
  /** Does this host own the actor's shard? */
  isLocal(id: ActorId): boolean;
  /** Route a tell to another host. */
  forward(to: ActorId, msg: ActorMessage): void;
  push(front: string, user: UserId, frame: string): void;
  notify(front: string, event: FrontEvent): void;
}

class ActorCell {
  readonly mailbox = new Mailbox<Envelope>();
  running = false;
  activated = false;
  lastActive = Date.now();
  constructor(readonly id: ActorId, readonly actor: Actor) {}
}

export class ActorHost {
  readonly #cells = new Map<ActorId, ActorCell>();
  readonly #storage: Storage;
  readonly #settings: ActorSettings;
  readonly #links: HostLinks;
  readonly #idleMs: number;
  readonly #sweep: NodeJS.Timeout;
  /** Timers actors scheduled for themselves, cleared when the actor deactivates. */
  readonly #timers = new Map<ActorId, Set<NodeJS.Timeout>>();
  /** For monitoring: 'activated' (kind), 'deactivated' (kind, reason). Never steers. */
  readonly observer = new EventEmitter();
  /** Messages handled, by actor kind (for metrics). */
  readonly #handled = new Map<string, number>();

  constructor(storage: Storage, settings: ActorSettings, links: HostLinks, idleMs: number) {
    this.#storage = storage;
    this.#settings = settings;
    this.#links = links;
    this.#idleMs = idleMs;
    this.#sweep = setInterval(() => this.#passivateIdle(), Math.max(50, Math.min(idleMs / 2, 30_000)));
    this.#sweep.unref();
  }

  get activeActors(): number {
    return this.#cells.size;
  }

  /** Live actors by kind (counted when asked: a scrape, not every message). */
  activeByKind(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const id of this.#cells.keys()) {
      const kind = actorKind(id);
      out[kind] = (out[kind] ?? 0) + 1;
    }
    return out;
  }

  /** Messages handled since the host started, by actor kind. */
  handledByKind(): Record<string, number> {
    return Object.fromEntries(this.#handled);
  }

  deliver(to: ActorId, msg: ActorMessage, reply?: Reply): void {
    let cell = this.#cells.get(to);
    if (!cell) {
      const actor = this.#create(to);
      if (!actor) {
        reply?.({ ok: false, error: { kind: 'not_found', message: `no such actor kind: ${actorKind(to)}` } });
        return;
      }
      cell = new ActorCell(to, actor);
      this.#cells.set(to, cell);
    }
    cell.mailbox.push({ msg, reply });
    if (!cell.running) void this.#run(cell);
  }

  #context(id: ActorId): ActorContext {
    return {
      self: id,
      storage: this.#storage,
      settings: this.#settings,
      tell: (to, msg) => (this.#links.isLocal(to) ? this.deliver(to, msg) : this.#links.forward(to, msg)),
      push: (front, user, frame) => this.#links.push(front, user, frame),
      notify: (front, event) => this.#links.notify(front, event),
      schedule: (ms, msg) => {
        let set = this.#timers.get(id);
        if (!set) this.#timers.set(id, (set = new Set()));
        const timers = set;
        const timer = setTimeout(() => {
          timers.delete(timer);
          this.deliver(id, msg);
        }, ms);
        timers.add(timer);
        return () => {
          clearTimeout(timer);
          timers.delete(timer);
        };
      },
    };
  }

  #create(id: ActorId): Actor | null {
    switch (actorKind(id)) {
      case 'session': return new SessionActor(this.#context(id));
      case 'conv': return new ConversationActor(this.#context(id));
      case 'room': return new RoomActor(this.#context(id));
      default: return null;
    }
  }

  async #run(cell: ActorCell): Promise<void> {
    cell.running = true;
    let handled = 0;
    try {
      while (cell.mailbox.size > 0) {
        if (!cell.activated) {
          try {
            await cell.actor.activate?.();
            cell.activated = true;
            this.observer.emit('activated', actorKind(cell.id));
          } catch (e) {
            // Storage away or similar: fail what is waiting, try again on the next message.
            this.#failAll(cell, e);
            break;
          }
        }
        const env = cell.mailbox.shift()!;
        const kind = actorKind(cell.id);
        this.#handled.set(kind, (this.#handled.get(kind) ?? 0) + 1);
        await this.#handle(cell, env);
        if (++handled % MAILBOX_BATCH === 0) await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      cell.running = false;
      cell.lastActive = Date.now();
    }
  }

  async #handle(cell: ActorCell, env: Envelope): Promise<void> {
    try {
      const result = await cell.actor.receive(env.msg);
      if (result instanceof DeferredReply) {
        result.promise.then(
          (value) => env.reply?.({ ok: true, value }),
          (e) => this.#fail(cell, env, e),
        );
      } else {
        env.reply?.({ ok: true, value: result });
      }
    } catch (e) {
      this.#fail(cell, env, e);
    }
  }

  #fail(cell: ActorCell, env: Envelope, e: unknown): void {
    env.reply?.({ ok: false, error: serializeError(e, { actor: cell.id }) });
    if (!(e instanceof AppError) || e.kind === 'internal' || e.kind === 'unavailable') {
      // An unexpected failure may have left the state half-changed: rebuild from storage.
      this.#deactivate(cell, 'crash');
    }
  }

  #failAll(cell: ActorCell, e: unknown): void {
    for (let env = cell.mailbox.shift(); env; env = cell.mailbox.shift()) {
      env.reply?.({ ok: false, error: serializeError(e, { actor: cell.id }) });
    }
  }

  #deactivate(cell: ActorCell, reason: DeactivationReason): void {
    if (this.#cells.get(cell.id) !== cell) return;
    for (const timer of this.#timers.get(cell.id) ?? []) clearTimeout(timer);
    this.#timers.delete(cell.id);
    try {
      cell.actor.deactivate?.(reason);
    } catch (e) {
      log.warn('actor deactivate failed', { actor: cell.id, err: String(e) });
    }
    if (cell.mailbox.size === 0) {
      this.#cells.delete(cell.id);
    } else {
      // Messages already queued go to a fresh activation.
      const fresh = this.#create(cell.id)!;
      const next = new ActorCell(cell.id, fresh);
      for (let env = cell.mailbox.shift(); env; env = cell.mailbox.shift()) next.mailbox.push(env);
      this.#cells.set(cell.id, next);
      if (!cell.running) void this.#run(next);
      else queueMicrotask(() => { if (!next.running) void this.#run(next); });
    }
    if (cell.activated) this.observer.emit('deactivated', actorKind(cell.id), reason);
    log.debug('actor deactivated', { actor: cell.id, reason });
  }

  #passivateIdle(): void {
    const cutoff = Date.now() - this.#idleMs;
    for (const cell of this.#cells.values()) {
      if (cell.running || cell.mailbox.size > 0 || cell.lastActive > cutoff) continue;
      if (cell.actor.canPassivate?.() === false) continue;
      this.#deactivate(cell, 'idle');
    }
  }

  /** Cluster mode: these shards now live on another node; drop their actors' state here. */
  passivateShards(shards: ReadonlySet<number>, shardCount: number): void {
    for (const cell of [...this.#cells.values()]) {
      if (shards.has(shardOf(cell.id, shardCount))) this.#deactivate(cell, 'moved');
    }
  }

  close(): void {
    clearInterval(this.#sweep);
    for (const cell of [...this.#cells.values()]) this.#deactivate(cell, 'shutdown');
  }
}
