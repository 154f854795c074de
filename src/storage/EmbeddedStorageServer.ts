// The one thread that owns the embedded SQLite database. Requests from every thread are
// queued and run in order inside one transaction per turn of the event loop: a group commit,
// one fsync for all the writes of that turn, then every reply. Reads ride in the same
// batch, so a thread always reads its own earlier writes.
import { EventEmitter } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import { serializeError, UnavailableError } from '../errors.ts';
import { log } from '../log.ts';
import { BatchedPort } from '../supervisor/BatchedPort.ts';
import type { SqliteStore } from './SqliteStore.ts';
import { READ_OPS, type StorageReply, type StorageRequest } from './StorageProtocol.ts';

interface Queued {
  readonly req: StorageRequest;
  readonly client: BatchedPort<StorageReply, StorageRequest>;
}

type Invoke = (...args: unknown[]) => unknown;

export class EmbeddedStorageServer {
  readonly #store: SqliteStore;
  #queue: Queued[] = [];
  #scheduled = false;
  readonly #clients = new Set<BatchedPort<StorageReply, StorageRequest>>();
  /** Observed by tests and benchmarks: how many requests each commit carried. */
  readonly stats = { commits: 0, requests: 0 };
  /** For monitoring: 'commit' (requests in it, seconds it took). Never steers. */
  readonly observer = new EventEmitter();

  constructor(store: SqliteStore) {
    this.#store = store;
  }

  attach(port: MessagePort): void {
    const client: BatchedPort<StorageReply, StorageRequest> = new BatchedPort(
      port,
      (req) => this.#enqueue({ req, client }),
      () => this.#clients.delete(client),
    );
    this.#clients.add(client);
  }

  #enqueue(q: Queued): void {
    this.#queue.push(q);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  #flush = (): void => {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const replies: StorageReply[] = new Array(batch.length);
    const writes = batch.some((q) => !READ_OPS.has(q.req.op));
    const db = this.#store.db;
    const runAll = (): void => {
      batch.forEach((q, i) => {
        replies[i] = this.#runOne(q.req, writes);
      });
    };
    const started = performance.now();
    try {
      if (writes) db.transaction(runAll).immediate();
      else runAll();
      this.stats.commits += writes ? 1 : 0;
      this.stats.requests += batch.length;
      if (writes) this.observer.emit('commit', batch.length, (performance.now() - started) / 1000);
    } catch (e) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is stored.
      log.error('storage commit failed', { err: String(e), requests: batch.length });
      const error = serializeError(new UnavailableError('storage write failed; retry'));
      batch.forEach((q, i) => { replies[i] = { id: q.req.id, ok: false, error }; });
    }
    batch.forEach((q, i) => q.client.send(replies[i]!));
  };

  #runOne(req: StorageRequest, inTransaction: boolean): StorageReply {
    const method = (this.#store as unknown as Record<string, Invoke>)[req.op];
    try {
      if (typeof method !== 'function') throw new Error(`unknown storage op ${req.op}`);
      // A savepoint per write, so one failed request rolls back alone.
      const run = (): unknown => method.apply(this.#store, req.args);
      const value = inTransaction && !READ_OPS.has(req.op) ? this.#store.db.transaction(run)() : run();
      return { id: req.id, ok: true, value };
    } catch (e) {
      return { id: req.id, ok: false, error: serializeError(e, { op: req.op }) };
    }
  }

  close(): void {
    this.#flush();
    for (const c of this.#clients) c.close();
    this.#store.close();
  }
}
