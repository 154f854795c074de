// How a worker thread's metrics reach the main thread. The main thread sends a fresh port on
// the thread's control channel; the thread answers on it with its registry as JSON and
// closes it. A thread that does not answer in time is left out of that scrape, not waited for.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Registry } from 'prom-client';

/** One registry's metrics, as `Registry.getMetricsAsJSON()` gives them (structured-clone safe). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** The control message that asks a thread for its metrics. */
export interface MetricsRequest {
  readonly type: 'metrics';
  readonly reply: MessagePort;
}

/** How long a scrape waits for one thread. */
export const THREAD_METRICS_TIMEOUT_MS = 1_000;

/** Worker side: answers one request. */
export function answerMetrics(registry: Registry, reply: MessagePort): void {
  registry.getMetricsAsJSON().then(
    (json) => reply.postMessage(json),
    () => reply.postMessage([]),
  ).finally(() => reply.close());
}

/** Main side: asks the thread behind `control`; null when it does not answer in time. */
export function askMetrics(control: MessagePort, timeoutMs = THREAD_METRICS_TIMEOUT_MS): Promise<MetricsJson | null> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    const done = (value: MetricsJson | null): void => {
      clearTimeout(timer);
      port1.close();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    port1.once('message', (json: MetricsJson) => done(json));
    port1.once('close', () => done(null));
    try {
      control.postMessage({ type: 'metrics', reply: port2 } satisfies MetricsRequest, [port2]);
    } catch {
      done(null);
    }
  });
}
