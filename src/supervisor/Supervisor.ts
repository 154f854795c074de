// Starts the embedded storage thread and the actor hosts (piscina runs the threads), wires
// them to the bus, restarts whatever dies, and drains on shutdown.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { Piscina } from 'piscina';
import type { Config } from '../config.ts';
import { describe } from '../errors.ts';
import { log } from '../log.ts';
import { askMetrics, type MetricsJson } from '../metrics/threadMetrics.ts';
import type { HostControl, HostTaskInput } from '../actors/hostTask.ts';
import type { StorageControl, StorageTaskInput } from '../storage/embeddedStorageTask.ts';
import { StorageClient } from '../storage/StorageClient.ts';
import { MongoStorage } from '../storage/MongoStorage.ts';
import type { Storage } from '../storage/Storage.ts';
import { InProcessBus } from '../transport/bus/InProcessBus.ts';
import { RabbitBus } from '../transport/bus/RabbitBus.ts';
import { PasswordHasher } from '../auth/PasswordHasher.ts';

/** Restart delays after a crash: doubling from the first to the last. */
export const RESTART_BACKOFF_MS = { first: 50, max: 5_000 } as const;
/** A thread that lived this long before dying restarts with the first delay again. */
export const STABLE_AFTER_MS = 10_000;
/** Retry period for MongoDB index creation when the database is away at start. */
export const INDEX_RETRY_MS = 2_000;

const task = (path: string): string => new URL(path, import.meta.url).href;

interface Slot {
  control: MessagePort | null;
  startedAt: number;
  delay: number;
}

export class Supervisor {
  /** What the fronts talk to: the in-process bus, or RabbitMQ in cluster mode. */
  readonly bus: InProcessBus | RabbitBus;
  /** The cluster bus, when this process is a node of a cluster. */
  readonly cluster: RabbitBus | null;
  /** The main thread's storage: embedded (through the storage thread) or MongoDB. */
  readonly storage: Storage;
  readonly #local: InProcessBus;
  readonly #embedded: StorageClient | null;
  readonly passwords: PasswordHasher;
  /** Observer: 'hostRestarted' (index), 'storageRestarted'. For fronts and metrics. */
  readonly observer = new EventEmitter();
  readonly #config: Config;
  readonly #hostPool: Piscina;
  readonly #storagePool: Piscina;
  readonly #hosts: Slot[];
  readonly #storageSlot: Slot = { control: null, startedAt: 0, delay: RESTART_BACKOFF_MS.first };
  #stopping = false;
  readonly #hostRuns = new Set<Promise<unknown>>();
  #storageRun: Promise<unknown> = Promise.resolve();

