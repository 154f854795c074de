// One conversation (direct or group): who its members are, and the path of every message
// in it: check membership, store (storage assigns the next seq and de-duplicates by the
// sender's client message id), answer the sender only once stored, then fan out to every
// member's session actor in seq order.
import {
  AlreadyExistsError, InvalidArgumentError, NotFoundError, PermissionDeniedError,
} from '../errors.ts';
import {
  actorKey, directMembers, newMessageId, sessionActor, type ConversationId, type UserId,
} from '../ids.ts';
import type { Attachment, ConversationRecord } from '../storage/Storage.ts';
import { DeferredReply, type Actor, type ActorContext } from './Actor.ts';
import {
  messageFrame, type ConversationMessage, type HistoryPage, type SendAck,
} from './messages.ts';

export class ConversationActor implements Actor {
  readonly #ctx: ActorContext;
  readonly #id: ConversationId;
  #conv: ConversationRecord | null = null;
  #members = new Set<UserId>();

  constructor(ctx: ActorContext) {
    this.#ctx = ctx;
    this.#id = actorKey(ctx.self) as ConversationId;
  }

  async activate(): Promise<void> {
    this.#setConversation(await this.#ctx.storage.getConversation(this.#id));
  }

  #setConversation(conv: ConversationRecord | null): void {
    this.#conv = conv;
    this.#members = new Set(conv?.members ?? []);
  }

  receive(msg: ConversationMessage): unknown {
    switch (msg.type) {
      case 'send': return this.#send(msg.from, msg.clientMsgId, msg.body, msg.attachment);
      case 'create': return this.#create(msg.owner, msg.name, msg.members);
      case 'addMember': return this.#addMember(msg.by, msg.user);
      case 'removeMember': return this.#removeMember(msg.by, msg.user);
      case 'history': return this.#history(msg.user, msg.sinceSeq, msg.limit);
      case 'info': return this.#requireMember(msg.user) && this.#conv;
      default: throw new InvalidArgumentError(`conversation cannot handle ${(msg as { type: string }).type}`);
    }
  }

  #requireMember(user: UserId): true {
    if (!this.#conv) throw new NotFoundError('conversation not found');
    if (!this.#members.has(user)) throw new PermissionDeniedError('you are not a member of this conversation');
    return true;
  }

  /** A direct conversation comes into being with its first message. */
  async #ensureDirect(from: UserId): Promise<void> {
    if (this.#conv) return;
    const pair = directMembers(this.#id);
    if (!pair) return;
    if (!pair.includes(from)) throw new PermissionDeniedError('you are not a member of this conversation');
    const other = pair[0] === from ? pair[1] : pair[0];
    if (!(await this.#ctx.storage.findUserById(other))) throw new NotFoundError('recipient not found');
    const conv: ConversationRecord = {
      id: this.#id, kind: 'direct', name: '', owner: null, createdAt: Date.now(), members: pair,
    };
    await this.#ctx.storage.createConversation(conv);
    this.#setConversation(conv);
  }

  async #send(from: UserId, clientMsgId: string, body: string, attachment?: Attachment): Promise<DeferredReply> {
    await this.#ensureDirect(from);
    this.#requireMember(from);
    // Shared before the message is stored: no member ever sees a file they cannot download.
    if (attachment) await this.#ctx.storage.shareFile(attachment.fileId, this.#id);
    const stored = this.#ctx.storage.appendMessage({
      id: newMessageId(), conversationId: this.#id, sender: from, clientMsgId, body, sentAt: Date.now(),
      ...(attachment && { attachment }),
    });
    // Not awaited here: the next message goes to storage in the same group commit.
    return new DeferredReply(stored.then(({ message, duplicate }): SendAck => {
      if (!duplicate) {
        const frame = messageFrame(message);
        for (const m of this.#members) this.#ctx.tell(sessionActor(m), { type: 'deliver', frame });
      }
      return {
        conversationId: this.#id, messageId: message.id, seq: message.seq,
        clientMsgId, sentAt: message.sentAt, duplicate,
      };
    }));
  }

  async #create(owner: UserId, name: string, members: readonly UserId[]): Promise<ConversationRecord> {
    if (this.#conv) {
      // A retried create (same id, same owner) is answered with what exists.
      if (this.#conv.owner === owner) return this.#conv;
      throw new AlreadyExistsError('conversation already exists');
    }
    const all = [...new Set([owner, ...members])];
    if (all.length > this.#ctx.settings.groupMaxMembers) {
      throw new InvalidArgumentError(`a group has at most ${this.#ctx.settings.groupMaxMembers} members`);
    }
    for (const m of all) {
      if (!(await this.#ctx.storage.findUserById(m))) throw new NotFoundError(`user ${m} not found`);
    }
    const conv: ConversationRecord = {
      id: this.#id, kind: 'group', name, owner, createdAt: Date.now(), members: all,
    };
    await this.#ctx.storage.createConversation(conv);
    this.#setConversation(conv);
    return conv;
  }

  #requireGroupOwner(by: UserId): ConversationRecord {
    this.#requireMember(by);
    const conv = this.#conv!;
    if (conv.kind !== 'group') throw new InvalidArgumentError('members of a direct conversation cannot change');
    if (conv.owner !== by) throw new PermissionDeniedError('only the owner of the group can do this');
    return conv;
  }

  async #addMember(by: UserId, user: UserId): Promise<ConversationRecord> {
    const conv = this.#requireGroupOwner(by);
    if (this.#members.has(user)) return conv;
    if (this.#members.size >= this.#ctx.settings.groupMaxMembers) {
      throw new InvalidArgumentError(`a group has at most ${this.#ctx.settings.groupMaxMembers} members`);
    }
    if (!(await this.#ctx.storage.findUserById(user))) throw new NotFoundError('user not found');
    await this.#ctx.storage.addMember(this.#id, user);
    this.#setConversation({ ...conv, members: [...this.#members, user] });
    return this.#conv!;
  }

  async #removeMember(by: UserId, user: UserId): Promise<ConversationRecord> {
    // Anyone may leave; only the owner may remove someone else.
    const conv = by === user ? (this.#requireMember(by), this.#conv!) : this.#requireGroupOwner(by);
    if (conv.kind !== 'group') throw new InvalidArgumentError('members of a direct conversation cannot change');
    if (!this.#members.has(user)) throw new NotFoundError('user is not a member');
    await this.#ctx.storage.removeMember(this.#id, user);
    this.#setConversation({ ...conv, members: [...this.#members].filter((m) => m !== user) });
    return this.#conv!;
  }

  async #history(user: UserId, sinceSeq: number, limit: number): Promise<HistoryPage> {
    this.#requireMember(user);
    const max = Math.min(limit, this.#ctx.settings.historyPageMax);
    // One extra row tells whether there is more without a count query.
    const rows = await this.#ctx.storage.history(this.#id, sinceSeq, max + 1);
    // A page also stops at a byte budget (always at least one message), so it fits a socket's buffer.
    let bytes = 0;
    let n = 0;
    while (n < Math.min(rows.length, max) && (n === 0 || bytes + rows[n]!.body.length <= this.#ctx.settings.historyPageMaxBytes)) {
      bytes += rows[n]!.body.length;
      n++;
    }
    return { conversationId: this.#id, messages: rows.slice(0, n), hasMore: rows.length > n };
  }
}
