// What the rest of Switchboard needs from storage. Two implementations pass one contract
// suite: embedded (SQLite on local disk, one writer thread) and MongoDB (cluster mode).
import type { ConversationId, FileId, MessageId, UserId } from '../ids.ts';

export interface UserRecord {
  readonly id: UserId;
  readonly username: string;
  readonly passwordHash: string;
  readonly createdAt: number;
}

export type ConversationKind = 'direct' | 'group';

export interface ConversationRecord {
  readonly id: ConversationId;
  readonly kind: ConversationKind;
  readonly name: string;
  readonly owner: UserId | null;
  readonly createdAt: number;
  readonly members: readonly UserId[];
}

export interface ConversationSummary {
  readonly id: ConversationId;
  readonly kind: ConversationKind;
  readonly name: string;
  readonly lastSeq: number;
}

/** A file a message carries: what a member needs to show and download it. */
export interface Attachment {
  readonly fileId: FileId;
  readonly name: string;
  readonly size: number;
  readonly contentType: string;
}

export interface StoredMessage {
  readonly id: MessageId;
  readonly conversationId: ConversationId;
  readonly seq: number;
  readonly sender: UserId;
  readonly clientMsgId: string;
  readonly body: string;
  readonly sentAt: number;
  /** Absent when the message carries no file. */
  readonly attachment?: Attachment;
}

export interface NewMessage {
  readonly id: MessageId;
  readonly conversationId: ConversationId;
  readonly sender: UserId;
  readonly clientMsgId: string;
  readonly body: string;
  readonly sentAt: number;
  readonly attachment?: Attachment;
}

export interface AppendResult {
  readonly message: StoredMessage;
  /** True when (conversation, sender, clientMsgId) was already stored: nothing new was written. */
  readonly duplicate: boolean;
}

export interface Storage {
  /** Throws AlreadyExistsError when the username is taken. */
  createUser(user: UserRecord): Promise<void>;
  findUserByName(username: string): Promise<UserRecord | null>;
  findUserById(id: UserId): Promise<UserRecord | null>;

  getConversation(id: ConversationId): Promise<ConversationRecord | null>;
  /** Idempotent: creating an id that exists changes nothing. */
  createConversation(conv: ConversationRecord): Promise<void>;
  addMember(id: ConversationId, user: UserId): Promise<void>;
  removeMember(id: ConversationId, user: UserId): Promise<void>;
  listConversations(user: UserId): Promise<ConversationSummary[]>;

  /**
   * Stores a message with the conversation's next seq. Durable when the promise resolves.
   * A (conversation, sender, clientMsgId) seen before returns the stored message instead.
   */
  appendMessage(msg: NewMessage): Promise<AppendResult>;
  /** Messages with seq > sinceSeq, in seq order, at most `limit`. */
  history(id: ConversationId, sinceSeq: number, limit: number): Promise<StoredMessage[]>;

  /** Records that `file` was shared in `conversation`: its members may read it. Idempotent. */
  shareFile(file: FileId, conversation: ConversationId): Promise<void>;
  /** Is `user` now a member of a conversation where `file` was shared? */
  fileSharedWith(file: FileId, user: UserId): Promise<boolean>;

  close(): Promise<void>;
}
