// One /metrics for the whole process: the main thread's registry (the fronts, and Node's
// process metrics, collected here only) summed with every worker thread's, as Prometheus'
// text format. Counters and histograms add up across threads; so do our gauges, which each
// thread reports for its own part (actors on each host, connections on the main thread).
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';
import type { MetricsJson } from './threadMetrics.ts';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export class MetricsCollector {
  readonly #main: Registry;
  readonly #threads: () => Promise<MetricsJson[]>;

  /** `main`: this thread's registry (process metrics are added to it); `threads`: the workers' metrics. */
  constructor(main: Registry, threads: () => Promise<MetricsJson[]>) {
    this.#main = main;
    this.#threads = threads;
    collectDefaultMetrics({ register: main });
  }

  async text(): Promise<string> {
    const [main, threads] = await Promise.all([this.#main.getMetricsAsJSON(), this.#threads()]);
    return AggregatorRegistry.aggregate([main, ...threads]).metrics();
  }
}
