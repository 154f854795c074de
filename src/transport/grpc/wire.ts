// The proto messages of the served services as JS objects (the shapes protos.ts's loader
// options give: lowerCamelCase fields, int64 as number, enums by name, the set member of a
// oneof named by the oneof), and the one conversion from each internal type to them.
import type { Session } from '../../auth/AuthService.ts';
import type {
  HistoryPage, RoomCloseReason, RoomLeaveReason, RoomMember as RoomSeat, RoomMode, RoomView, SendAck,
} from '../../actors/messages.ts';
import type { FileMeta, QuotaUse } from '../../files/FileStore.ts';
import type { UserId } from '../../ids.ts';
import type { FileView } from '../../service/FileService.ts';
import type { IssuedKey } from '../../service/RoomService.ts';
import type {
  Attachment as StoredAttachment, ConversationRecord, ConversationSummary, StoredMessage,
} from '../../storage/Storage.ts';

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

/** google.protobuf.Duration */
export interface Duration {
  readonly seconds: number;
  readonly nanos: number;
}

const NS_PER_S = 1_000_000_000;

/** A duration in seconds (fractional when it has nanos), or undefined when it is unset. */
export const durationSeconds = (d: Duration | null): number | undefined => (d ? d.seconds + d.nanos / NS_PER_S : undefined);

/** google.protobuf.Value: a JSON value. */
export type Value =
  | { readonly nullValue: 'NULL_VALUE' }
  | { readonly numberValue: number }
  | { readonly stringValue: string }
  | { readonly boolValue: boolean }
  | { readonly structValue: Struct }
  | { readonly listValue: { readonly values: readonly Value[] } };

/** google.protobuf.Struct: a JSON object. */
export interface Struct {
  readonly fields: Readonly<Record<string, Value>>;
}

/** google.protobuf.Empty */
export type Empty = Record<string, never>;

export const struct = (o: object): Struct => ({ fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, jsonValue(v)])) });

