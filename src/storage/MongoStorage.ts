// Storage on MongoDB (cluster mode), with the official driver. Every thread that needs
// storage opens its own client. The seq of a conversation is max(seq)+1 kept in memory by
// the one thread that owns the conversation, fenced by a unique (conversationId, seq) index:
// no counter document, so a crash between two writes can never leave a gap.
import { MongoClient, MongoError, MongoServerError, type Collection, type Db } from 'mongodb';
import { AlreadyExistsError, NotFoundError, UnavailableError } from '../errors.ts';
import type { ConversationId, FileId, MessageId, UserId } from '../ids.ts';
import type {
  AppendResult, Attachment, ConversationRecord, ConversationSummary, NewMessage, Storage, StoredMessage, UserRecord,
} from './Storage.ts';

export const MONGO_TIMEOUTS = { serverSelectionMs: 2_000, connectMs: 2_000, socketMs: 10_000 } as const;
/** How often an append retries when another node wrote the same seq (ownership moving). */
export const SEQ_CONFLICT_RETRIES = 5;
const DUPLICATE_KEY = 11000;

interface UserDoc { _id: string; username: string; usernameLower: string; passwordHash: string; createdAt: number }
interface ConvDoc { _id: string; kind: ConversationRecord['kind']; name: string; owner: string | null; createdAt: number; lastSeq: number; members: string[] }
interface MessageDoc { _id: string; conversationId: string; seq: number; sender: string; clientMsgId: string; body: string; sentAt: number; attachment?: Attachment }
/** `_id`: file and conversation, so a share is recorded once. */
interface FileShareDoc { _id: string; fileId: string; conversationId: string }

const toMessage = (d: MessageDoc): StoredMessage => ({
  id: d._id as MessageId, conversationId: d.conversationId as ConversationId, seq: d.seq, sender: d.sender as UserId,
  clientMsgId: d.clientMsgId, body: d.body, sentAt: d.sentAt, ...(d.attachment ? { attachment: d.attachment } : {}),
});

function isDuplicateKey(e: unknown, index?: string): boolean {
  return e instanceof MongoServerError && e.code === DUPLICATE_KEY && (!index || String(e.message).includes(index));
}

/** Driver errors that mean "the database is away", as opposed to a bad request. */
export function unavailable(e: unknown): unknown {
  if (e instanceof MongoServerError) return e;
  if (e instanceof MongoError) return new UnavailableError('database unavailable; retry');
  return e;
}

/** A client with our timeouts and durable writes; it connects on its first operation (and reconnects by itself). */
export function newMongoClient(url: string): MongoClient {
  return new MongoClient(url, {
    serverSelectionTimeoutMS: MONGO_TIMEOUTS.serverSelectionMs,
    connectTimeoutMS: MONGO_TIMEOUTS.connectMs,
    socketTimeoutMS: MONGO_TIMEOUTS.socketMs,
    writeConcern: { w: 'majority', journal: true },
    retryWrites: false,
  });
}

export class MongoStorage implements Storage {
  readonly #client: MongoClient;
  readonly #db: Db;
  readonly #users: Collection<UserDoc>;
  readonly #convs: Collection<ConvDoc>;
  readonly #messages: Collection<MessageDoc>;
  readonly #fileShares: Collection<FileShareDoc>;
  /** conversation -> last seq this thread knows (it owns the conversation) */
  readonly #lastSeq = new Map<string, number>();
  /** conversation -> tail of its append chain: appends of one conversation run one by one */
  readonly #chains = new Map<string, Promise<unknown>>();

  private constructor(client: MongoClient) {
    this.#client = client;
    this.#db = client.db();
    this.#users = this.#db.collection('users');
    this.#convs = this.#db.collection('conversations');
    this.#messages = this.#db.collection('messages');
    this.#fileShares = this.#db.collection('file_shares');
  }

  static async connect(url: string, { createIndexes = false } = {}): Promise<MongoStorage> {
    const s = MongoStorage.open(url);
    if (createIndexes) await s.ensureIndexes();
    return s;
  }

  /** A client that connects on its first operation (and reconnects by itself). */
  static open(url: string): MongoStorage {
    return new MongoStorage(newMongoClient(url));
  }

  ensureIndexes(): Promise<void> {
    return this.#guard(() => this.#createIndexes());
  }

