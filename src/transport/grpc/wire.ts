// The proto messages of the served services as JS objects (the shapes protos.ts's loader
// options give: lowerCamelCase fields, int64 as number, enums by name, the set member of a
// oneof named by the oneof), and the one conversion from each internal type to them.
import type { Session } from '../../auth/AuthService.ts';
import type { HistoryPage, SendAck } from '../../actors/messages.ts';
import type { ConversationRecord, ConversationSummary, StoredMessage } from '../../storage/Storage.ts';

/** google.protobuf.Timestamp */
export interface Timestamp {
  readonly seconds: number;
  readonly nanos: number;
}

const MS_PER_S = 1000;
const NS_PER_MS = 1_000_000;

export function timestamp(ms: number): Timestamp {
  return { seconds: Math.floor(ms / MS_PER_S), nanos: (ms % MS_PER_S) * NS_PER_MS };
}

// AuthService

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface SessionReply {
  readonly userId: string;
  readonly username: string;
  readonly token: string;
}

export interface User {
  readonly userId: string;
  readonly username: string;
}

export const sessionReply = (s: Session): SessionReply => ({ userId: s.userId, username: s.username, token: s.token });

// MessagingService

export interface Message {
  readonly messageId: string;
  readonly conversationId: string;
  readonly seq: number;
  readonly senderId: string;
  readonly clientMsgId: string;
  readonly body: string;
  readonly sendTime: Timestamp;
}

export type ConversationKind = 'KIND_UNSPECIFIED' | 'DIRECT' | 'GROUP';

export interface Conversation {
  readonly conversationId: string;
  readonly kind: ConversationKind;
  readonly name: string;
  readonly ownerId: string;
  readonly members: readonly string[];
  readonly createTime: Timestamp | null;
  readonly lastSeq: number;
}

export interface SendMessageRequest {
  readonly target?: 'conversationId' | 'recipientId';
  readonly conversationId?: string;
  readonly recipientId?: string;
  readonly clientMsgId: string;
  readonly body: string;
}

export interface SendMessageResponse {
  readonly conversationId: string;
  readonly messageId: string;
  readonly seq: number;
  readonly clientMsgId: string;
  readonly sendTime: Timestamp;
  readonly duplicate: boolean;
}

export type SubscribeEventsResponse =
  | { readonly ready: { readonly userId: string } }
  | { readonly message: Message };

export interface ListMessagesRequest {
  readonly conversationId: string;
  readonly sinceSeq: number;
  readonly pageSize: number;
}

export interface ListMessagesResponse {
  readonly conversationId: string;
  readonly messages: readonly Message[];
  readonly hasMore: boolean;
}

export interface ListConversationsResponse {
  readonly conversations: readonly Conversation[];
}

export interface ConversationRequest {
  readonly conversationId: string;
}

export interface CreateGroupRequest {
  readonly name: string;
  readonly members: readonly string[];
}

export interface GroupMemberRequest {
  readonly conversationId: string;
  readonly userId: string;
}

export const message = (m: StoredMessage): Message => ({
  messageId: m.id,
  conversationId: m.conversationId,
  seq: m.seq,
  senderId: m.sender,
  clientMsgId: m.clientMsgId,
  body: m.body,
  sendTime: timestamp(m.sentAt),
});

export const sendAck = (a: SendAck): SendMessageResponse => ({
  conversationId: a.conversationId,
  messageId: a.messageId,
  seq: a.seq,
  clientMsgId: a.clientMsgId,
  sendTime: timestamp(a.sentAt),
  duplicate: a.duplicate,
});

export const historyPage = (p: HistoryPage): ListMessagesResponse => ({
  conversationId: p.conversationId,
  messages: p.messages.map(message),
  hasMore: p.hasMore,
});

const KIND: Readonly<Record<ConversationRecord['kind'], ConversationKind>> = { direct: 'DIRECT', group: 'GROUP' };

export const conversation = (c: ConversationRecord): Conversation => ({
  conversationId: c.id,
  kind: KIND[c.kind],
  name: c.name,
  ownerId: c.owner ?? '',
  members: c.members,
  createTime: timestamp(c.createdAt),
  lastSeq: 0,
});

export const conversationSummary = (c: ConversationSummary): Conversation => ({
  conversationId: c.id,
  kind: KIND[c.kind],
  name: c.name,
  ownerId: '',
  members: [],
  createTime: null,
  lastSeq: c.lastSeq,
});

/**
 * The event for a frame pushed to the user (JSON text, as `messageFrame` makes it for
 * every front), or null for a kind of frame this stream does not carry.
 */
export function eventOfPush(frame: string): SubscribeEventsResponse | null {
  const f = JSON.parse(frame) as { type?: unknown } & Record<string, unknown>;
  if (f.type !== 'message') return null;
  const m = f as unknown as PushedMessage;
  return {
    message: message({
      id: m.id, conversationId: m.conversationId, seq: m.seq, sender: m.from,
      clientMsgId: m.clientMsgId, body: m.body, sentAt: m.sentAt,
    }),
  };
}

/** What `messageFrame` writes. */
type PushedMessage = Omit<StoredMessage, 'sender'> & { readonly from: StoredMessage['sender'] };
