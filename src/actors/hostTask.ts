// piscina task: one actor host. Lives until told to stop. The bus port carries actor
// traffic in batches; the control port carries stop, storage hand-over and test faults.
import type { MessagePort } from 'node:worker_threads';
import { shardOf, type ActorId } from '../ids.ts';
import { log } from '../log.ts';
import { hostMetrics } from '../metrics/HostMetrics.ts';
import { answerMetrics, type MetricsRequest } from '../metrics/threadMetrics.ts';
import { StorageClient } from '../storage/StorageClient.ts';
import { MongoStorage } from '../storage/MongoStorage.ts';
import { BatchedPort } from '../supervisor/BatchedPort.ts';
import type { FromHost, ToHost } from '../transport/bus/HostProtocol.ts';
import type { ActorSettings } from './Actor.ts';
import { ActorHost } from './ActorHost.ts';

export interface HostTaskInput {
  readonly index: number;
  readonly hosts: number;
  readonly shards: number;
  readonly idleMs: number;
  readonly settings: ActorSettings;
  readonly bus: MessagePort;
  readonly control: MessagePort;
  /** The embedded storage thread's port; absent with MongoDB. */
  readonly storage: MessagePort | undefined;
  readonly mongoUrl: string | undefined;
  /** A node of a cluster: shards are placed across nodes, not only across hosts. */
  readonly cluster: boolean;
  readonly testFaults: boolean;
}

export type HostControl =
  | { readonly type: 'stop' }
  | { readonly type: 'storage'; readonly port: MessagePort }
  /** Cluster mode: these shards moved to another node; passivate their actors. */
  | { readonly type: 'release'; readonly shards: readonly number[] }
  | { readonly type: 'crash' }
  | MetricsRequest;

export default function runHost(input: HostTaskInput): Promise<{ stopped: true }> {
  const storage = input.mongoUrl ? MongoStorage.open(input.mongoUrl) : new StorageClient(input.storage);
  const owner = (id: ActorId): number => shardOf(id, input.shards) % input.hosts;
  const bus: BatchedPort<FromHost, ToHost> = new BatchedPort(input.bus, (env) => {
    if (env.t === 'ask') {
      host.deliver(env.to, env.msg, (r) => bus.send(r.ok
        ? { t: 'reply', id: env.id, ok: true, value: r.value }
        : { t: 'reply', id: env.id, ok: false, error: r.error }));
    } else {
      host.deliver(env.to, env.msg);
    }
  });
  const host = new ActorHost(storage, input.settings, {
    // In a cluster another node may own the shard: every tell goes through the bus.
    isLocal: (id) => !input.cluster && owner(id) === input.index,
    forward: (to, msg) => bus.send({ t: 'tell', to, msg }),
    push: (front, user, frame) => bus.send({ t: 'push', front, user, frame }),
    notify: (front, event) => bus.send({ t: 'event', front, event }),
  }, input.idleMs);
  const metrics = hostMetrics(host);
  log.debug('actor host up', { host: input.index });

  return new Promise((resolve) => {
    input.control.on('message', (msg: HostControl) => {
      switch (msg.type) {
        case 'storage':
          if (storage instanceof StorageClient) storage.attach(msg.port);
          break;
        case 'release':
          host.passivateShards(new Set(msg.shards), input.shards);
          if (storage instanceof MongoStorage) storage.forget();
          break;
        case 'metrics':
          answerMetrics(metrics, msg.reply);
          break;
        case 'crash':
          if (!input.testFaults) return;
          log.warn('test fault: crashing actor host', { host: input.index });
          // An uncaught asynchronous error, as a real bug would throw it: it ends the thread.
          setTimeout(() => { throw new Error('test fault: actor host crash'); }, 0);
          break;
        case 'stop':
          host.close();
          void storage.close();
          bus.close();
          input.control.close();
          resolve({ stopped: true });
          break;
      }
    });
  });
}
