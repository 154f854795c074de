// piscina task: the embedded storage thread. Lives until told to stop; meanwhile accepts
// client ports (one per thread that needs storage) on its control port.
import { join } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { log } from '../log.ts';
import { storageMetrics } from '../metrics/StorageMetrics.ts';
import { answerMetrics, type MetricsRequest } from '../metrics/threadMetrics.ts';
import { EmbeddedStorageServer } from './EmbeddedStorageServer.ts';
import { SqliteStore } from './SqliteStore.ts';

export interface StorageTaskInput {
  readonly dataDir: string;
  readonly control: MessagePort;
}

export type StorageControl =
  | { readonly type: 'attach'; readonly port: MessagePort }
  | { readonly type: 'stop' }
  | MetricsRequest;

export const DATABASE_FILE = 'switchboard.db';

export default function runStorage({ dataDir, control }: StorageTaskInput): Promise<void> {
  const server = new EmbeddedStorageServer(new SqliteStore(join(dataDir, DATABASE_FILE)));
  const metrics = storageMetrics(server);
  log.debug('storage thread up', { dataDir });
  return new Promise((resolve) => {
    control.on('message', (msg: StorageControl) => {
      if (msg.type === 'attach') server.attach(msg.port);
      else if (msg.type === 'metrics') answerMetrics(metrics, msg.reply);
      else if (msg.type === 'stop') {
        server.close();
        control.close();
        resolve();
      }
    });
  });
}
