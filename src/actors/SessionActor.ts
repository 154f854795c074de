// One user: which fronts hold the user's sockets (every device gets every message), the
// rooms that want to know whether the user is online, and the user's own queries.
import { InvalidArgumentError } from '../errors.ts';
import { actorKey, roomActor, type RoomId, type UserId } from '../ids.ts';
import type { Actor, ActorContext } from './Actor.ts';
import type { ConversationList, SessionMessage } from './messages.ts';

export class SessionActor implements Actor {
  readonly #ctx: ActorContext;
  readonly #user: UserId;
  /** front id -> number of this user's sockets it holds */
  readonly #presence = new Map<string, number>();
  /** Rooms the user is a member of: told when the user goes offline or comes back. */
  readonly #rooms = new Set<RoomId>();

  constructor(ctx: ActorContext) {
    this.#ctx = ctx;
    this.#user = actorKey(ctx.self) as UserId;
  }

  receive(msg: SessionMessage): unknown {
    switch (msg.type) {
      case 'presence': {
        const wasOnline = this.#online;
        if (msg.connections > 0) this.#presence.set(msg.front, msg.connections);
        else this.#presence.delete(msg.front);
        if (this.#online !== wasOnline) for (const room of this.#rooms) this.#tellRoom(room);
        return undefined;
      }
      case 'watchRoom':
        this.#rooms.add(msg.room);
        this.#tellRoom(msg.room);
        return undefined;
      case 'unwatchRoom':
        this.#rooms.delete(msg.room);
        return undefined;
      case 'deliver':
        for (const front of this.#presence.keys()) this.#ctx.push(front, this.#user, msg.frame);
        return undefined;
      case 'conversations':
        return this.#ctx.storage.listConversations(this.#user) satisfies Promise<ConversationList>;
      default:
        throw new InvalidArgumentError(`session cannot handle ${(msg as { type: string }).type}`);
    }
  }

  get #online(): boolean {
    return this.#presence.size > 0;
  }

  #tellRoom(room: RoomId): void {
    this.#ctx.tell(roomActor(room), { type: 'memberPresence', user: this.#user, online: this.#online });
  }

  canPassivate(): boolean {
    return this.#presence.size === 0 && this.#rooms.size === 0;
  }
}
