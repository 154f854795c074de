// Every live client connection of this process that takes pushes, whatever its front (a
// WebSocket, a gRPC event stream): one place that fans a user's pushed frames out to all
// of that user's connections and tells the user's session actor how many there are.
import { sessionActor, type UserId } from '../ids.ts';
import type { Bus } from './bus/Bus.ts';

/** One client connection, as the registry drives it. */
export interface Connection {
  /** A frame pushed to the user (JSON text, as `messageFrame` makes it). Must not throw. */
  push(frame: string): void;
  /** The server is shutting down: end the connection, saying so. Must not throw. */
  close(): void;
}

export class Connections {
  readonly #bus: Bus;
  readonly #byUser = new Map<UserId, Set<Connection>>();
  #size = 0;

  constructor(bus: Bus) {
    this.#bus = bus;
    bus.onPush((user, frame) => this.#push(user, frame));
  }

  /** `c` now takes `user`'s pushes; the user's session actor learns the new count. */
  add(user: UserId, c: Connection): void {
    let set = this.#byUser.get(user);
    if (!set) this.#byUser.set(user, (set = new Set()));
    if (set.has(c)) return;
    set.add(c);
    this.#size++;
    this.#announce(user, set.size);
  }

  /** `c` is gone. Safe to call more than once. */
  remove(user: UserId, c: Connection): void {
    const set = this.#byUser.get(user);
    if (!set?.delete(c)) return;
    this.#size--;
    if (set.size === 0) this.#byUser.delete(user);
    this.#announce(user, set.size);
  }

  /** Presence is an absolute count per front, so telling it again is harmless. */
  #announce(user: UserId, connections: number): void {
    this.#bus.tell(sessionActor(user), { type: 'presence', front: this.#bus.frontId, connections });
  }

  /** After an actor host restarts its session actors know nothing: tell them again. */
  reannounce(): void {
    for (const [user, set] of this.#byUser) this.#announce(user, set.size);
  }

  #push(user: UserId, frame: string): void {
    const set = this.#byUser.get(user);
    if (!set) return;
    for (const c of set) c.push(frame);
  }

  /** Users with at least one connection here. */
  /** Does this node hold a socket or stream of `user`? */
  isConnected(user: UserId): boolean {
    return this.#byUser.has(user);
  }

  get connectedUsers(): number {
    return this.#byUser.size;
  }

  /** Connections here, all users and fronts together. */
  get size(): number {
    return this.#size;
  }

  /** Shutdown: close every connection (each removes itself as it closes). */
  closeAll(): void {
    for (const set of [...this.#byUser.values()]) for (const c of [...set]) c.close();
  }
}
