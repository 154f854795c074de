// The messages actors understand, and what they answer. Plain data: they cross threads.
import type { ConversationId, MessageId, UserId } from '../ids.ts';
import type { ConversationRecord, ConversationSummary, StoredMessage } from '../storage/Storage.ts';

export type ConversationMessage =
  | { readonly type: 'send'; readonly from: UserId; readonly clientMsgId: string; readonly body: string }
  | { readonly type: 'create'; readonly owner: UserId; readonly name: string; readonly members: readonly UserId[] }
  | { readonly type: 'addMember'; readonly by: UserId; readonly user: UserId }
  | { readonly type: 'removeMember'; readonly by: UserId; readonly user: UserId }
  | { readonly type: 'history'; readonly user: UserId; readonly sinceSeq: number; readonly limit: number }
  | { readonly type: 'info'; readonly user: UserId };

export type SessionMessage =
  /** How many sockets of this user a front holds now (absolute, so a resend is harmless). */
  | { readonly type: 'presence'; readonly front: string; readonly connections: number }
  /** A ready-to-send frame for every device of this user. */
  | { readonly type: 'deliver'; readonly frame: string }
  | { readonly type: 'conversations' };

export type ActorMessage = ConversationMessage | SessionMessage;

export interface SendAck {
  readonly conversationId: ConversationId;
  readonly messageId: MessageId;
  readonly seq: number;
  readonly clientMsgId: string;
  readonly sentAt: number;
  readonly duplicate: boolean;
}

export interface HistoryPage {
  readonly conversationId: ConversationId;
  readonly messages: readonly StoredMessage[];
  readonly hasMore: boolean;
}

export type ConversationInfo = ConversationRecord;
export type ConversationList = readonly ConversationSummary[];

/** The frame every member's devices receive for a new message. */
export function messageFrame(m: StoredMessage): string {
  return JSON.stringify({
    type: 'message',
    conversationId: m.conversationId,
    seq: m.seq,
    id: m.id,
    from: m.sender,
    clientMsgId: m.clientMsgId,
    body: m.body,
    sentAt: m.sentAt,
  });
}
