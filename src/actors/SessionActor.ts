// One user: which fronts hold the user's sockets (every device gets every message), and
// the user's own queries.
import { InvalidArgumentError } from '../errors.ts';
import { actorKey, type UserId } from '../ids.ts';
import type { Actor, ActorContext } from './Actor.ts';
import type { ConversationList, SessionMessage } from './messages.ts';

export class SessionActor implements Actor {
  readonly #ctx: ActorContext;
  readonly #user: UserId;
  /** front id -> number of this user's sockets it holds */
  readonly #presence = new Map<string, number>();

  constructor(ctx: ActorContext) {
    this.#ctx = ctx;
    this.#user = actorKey(ctx.self) as UserId;
  }

  receive(msg: SessionMessage): unknown {
    switch (msg.type) {
      case 'presence':
        if (msg.connections > 0) this.#presence.set(msg.front, msg.connections);
        else this.#presence.delete(msg.front);
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

  canPassivate(): boolean {
    return this.#presence.size === 0;
  }
}
