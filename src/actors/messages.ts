// The messages actors understand, and what they answer. Plain data: they cross threads.
import type { ConversationId, MessageId, RoomId, UserId } from '../ids.ts';
import type { Attachment, ConversationRecord, ConversationSummary, StoredMessage } from '../storage/Storage.ts';

export type ConversationMessage =
  /** `attachment`: a file the front has checked the sender owns. */
  | { readonly type: 'send'; readonly from: UserId; readonly clientMsgId: string; readonly body: string; readonly attachment?: Attachment }
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
  | { readonly type: 'conversations' }
  /** A room this user is a member of: tell it now and at every change whether the user is online. */
  | { readonly type: 'watchRoom'; readonly room: RoomId }
  | { readonly type: 'unwatchRoom'; readonly room: RoomId };

/** How a room carries media: through a mediasoup router, or peer to peer with our signaling. */
export type RoomMode = 'sfu' | 'p2p';
export type RoomCloseReason = 'closed_by_owner' | 'empty' | 'lifetime' | 'media_failed' | 'host_failed';
export type RoomLeaveReason = 'left' | 'disconnected';
export type RoomTimer = 'grace' | 'empty' | 'lifetime';

export type RoomMessage =
  | { readonly type: 'create'; readonly owner: UserId; readonly mode: RoomMode; readonly home: string }
  /** May `by` issue a room key? (Only the owner of an open room.) */
  | { readonly type: 'issueKey'; readonly by: UserId }
  /** The front has verified the user's room key. */
  /** `online`: does the front know of a connection of the user? The seat's state until the session actor says. */
  | { readonly type: 'join'; readonly user: UserId; readonly online?: boolean }
  | { readonly type: 'leave'; readonly user: UserId }
  | { readonly type: 'members'; readonly user: UserId }
  | { readonly type: 'close'; readonly by: UserId }
  | { readonly type: 'signal'; readonly from: UserId; readonly to: UserId; readonly data: unknown }
  /** May `user` use the room's media? Answers the room's mode. */
  | { readonly type: 'media'; readonly user: UserId }
  /** A media event for every other member. */
  | { readonly type: 'relay'; readonly from: UserId; readonly frame: string }
  /** From the member's session actor. */
  | { readonly type: 'memberPresence'; readonly user: UserId; readonly online: boolean }
  /** Register with the members' session actors again (theirs may have been restarted). */
  | { readonly type: 'rewatch' }
  | { readonly type: 'mediaFailed' }
  /** Scheduled by the room to itself; `gen` tells a stale one from the current one. */
  | { readonly type: 'timer'; readonly timer: RoomTimer; readonly gen: number; readonly user?: UserId };

export type ActorMessage = ConversationMessage | SessionMessage | RoomMessage;

/** Events an actor addresses to a front's own services (not to a user). */
export type FrontEvent =
  /** A room homed on that front: who is in it now, or that it closed. */
  | { readonly kind: 'room'; readonly room: RoomId; readonly members: readonly UserId[]; readonly closed: boolean };

export interface RoomMember {
  readonly userId: UserId;
  readonly joinedAt: number;
  /** False while the member has no connection left (in the grace period). */
  readonly online: boolean;
}

export interface RoomView {
  readonly id: RoomId;
  readonly owner: UserId;
  readonly mode: RoomMode;
  readonly createdAt: number;
  /** When the room reaches its maximum lifetime. */
  readonly expiresAt: number;
  readonly maxMembers: number;
  readonly members: readonly RoomMember[];
}

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
    attachment: m.attachment,
  });
}