  constructor(config: Config) {
    this.#config = config;
    const threadOptions = { idleTimeout: Infinity, atomics: 'disabled' as const, concurrentTasksPerWorker: 1 };
    this.#hostPool = new Piscina({
      filename: task('../actors/hostTask.ts'),
      minThreads: config.actorHosts, maxThreads: config.actorHosts, ...threadOptions,
    });
    this.#storagePool = new Piscina({
      filename: task('../storage/embeddedStorageTask.ts'), minThreads: 1, maxThreads: 1, ...threadOptions,
    });
    this.passwords = new PasswordHasher(task('../auth/passwordHashTask.ts'));
    this.#local = new InProcessBus(config.actorHosts, config.shards, config.askTimeoutMs, config.nodeId);
    this.cluster = config.amqpUrl ? new RabbitBus(this.#local, {
      url: config.amqpUrl, nodeId: config.nodeId, shards: config.shards, askTimeoutMs: config.askTimeoutMs,
      prefetch: config.amqpPrefetch, heartbeatMs: config.clusterHeartbeatMs, nodeTimeoutMs: config.clusterNodeTimeoutMs,
    }) : null;
    this.bus = this.cluster ?? this.#local;
    // Shards another node took over: their actors here hold stale state.
    this.cluster?.observer.on('released', (shards: number[]) => {
      for (const h of this.#hosts) h.control?.postMessage({ type: 'release', shards } satisfies HostControl);
    });
    this.#embedded = config.mongoUrl ? null : new StorageClient();
    this.storage = this.#embedded ?? MongoStorage.open(config.mongoUrl!);
    this.#hosts = Array.from({ length: config.actorHosts }, () => ({
      control: null, startedAt: 0, delay: RESTART_BACKOFF_MS.first,
    }));
  }

  start(): void {
    if (this.#embedded) this.#startStorage();
    else this.#ensureIndexes();
    for (let i = 0; i < this.#hosts.length; i++) this.#startHost(i);
    void this.cluster?.start();
  }

  /** MongoDB indexes, retried in the background while the database is away. */
  #ensureIndexes(): void {
    (this.storage as MongoStorage).ensureIndexes().then(
      () => log.info('mongodb indexes ready'),
      (e) => {
        if (this.#stopping) return;
        log.warn('mongodb not ready; retrying', { err: String(e) });
        setTimeout(() => this.#ensureIndexes(), INDEX_RETRY_MS).unref();
      },
    );
  }

  /** A fresh storage port for one client. */
  #storagePort(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    const control = this.#storageSlot.control;
    if (control) control.postMessage({ type: 'attach', port: port2 } satisfies StorageControl, [port2]);
    else port2.close();
    return port1;
  }

  #startStorage(): void {
    const { port1, port2 } = new MessageChannel();
    const slot = this.#storageSlot;
    slot.control = port1;
    slot.startedAt = Date.now();
    const input: StorageTaskInput = { dataDir: this.#config.dataDir, control: port2 };
    const run = this.#storagePool.run(input, { transferList: [port2] });
    this.#storageRun = run.catch(() => {});
    this.#embedded!.attach(this.#storagePort());
    // Hosts already running get a fresh storage port too.
    for (const h of this.#hosts) {
      if (!h.control) continue;
      const port = this.#storagePort();
      h.control.postMessage({ type: 'storage', port } satisfies HostControl, [port]);
    }
    run.then(
      () => log.info('storage thread stopped'),
      (e) => this.#crashed('storage', slot, e, () => {
        this.#startStorage();
        this.observer.emit('storageRestarted');
      }),
    );
  }

  #startHost(index: number): void {
    const bus = new MessageChannel();
    const control = new MessageChannel();
    const storage = this.#embedded ? this.#storagePort() : undefined;
    const slot = this.#hosts[index]!;
    slot.control = control.port1;
    slot.startedAt = Date.now();
    const input: HostTaskInput = {
      index,
      hosts: this.#config.actorHosts,
      shards: this.#config.shards,
      idleMs: this.#config.actorIdleMs,
      settings: {
        historyPageMax: this.#config.historyPageMax,
        historyPageMaxBytes: this.#config.historyPageMaxBytes,
        groupMaxMembers: this.#config.groupMaxMembers,
        roomGraceMs: this.#config.roomGraceMs,
        roomEmptyCloseMs: this.#config.roomEmptyCloseMs,
        roomMaxLifetimeMs: this.#config.roomMaxLifetimeMs,
        roomMaxMembers: this.#config.roomMaxMembers,
      },
      bus: bus.port2,
      control: control.port2,
      storage,
      mongoUrl: this.#config.mongoUrl,
      cluster: this.cluster !== null,
      testFaults: this.#config.testFaults,
    };
    const run = this.#hostPool.run(input, { transferList: storage ? [bus.port2, control.port2, storage] : [bus.port2, control.port2] });
    const settled = run.catch(() => {}).finally(() => this.#hostRuns.delete(settled));
    this.#hostRuns.add(settled);
    this.#local.attachHost(index, bus.port1);
    run.then(
      () => log.info('actor host stopped', { host: index }),
      (e) => {
        this.#local.detachHost(index);
        bus.port1.close();
        this.#crashed(`actor host ${index}`, slot, e, () => {
          this.#startHost(index);
          this.observer.emit('hostRestarted', index);
        });
      },
    );
  }

  #crashed(what: string, slot: Slot, err: unknown, restart: () => void): void {
    slot.control?.close();
    slot.control = null;
    if (this.#stopping) return;
    const lived = Date.now() - slot.startedAt;
    slot.delay = lived > STABLE_AFTER_MS ? RESTART_BACKOFF_MS.first : Math.min(slot.delay * 2, RESTART_BACKOFF_MS.max);
    log.error(`${what} crashed; restarting`, { err: describe(err), livedMs: lived, restartInMs: slot.delay });
    setTimeout(() => { if (!this.#stopping) restart(); }, slot.delay);
  }

  /** The metrics of every thread that is up (actor hosts, embedded storage); one that does not answer is left out. */
  async threadMetrics(): Promise<MetricsJson[]> {
    const controls = [...this.#hosts.map((h) => h.control), this.#storageSlot.control].filter((c) => c !== null);
    const answers = await Promise.all(controls.map((c) => askMetrics(c)));
    return answers.filter((a) => a !== null);
  }

  /** Test-only fault switch: crash one actor host. */
  crashHost(index: number): boolean {
    const control = this.#hosts[index]?.control;
    if (!this.#config.testFaults || !control) return false;
    control.postMessage({ type: 'crash' } satisfies HostControl);
    return true;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.cluster?.close();
    this.#local.close();
    for (const h of this.#hosts) h.control?.postMessage({ type: 'stop' } satisfies HostControl);
    // Hosts first (they may still be writing), then storage, which commits what is queued.
    await Promise.allSettled([...this.#hostRuns]);
    await this.storage.close();
    this.#storageSlot.control?.postMessage({ type: 'stop' } satisfies StorageControl);
    await this.#storageRun;
    await Promise.all([this.#hostPool.destroy(), this.#storagePool.destroy(), this.passwords.close()]);
  }
}
