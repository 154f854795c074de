// The embedded store: SQLite on local disk (WAL, synchronous=FULL). Synchronous and owned
// by one thread (EmbeddedStorageServer); every method runs inside that thread's group commit.
import Database from 'better-sqlite3';
import { AlreadyExistsError, NotFoundError } from '../errors.ts';
import type { ConversationId, FileId, UserId } from '../ids.ts';
import type {
  AppendResult, Attachment, ConversationRecord, ConversationSummary, NewMessage, StoredMessage, UserRecord,
} from './Storage.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  owner TEXT,
  created_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS members (
  conversation_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id, conversation_id);
CREATE TABLE IF NOT EXISTS messages (
  conversation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  sender TEXT NOT NULL,
  client_msg_id TEXT NOT NULL,
  body TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS messages_dedup ON messages (conversation_id, sender, client_msg_id);
CREATE TABLE IF NOT EXISTS file_shares (
  file_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  PRIMARY KEY (file_id, conversation_id)
) WITHOUT ROWID;
`;

/** Columns added after a table's first release: [table, column, definition]. */
const ADDED_COLUMNS: readonly [string, string, string][] = [
  ['messages', 'attachment', 'TEXT'], // JSON of the Attachment, or NULL
];

interface UserRow { id: string; username: string; password_hash: string; created_at: number }
interface ConvRow { id: string; kind: string; name: string; owner: string | null; created_at: number; last_seq: number }
interface MessageRow {
  conversation_id: string; seq: number; id: string; sender: string; client_msg_id: string; body: string; sent_at: number;
  attachment: string | null;
}

const toUser = (r: UserRow): UserRecord => ({
  id: r.id as UserId, username: r.username, passwordHash: r.password_hash, createdAt: r.created_at,
});

const toMessage = (r: MessageRow): StoredMessage => ({
  id: r.id as StoredMessage['id'],
  conversationId: r.conversation_id as ConversationId,
  seq: r.seq,
  sender: r.sender as UserId,
  clientMsgId: r.client_msg_id,
  body: r.body,
  sentAt: r.sent_at,
  ...(r.attachment === null ? {} : { attachment: JSON.parse(r.attachment) as Attachment }),
});

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export class SqliteStore {
  readonly db: Database.Database;
  readonly #q;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk when it returns. We pay for it once per group commit.
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
    for (const [table, column, definition] of ADDED_COLUMNS) {
      const columns = this.db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all();
      if (!columns.some((c) => c.name === column)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    }
    const db = this.db;
    this.#q = {
      insertUser: db.prepare('INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, ?, ?)'),
      userByName: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
      userById: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      conv: db.prepare<[string], ConvRow>('SELECT * FROM conversations WHERE id = ?'),
      convMembers: db.prepare<[string], { user_id: string }>('SELECT user_id FROM members WHERE conversation_id = ? ORDER BY user_id'),
      insertConv: db.prepare('INSERT OR IGNORE INTO conversations (id, kind, name, owner, created_at) VALUES (?, ?, ?, ?, ?)'),
      insertMember: db.prepare('INSERT OR IGNORE INTO members (conversation_id, user_id) VALUES (?, ?)'),
      deleteMember: db.prepare('DELETE FROM members WHERE conversation_id = ? AND user_id = ?'),
      myConvs: db.prepare<[string], ConvRow>(
        `SELECT c.* FROM members m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.user_id = ? ORDER BY c.created_at, c.id`),
      byClientId: db.prepare<[string, string, string], MessageRow>(
        'SELECT * FROM messages WHERE conversation_id = ? AND sender = ? AND client_msg_id = ?'),
      nextSeq: db.prepare<[string], { last_seq: number }>(
        'UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq'),
      insertMessage: db.prepare(
        'INSERT INTO messages (conversation_id, seq, id, sender, client_msg_id, body, sent_at, attachment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      history: db.prepare<[string, number, number], MessageRow>(
        'SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      shareFile: db.prepare('INSERT OR IGNORE INTO file_shares (file_id, conversation_id) VALUES (?, ?)'),
      sharedWith: db.prepare<[string, string], { one: number }>(
        `SELECT 1 AS one FROM file_shares s JOIN members m ON m.conversation_id = s.conversation_id
         WHERE s.file_id = ? AND m.user_id = ? LIMIT 1`),
    };
  }

  createUser(u: UserRecord): void {
    try {
      this.#q.insertUser.run(u.id, u.username, u.passwordHash, u.createdAt);
    } catch (e) {
      if (isUniqueViolation(e)) throw new AlreadyExistsError(`username "${u.username}" is taken`);
      throw e;
    }
  }

  findUserByName(username: string): UserRecord | null {
    const r = this.#q.userByName.get(username);
    return r ? toUser(r) : null;
  }

  findUserById(id: UserId): UserRecord | null {
    const r = this.#q.userById.get(id);
    return r ? toUser(r) : null;
  }

  getConversation(id: ConversationId): ConversationRecord | null {
    const r = this.#q.conv.get(id);
    if (!r) return null;
    const members = this.#q.convMembers.all(id).map((m) => m.user_id as UserId);
    return {
      id, kind: r.kind as ConversationRecord['kind'], name: r.name, owner: r.owner as UserId | null,
      createdAt: r.created_at, members,
    };
  }

  createConversation(c: ConversationRecord): void {
    const inserted = this.#q.insertConv.run(c.id, c.kind, c.name, c.owner, c.createdAt).changes > 0;
    if (!inserted) return;
    for (const m of c.members) this.#q.insertMember.run(c.id, m);
  }

  addMember(id: ConversationId, user: UserId): void {
    this.#q.insertMember.run(id, user);
  }

  removeMember(id: ConversationId, user: UserId): void {
    this.#q.deleteMember.run(id, user);
  }

  listConversations(user: UserId): ConversationSummary[] {
    return this.#q.myConvs.all(user).map((r) => ({
      id: r.id as ConversationId, kind: r.kind as ConversationSummary['kind'], name: r.name, lastSeq: r.last_seq,
    }));
  }

  appendMessage(m: NewMessage): AppendResult {
    const existing = this.#q.byClientId.get(m.conversationId, m.sender, m.clientMsgId);
    if (existing) return { message: toMessage(existing), duplicate: true };
    const next = this.#q.nextSeq.get(m.conversationId);
    if (!next) throw new NotFoundError('conversation not found');
    this.#q.insertMessage.run(m.conversationId, next.last_seq, m.id, m.sender, m.clientMsgId, m.body, m.sentAt,
      m.attachment ? JSON.stringify(m.attachment) : null);
    return { message: { ...m, seq: next.last_seq }, duplicate: false };
  }

  history(id: ConversationId, sinceSeq: number, limit: number): StoredMessage[] {
    return this.#q.history.all(id, sinceSeq, limit).map(toMessage);
  }

  shareFile(file: FileId, conversation: ConversationId): void {
    this.#q.shareFile.run(file, conversation);
  }

  fileSharedWith(file: FileId, user: UserId): boolean {
    return this.#q.sharedWith.get(file, user) !== undefined;
  }

  close(): void {
    this.db.close();
  }
}
