// Messaging as every front sees it (HTTP, WebSocket, gRPC): validate, then ask the actors
// over the bus. No front reaches around it.
import { InvalidArgumentError, PayloadTooLargeError } from '../errors.ts';
import type { FrontMetrics } from '../metrics/FrontMetrics.ts';
import {
  conversationActor, directConversationId, directMembers, newGroupId, sessionActor, type ConversationId, type UserId,
} from '../ids.ts';
import type { Bus } from '../transport/bus/Bus.ts';
import type { ConversationInfo, ConversationList, HistoryPage, SendAck } from '../actors/messages.ts';
import type { Attachment } from '../storage/Storage.ts';
import type { AttachmentSource } from './FileService.ts';
import { fileId, int, optStr, str, userIds, type Fields } from './validate.ts';

export const CLIENT_MSG_ID = { min: 1, max: 64, pattern: /^[\x21-\x7e]+$/ } as const;
export const GROUP_NAME_MAX = 128;

export interface MessagingLimits {
  readonly maxMessageBytes: number;
  readonly historyPageMax: number;
  readonly groupMaxMembers: number;
}

export class MessagingService {
  /**
   * `files`: where a sent `fileId` becomes the message's attachment (absent: messages carry
   * no files); `metrics`: counts acks and how long they took.
   */
  constructor(
    private readonly bus: Bus, private readonly limits: MessagingLimits, private readonly files?: AttachmentSource,
    private readonly metrics?: FrontMetrics,
  ) {}

  #message(o: Fields): { clientMsgId: string; body: string } {
    const clientMsgId = str(o, 'clientMsgId', CLIENT_MSG_ID.min, CLIENT_MSG_ID.max, CLIENT_MSG_ID.pattern);
    // A file alone is a message: its body may be empty or left out.
    if (o.fileId !== undefined && (o.body === undefined || o.body === '')) return { clientMsgId, body: '' };
    if (typeof o.body !== 'string') throw new InvalidArgumentError('"body" must be a string');
    if (o.body.length === 0) throw new InvalidArgumentError('"body" must not be empty');
    if (Buffer.byteLength(o.body) > this.limits.maxMessageBytes) {
      throw new PayloadTooLargeError(`"body" is larger than ${this.limits.maxMessageBytes} bytes`);
    }
    return { clientMsgId, body: o.body };
  }

  async sendDirect(from: UserId, to: UserId, o: Fields): Promise<SendAck> {
    if (to === from) throw new InvalidArgumentError('a direct message needs another user');
    return this.send(from, directConversationId(from, to), o);
  }

  async send(from: UserId, conversation: ConversationId, o: Fields): Promise<SendAck> {
    const started = performance.now();
    const { clientMsgId, body } = this.#message(o);
    const attachment = await this.#attachment(from, o);
    const ack: SendAck = await this.bus.ask(conversationActor(conversation), {
      type: 'send', from, clientMsgId, body, ...(attachment && { attachment }),
    });
    this.metrics?.messageAcked(directMembers(conversation) ? 'direct' : 'group', ack.duplicate, (performance.now() - started) / 1000);
    return ack;
  }

  /** The file a message carries: the sender must own it (the conversation actor then checks membership). */
  async #attachment(from: UserId, o: Fields): Promise<Attachment | undefined> {
    if (o.fileId === undefined) return undefined;
    const file = fileId(o.fileId, 'fileId');
    if (!this.files) throw new InvalidArgumentError('this server does not take files');
    return this.files.attachment(from, file);
  }

  history(user: UserId, conversation: ConversationId, sinceSeq: number, limit: number): Promise<HistoryPage> {
    return this.bus.ask(conversationActor(conversation), { type: 'history', user, sinceSeq, limit });
  }

  historyLimit(o: Fields): { sinceSeq: number; limit: number } {
    return {
      sinceSeq: int(o, 'sinceSeq', 0, Number.MAX_SAFE_INTEGER, 0),
      limit: int(o, 'limit', 1, this.limits.historyPageMax, this.limits.historyPageMax),
    };
  }

  conversation(user: UserId, conversation: ConversationId): Promise<ConversationInfo> {
    return this.bus.ask(conversationActor(conversation), { type: 'info', user });
  }

  conversations(user: UserId): Promise<ConversationList> {
    return this.bus.ask(sessionActor(user), { type: 'conversations' });
  }

  async createGroup(owner: UserId, o: Fields): Promise<ConversationInfo> {
    const name = optStr(o, 'name', 0, GROUP_NAME_MAX) ?? '';
    const members = userIds(o, 'members', this.limits.groupMaxMembers);
    return this.bus.ask(conversationActor(newGroupId()), { type: 'create', owner, name, members });
  }

  addMember(by: UserId, conversation: ConversationId, user: UserId): Promise<ConversationInfo> {
    return this.bus.ask(conversationActor(conversation), { type: 'addMember', by, user });
  }

  removeMember(by: UserId, conversation: ConversationId, user: UserId): Promise<ConversationInfo> {
    return this.bus.ask(conversationActor(conversation), { type: 'removeMember', by, user });
  }
}
