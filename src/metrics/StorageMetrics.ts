// The embedded storage thread's metrics: its group commits, how many requests each carried
// and how long each took (the fsync included).
import { Histogram, Registry } from 'prom-client';
import type { EmbeddedStorageServer } from '../storage/EmbeddedStorageServer.ts';

/** Requests per commit: 1 is one flush per request; the higher, the more a flush is shared. */
export const COMMIT_REQUEST_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/** Commit time, fsync included. */
export const COMMIT_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export function storageMetrics(server: EmbeddedStorageServer): Registry {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Histogram({
    name: 'switchboard_storage_commit_requests', help: 'Requests carried by one group commit of the embedded store.',
    buckets: COMMIT_REQUEST_BUCKETS, registers,
  });
  const seconds = new Histogram({
    name: 'switchboard_storage_commit_seconds', help: 'Time one group commit of the embedded store took, its fsync included.',
    buckets: COMMIT_SECONDS_BUCKETS, registers,
  });
  server.observer.on('commit', (count: number, s: number) => {
    requests.observe(count);
    seconds.observe(s);
  });
  return registry;
}