  async #createIndexes(): Promise<void> {
    await this.#users.createIndex({ usernameLower: 1 }, { unique: true, name: 'users_username' });
    await this.#convs.createIndex({ members: 1 }, { name: 'conversations_members' });
    await this.#messages.createIndex({ conversationId: 1, seq: 1 }, { unique: true, name: 'messages_seq' });
    await this.#messages.createIndex({ conversationId: 1, sender: 1, clientMsgId: 1 }, { unique: true, name: 'messages_dedup' });
    await this.#fileShares.createIndex({ fileId: 1 }, { name: 'file_shares_file' });
  }

  async #guard<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw unavailable(e);
    }
  }

  createUser(u: UserRecord): Promise<void> {
    return this.#guard(async () => {
      try {
        await this.#users.insertOne({
          _id: u.id, username: u.username, usernameLower: u.username.toLowerCase(), passwordHash: u.passwordHash, createdAt: u.createdAt,
        });
      } catch (e) {
        if (isDuplicateKey(e)) throw new AlreadyExistsError(`username "${u.username}" is taken`);
        throw e;
      }
    });
  }

  #user(d: UserDoc | null): UserRecord | null {
    return d && { id: d._id as UserId, username: d.username, passwordHash: d.passwordHash, createdAt: d.createdAt };
  }

  findUserByName(username: string): Promise<UserRecord | null> {
    return this.#guard(async () => this.#user(await this.#users.findOne({ usernameLower: username.toLowerCase() })));
  }

  findUserById(id: UserId): Promise<UserRecord | null> {
    return this.#guard(async () => this.#user(await this.#users.findOne({ _id: id })));
  }

  getConversation(id: ConversationId): Promise<ConversationRecord | null> {
    return this.#guard(async () => {
      const d = await this.#convs.findOne({ _id: id });
      return d && {
        id, kind: d.kind, name: d.name, owner: d.owner as UserId | null, createdAt: d.createdAt,
        members: [...d.members].sort() as UserId[],
      };
    });
  }

  createConversation(c: ConversationRecord): Promise<void> {
    return this.#guard(async () => {
      await this.#convs.updateOne({ _id: c.id }, {
        $setOnInsert: { kind: c.kind, name: c.name, owner: c.owner, createdAt: c.createdAt, lastSeq: 0, members: [...c.members] },
      }, { upsert: true });
    });
  }

  addMember(id: ConversationId, user: UserId): Promise<void> {
    return this.#guard(async () => { await this.#convs.updateOne({ _id: id }, { $addToSet: { members: user } }); });
  }

  removeMember(id: ConversationId, user: UserId): Promise<void> {
    return this.#guard(async () => { await this.#convs.updateOne({ _id: id }, { $pull: { members: user } }); });
  }

  listConversations(user: UserId): Promise<ConversationSummary[]> {
    return this.#guard(async () => {
      const docs = await this.#convs.find({ members: user }).sort({ createdAt: 1, _id: 1 }).toArray();
      return docs.map((d) => ({ id: d._id as ConversationId, kind: d.kind, name: d.name, lastSeq: d.lastSeq }));
    });
  }

  appendMessage(m: NewMessage): Promise<AppendResult> {
    const tail = this.#chains.get(m.conversationId) ?? Promise.resolve();
    const next = tail.then(() => this.#guard(() => this.#append(m)));
    const settled = next.catch(() => {});
    this.#chains.set(m.conversationId, settled);
    void settled.then(() => { if (this.#chains.get(m.conversationId) === settled) this.#chains.delete(m.conversationId); });
    return next;
  }

  /** Insert first: the dedup index answers "seen before?" in the same round trip. */
  async #append(m: NewMessage): Promise<AppendResult> {
    for (let attempt = 0; attempt < SEQ_CONFLICT_RETRIES; attempt++) {
      const seq = (await this.#knownLastSeq(m.conversationId)) + 1;
      try {
        await this.#messages.insertOne({
          _id: m.id, conversationId: m.conversationId, seq, sender: m.sender, clientMsgId: m.clientMsgId, body: m.body, sentAt: m.sentAt,
          ...(m.attachment ? { attachment: m.attachment } : {}),
        });
      } catch (e) {
        if (isDuplicateKey(e, 'messages_dedup')) {
          const stored = await this.#messages.findOne({ conversationId: m.conversationId, sender: m.sender, clientMsgId: m.clientMsgId });
          if (stored) return { message: toMessage(stored), duplicate: true };
        }
        if (isDuplicateKey(e)) {
          // Another node wrote this seq (ownership was moving): learn the real last seq.
          this.#lastSeq.delete(m.conversationId);
          continue;
        }
        throw e;
      }
      this.#lastSeq.set(m.conversationId, seq);
      // Best effort, for "my conversations": the messages are the truth.
      await this.#convs.updateOne({ _id: m.conversationId }, { $max: { lastSeq: seq } });
      return { message: { ...m, seq }, duplicate: false };
    }
    throw new UnavailableError('conversation is moving between nodes; retry');
  }

  async #knownLastSeq(conversationId: ConversationId): Promise<number> {
    const known = this.#lastSeq.get(conversationId);
    if (known !== undefined) return known;
    if (!(await this.#convs.findOne({ _id: conversationId }, { projection: { _id: 1 } }))) {
      throw new NotFoundError('conversation not found');
    }
    const last = await this.#messages.find({ conversationId }).sort({ seq: -1 }).limit(1).next();
    return last?.seq ?? 0;
  }

  history(id: ConversationId, sinceSeq: number, limit: number): Promise<StoredMessage[]> {
    return this.#guard(async () => {
      const docs = await this.#messages.find({ conversationId: id, seq: { $gt: sinceSeq } }).sort({ seq: 1 }).limit(limit).toArray();
      return docs.map(toMessage);
    });
  }

  shareFile(file: FileId, conversation: ConversationId): Promise<void> {
    return this.#guard(async () => {
      try {
        await this.#fileShares.updateOne({ _id: `${file}:${conversation}` },
          { $setOnInsert: { fileId: file, conversationId: conversation } }, { upsert: true });
      } catch (e) {
        if (!isDuplicateKey(e)) throw e; // recorded by a racing share
      }
    });
  }

  fileSharedWith(file: FileId, user: UserId): Promise<boolean> {
    return this.#guard(async () => {
      const shares = await this.#fileShares.find({ fileId: file }, { projection: { conversationId: 1 } }).toArray();
      if (shares.length === 0) return false;
      return (await this.#convs.findOne({ _id: { $in: shares.map((s) => s.conversationId) }, members: user }, { projection: { _id: 1 } })) !== null;
    });
  }

  /** Forget what this thread knew about conversations (it no longer owns them). */
  forget(): void {
    this.#lastSeq.clear();
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
