// Ids are types, not loose strings: a UserId cannot be handed where a ConversationId is wanted.
import { randomBytes } from 'node:crypto';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type UserId = Brand<string, 'UserId'>;
export type ConversationId = Brand<string, 'ConversationId'>;
export type MessageId = Brand<string, 'MessageId'>;
export type RoomId = Brand<string, 'RoomId'>;
export type FileId = Brand<string, 'FileId'>;
/** `session:<userId>`, `conv:<conversationId>` or `room:<roomId>`. */
export type ActorId = Brand<string, 'ActorId'>;

const USER_ID = /^u_[A-Za-z0-9_-]{16}$/;
const GROUP_ID = /^g_[A-Za-z0-9_-]{16}$/;
const DM_ID = /^dm_(u_[A-Za-z0-9_-]{16})_(u_[A-Za-z0-9_-]{16})$/;
const ROOM_ID = /^r_[A-Za-z0-9_-]{16}$/;
/** Also a safe file name on disk: no separators, no dots. */
const FILE_ID = /^f_[A-Za-z0-9_-]{16}$/;

function token(): string {
  return randomBytes(12).toString('base64url');
}

export const newUserId = (): UserId => `u_${token()}` as UserId;
export const newGroupId = (): ConversationId => `g_${token()}` as ConversationId;
export const newMessageId = (): MessageId => `m_${token()}` as MessageId;
export const newRoomId = (): RoomId => `r_${token()}` as RoomId;
export const newFileId = (): FileId => `f_${token()}` as FileId;

export function parseUserId(s: unknown): UserId | null {
  return typeof s === 'string' && USER_ID.test(s) ? (s as UserId) : null;
}

export function parseConversationId(s: unknown): ConversationId | null {
  if (typeof s !== 'string') return null;
  if (GROUP_ID.test(s)) return s as ConversationId;
  const dm = DM_ID.exec(s);
  // A DM id is canonical: the two users in sorted order, never the same user twice.
  if (dm && dm[1]! < dm[2]!) return s as ConversationId;
  return null;
}

export function parseRoomId(s: unknown): RoomId | null {
  return typeof s === 'string' && ROOM_ID.test(s) ? (s as RoomId) : null;
}

export function parseFileId(s: unknown): FileId | null {
  return typeof s === 'string' && FILE_ID.test(s) ? (s as FileId) : null;
}

/** The one conversation two users share, whichever of them asks. */
export function directConversationId(a: UserId, b: UserId): ConversationId {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `dm_${x}_${y}` as ConversationId;
}

export function directMembers(id: ConversationId): [UserId, UserId] | null {
  const dm = DM_ID.exec(id);
  return dm ? [dm[1] as UserId, dm[2] as UserId] : null;
}

export const sessionActor = (u: UserId): ActorId => `session:${u}` as ActorId;
export const conversationActor = (c: ConversationId): ActorId => `conv:${c}` as ActorId;
export const roomActor = (r: RoomId): ActorId => `room:${r}` as ActorId;

/** The kinds of actor there are (the prefix of an ActorId). */
export const ACTOR_KINDS = ['session', 'conv', 'room'] as const;

export function actorKind(id: ActorId): string {
  return id.slice(0, id.indexOf(':'));
}
export function actorKey(id: ActorId): string {
  return id.slice(id.indexOf(':') + 1);
}

/** FNV-1a: the actor id's shard, stable across processes and nodes. */
export function shardOf(id: ActorId, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