function jsonValue(v: unknown): Value {
  switch (typeof v) {
    case 'number': return { numberValue: v };
    case 'string': return { stringValue: v };
    case 'boolean': return { boolValue: v };
    case 'object':
      if (v === null) return { nullValue: 'NULL_VALUE' };
      return Array.isArray(v) ? { listValue: { values: v.map(jsonValue) } } : { structValue: struct(v) };
    default: // undefined, a function: parsed JSON holds none
      return { nullValue: 'NULL_VALUE' };
  }
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

export interface Attachment {
  readonly fileId: string;
  readonly filename: string;
  readonly contentType: string;
  readonly sizeBytes: number;
}

export interface Message {
  readonly messageId: string;
  readonly conversationId: string;
  readonly seq: number;
  readonly senderId: string;
  readonly clientMsgId: string;
  readonly body: string;
  readonly sendTime: Timestamp;
  /** Null when the message carries no file. */
  readonly attachment: Attachment | null;
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
  /** Empty: no file. */
  readonly fileId: string;
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
  | { readonly message: Message }
  | { readonly roomEvent: RoomEvent };

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

export const attachment = (a: StoredAttachment): Attachment => ({
  fileId: a.fileId, filename: a.name, contentType: a.contentType, sizeBytes: a.size,
});

export const message = (m: StoredMessage): Message => ({
  messageId: m.id,
  conversationId: m.conversationId,
  seq: m.seq,
  senderId: m.sender,
  clientMsgId: m.clientMsgId,
  body: m.body,
  sendTime: timestamp(m.sentAt),
  attachment: m.attachment ? attachment(m.attachment) : null,
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

// RoomService

export type RoomModeName = 'MODE_UNSPECIFIED' | 'SFU' | 'P2P';
export type RoomLeaveReasonName = 'REASON_UNSPECIFIED' | 'LEFT' | 'DISCONNECTED';
export type RoomCloseReasonName = 'REASON_UNSPECIFIED' | 'CLOSED_BY_OWNER' | 'EMPTY' | 'LIFETIME' | 'MEDIA_FAILED' | 'HOST_FAILED';

export interface RoomMember {
  readonly userId: string;
  readonly joinTime: Timestamp;
  readonly online: boolean;
}

export interface Room {
  readonly roomId: string;
  readonly ownerId: string;
  readonly mode: RoomModeName;
  readonly createTime: Timestamp;
  readonly expireTime: Timestamp;
  readonly maxMembers: number;
  readonly members: readonly RoomMember[];
}

export interface RoomKey {
  readonly roomId: string;
  readonly userId: string;
  readonly key: string;
  readonly expireTime: Timestamp;
}

/** GetRoom, LeaveRoom, ListRoomMembers and CloseRoom requests: the room alone. */
export interface RoomRequest {
  readonly roomId: string;
}

export interface IssueRoomKeyRequest extends RoomRequest {
  readonly userId: string;
  readonly ttl: Duration | null;
}

export interface JoinRoomRequest extends RoomRequest {
  readonly key: string;
}

export interface ListRoomMembersResponse {
  readonly members: readonly RoomMember[];
}

export type RoomEvent = { readonly roomId: string; readonly seq: number } & (
  | { readonly memberJoined: { readonly userId: string } }
  | { readonly memberLeft: { readonly userId: string; readonly reason: RoomLeaveReasonName } }
  | { readonly closed: { readonly reason: RoomCloseReasonName } }
  | { readonly signal: { readonly fromUserId: string; readonly data: Struct } }
);

const MODE: Readonly<Record<RoomMode, RoomModeName>> = { sfu: 'SFU', p2p: 'P2P' };
const LEFT_REASON: Readonly<Record<RoomLeaveReason, RoomLeaveReasonName>> = { left: 'LEFT', disconnected: 'DISCONNECTED' };
const CLOSE_REASON: Readonly<Record<RoomCloseReason, RoomCloseReasonName>> = {
  closed_by_owner: 'CLOSED_BY_OWNER', empty: 'EMPTY', lifetime: 'LIFETIME', media_failed: 'MEDIA_FAILED', host_failed: 'HOST_FAILED',
};

export const roomMember = (m: RoomSeat): RoomMember => ({ userId: m.userId, joinTime: timestamp(m.joinedAt), online: m.online });

export const room = (v: RoomView): Room => ({
  roomId: v.id,
  ownerId: v.owner,
  mode: MODE[v.mode],
  createTime: timestamp(v.createdAt),
  expireTime: timestamp(v.expiresAt),
  maxMembers: v.maxMembers,
  members: v.members.map(roomMember),
});

export const roomKey = (k: IssuedKey): RoomKey => ({ roomId: k.roomId, userId: k.userId, key: k.key, expireTime: timestamp(k.expiresAt) });

// FileService

export interface File {
  readonly fileId: string;
  readonly ownerId: string;
  readonly filename: string;
  readonly contentType: string;
  readonly sizeBytes: number;
  readonly createTime: Timestamp;
  readonly sha256: string;
}

export interface FileMetadata {
  readonly filename: string;
  readonly contentType: string;
  /** 0: not declared. */
  readonly sizeBytes: number;
}

export type UploadFileRequest =
  | { readonly data: 'metadata'; readonly metadata: FileMetadata }
  | { readonly data: 'chunk'; readonly chunk: Buffer }
  /** Neither set (a client sent an empty message). */
  | { readonly data?: undefined };

export interface DownloadFileRequest {
  readonly fileId: string;
  readonly offset: number;
  /** 0: to the end. */
  readonly length: number;
}

export type DownloadFileResponse = { readonly file: File } | { readonly chunk: Buffer };

/** DeleteFile's request. */
export interface FileRequest {
  readonly fileId: string;
}

export interface Quota {
  readonly usedBytes: number;
  readonly limitBytes: number;
  readonly maxFileBytes: number;
  readonly reservedBytes: number;
}

export interface ListFilesResponse {
  readonly files: readonly File[];
  readonly quota: Quota;
}

/** A file as a reader is told of it (DownloadFile). */
export const storedFile = (m: FileMeta): File => ({
  fileId: m.id, ownerId: m.owner, filename: m.name, contentType: m.contentType, sizeBytes: m.size,
  createTime: timestamp(m.createdAt), sha256: m.sha256,
});

/** One of `owner`'s files, as FileService answers its owner (UploadFile, ListFiles). */
export const ownFile = (v: FileView, owner: UserId): File => ({
  fileId: v.fileId, ownerId: owner, filename: v.name, contentType: v.contentType, sizeBytes: v.size,
  createTime: timestamp(v.createdAt), sha256: v.sha256,
});

export const quota = (q: QuotaUse): Quota => ({
  usedBytes: q.usedBytes, limitBytes: q.limitBytes, maxFileBytes: q.maxFileBytes, reservedBytes: q.reservedBytes,
});

// Pushed frames

/** What is pushed to a user, as every front gets it: `messageFrame`'s, and the rooms' (RoomActor, RoomDirectory). */
type PushedFrame =
  | { readonly type: 'message' } & PushedMessage
  | { readonly type: 'room.member.joined'; readonly roomId: string; readonly seq: number; readonly userId: string }
  | { readonly type: 'room.member.left'; readonly roomId: string; readonly seq: number; readonly userId: string; readonly reason: RoomLeaveReason }
  /** Without `seq` when the room's host died. */
  | { readonly type: 'room.closed'; readonly roomId: string; readonly seq?: number; readonly reason: RoomCloseReason }
  | { readonly type: 'room.signal'; readonly roomId: string; readonly from: string; readonly data: object };

/** What `messageFrame` writes. */
type PushedMessage = Omit<StoredMessage, 'sender'> & { readonly from: StoredMessage['sender'] };

/**
 * The event for a frame pushed to the user (JSON text), or null for a kind of frame this
 * stream does not carry (`room.media.*`: SFU media is not served over gRPC).
 */
export function eventOfPush(frame: string): SubscribeEventsResponse | null {
  const f = JSON.parse(frame) as PushedFrame;
  const inRoom = (r: { roomId: string; seq?: number }) => ({ roomId: r.roomId, seq: r.seq ?? 0 });
  switch (f.type) {
    case 'message':
      return {
        message: message({
          id: f.id, conversationId: f.conversationId, seq: f.seq, sender: f.from,
          clientMsgId: f.clientMsgId, body: f.body, sentAt: f.sentAt, ...(f.attachment && { attachment: f.attachment }),
        }),
      };
    case 'room.member.joined':
      return { roomEvent: { ...inRoom(f), memberJoined: { userId: f.userId } } };
    case 'room.member.left':
      return { roomEvent: { ...inRoom(f), memberLeft: { userId: f.userId, reason: LEFT_REASON[f.reason] } } };
    case 'room.closed':
      return { roomEvent: { ...inRoom(f), closed: { reason: CLOSE_REASON[f.reason] } } };
    case 'room.signal':
      return { roomEvent: { ...inRoom(f), signal: { fromUserId: f.from, data: struct(f.data) } } };
    default:
      return null;
  }
}
