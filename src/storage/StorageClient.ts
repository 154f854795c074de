// Storage seen from any thread: each call travels to the embedded storage thread over a
// MessagePort (batched) and resolves with its reply. When the storage thread restarts,
// pending calls fail as unavailable and the supervisor hands over a fresh port.
import type { MessagePort } from 'node:worker_threads';
import { deserializeError, UnavailableError } from '../errors.ts';
import { BatchedPort } from '../supervisor/BatchedPort.ts';
import type { Storage } from './Storage.ts';
import type { StorageOp, StorageReply, StorageRequest } from './StorageProtocol.ts';

interface Pending { resolve(v: unknown): void; reject(e: Error): void }

export class StorageClient implements Storage {
  #port: BatchedPort<StorageRequest, StorageReply> | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  constructor(port?: MessagePort) {
    if (port) this.attach(port);
  }

  attach(port: MessagePort): void {
    const bp: BatchedPort<StorageRequest, StorageReply> = new BatchedPort(
      port,
      (reply) => this.#settle(reply),
      () => {
        if (this.#port === bp) {
          this.#port = null;
          this.#failAll('storage is restarting; retry');
        }
      },
    );
    this.#port = bp;
  }

  #settle(reply: StorageReply): void {
    const p = this.#pending.get(reply.id);
    if (!p) return;
    this.#pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.value);
    else p.reject(deserializeError(reply.error));
  }

  #failAll(message: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new UnavailableError(message));
  }

  #call<T>(op: StorageOp, ...args: unknown[]): Promise<T> {
    const port = this.#port;
    if (!port || port.closed) return Promise.reject(new UnavailableError('storage is not available; retry'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      port.send({ id, op, args });
    });
  }

  createUser: Storage['createUser'] = (u) => this.#call('createUser', u);
  findUserByName: Storage['findUserByName'] = (n) => this.#call('findUserByName', n);
  findUserById: Storage['findUserById'] = (id) => this.#call('findUserById', id);
  getConversation: Storage['getConversation'] = (id) => this.#call('getConversation', id);
  createConversation: Storage['createConversation'] = (c) => this.#call('createConversation', c);
  addMember: Storage['addMember'] = (id, u) => this.#call('addMember', id, u);
  removeMember: Storage['removeMember'] = (id, u) => this.#call('removeMember', id, u);
  listConversations: Storage['listConversations'] = (u) => this.#call('listConversations', u);
  appendMessage: Storage['appendMessage'] = (m) => this.#call('appendMessage', m);
  history: Storage['history'] = (id, since, limit) => this.#call('history', id, since, limit);
  shareFile: Storage['shareFile'] = (file, conv) => this.#call('shareFile', file, conv);
  fileSharedWith: Storage['fileSharedWith'] = (file, user) => this.#call('fileSharedWith', file, user);

  async close(): Promise<void> {
    this.#failAll('storage client closed');
    this.#port?.close();
    this.#port = null;
  }
}
