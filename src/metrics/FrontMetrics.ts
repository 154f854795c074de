// The main thread's metrics: what the fronts (HTTP, WebSocket, gRPC) answered, the messages
// they had stored, and the connections and cluster state they see. Labels are bounded sets
// (route patterns, frame types, status codes, RPC names), never a user or conversation id.
// Metrics observe: every method records and returns, nothing here changes what a front does.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets for requests and acks, in seconds: sub-millisecond to ten seconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the front reads at scrape time. */
export interface FrontGauges {
  /** Sockets and event streams taking pushes, every front together. */
  connections(): number;
  /** Users with at least one of them. */
  connectedUsers(): number;
  /** Cluster mode only: the broker, the live nodes, the shards this node owns. */
  cluster?(): { brokerConnected: boolean; liveNodes: number; ownedShards: number };
}

export class FrontMetrics {
  readonly registry = new Registry();
  readonly #httpRequests: Counter<'route' | 'status'>;
  readonly #httpSeconds: Histogram<'route'>;
  readonly #wsFrames: Counter<'type'>;
  readonly #wsErrors: Counter<'code'>;
  readonly #wsClosed: Counter<'code'>;
  readonly #grpcCalls: Counter<'method' | 'code'>;
  readonly #grpcSeconds: Histogram<'method'>;
  readonly #messages: Counter<'kind' | 'result'>;
  readonly #ackSeconds: Histogram<'kind'>;

  constructor(gauges: FrontGauges) {
    const registers = [this.registry];
    this.#httpRequests = new Counter({
      name: 'switchboard_http_requests_total', help: 'HTTP requests answered, by route pattern and status.',
      labelNames: ['route', 'status'], registers,
    });
    this.#httpSeconds = new Histogram({
      name: 'switchboard_http_response_seconds', help: 'Time from an HTTP request to its response head, by route pattern.',
      labelNames: ['route'], buckets: LATENCY_BUCKETS, registers,
    });
    this.#wsFrames = new Counter({
      name: 'switchboard_ws_frames_total', help: 'WebSocket frames received that decoded, by type.', labelNames: ['type'], registers,
    });
    this.#wsErrors = new Counter({
      name: 'switchboard_ws_errors_total', help: 'WebSocket error frames sent, by error code.', labelNames: ['code'], registers,
    });
    this.#wsClosed = new Counter({
      name: 'switchboard_ws_server_closes_total',
      help: 'WebSockets the server closed, by close code (4008 too slow, 1009 frame too large, 4001/4003 auth, 1001 shutdown).',
      labelNames: ['code'], registers,
    });
    this.#grpcCalls = new Counter({
      name: 'switchboard_grpc_calls_total', help: 'Unary and client-streaming gRPC calls answered, by method and status code.',
      labelNames: ['method', 'code'], registers,
    });
    this.#grpcSeconds = new Histogram({
      name: 'switchboard_grpc_call_seconds', help: 'Time a unary or client-streaming gRPC call took, by method.',
      labelNames: ['method'], buckets: LATENCY_BUCKETS, registers,
    });
    this.#messages = new Counter({
      name: 'switchboard_messages_total',
      help: 'Sends acknowledged (stored), by conversation kind and result (stored, or duplicate of an earlier send).',
      labelNames: ['kind', 'result'], registers,
    });
    this.#ackSeconds = new Histogram({
      name: 'switchboard_message_ack_seconds', help: 'Time from a send reaching a front to its ack (the message durable).',
      labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers,
    });
    new Gauge({
      name: 'switchboard_connections', help: 'Sockets and event streams taking pushes, all fronts.', registers,
      collect() { this.set(gauges.connections()); },
    });
    new Gauge({
      name: 'switchboard_connected_users', help: 'Users with at least one connection to this node.', registers,
      collect() { this.set(gauges.connectedUsers()); },
    });
    if (gauges.cluster) {
      const cluster = gauges.cluster;
      new Gauge({
        name: 'switchboard_cluster_broker_connected', help: '1 while this node holds a channel to RabbitMQ, else 0.', registers,
        collect() { this.set(cluster().brokerConnected ? 1 : 0); },
      });
      new Gauge({
        name: 'switchboard_cluster_live_nodes', help: 'Nodes this node hears (itself included).', registers,
        collect() { this.set(cluster().liveNodes); },
      });
      new Gauge({
        name: 'switchboard_cluster_owned_shards', help: 'Shards this node owns.', registers,
        collect() { this.set(cluster().ownedShards); },
      });
    }
  }

  httpResponse(route: string, status: number, seconds: number): void {
    this.#httpRequests.inc({ route, status: String(status) });
    this.#httpSeconds.observe({ route }, seconds);
  }

  wsFrame(type: string): void {
    this.#wsFrames.inc({ type });
  }

  wsError(code: string): void {
    this.#wsErrors.inc({ code });
  }

  wsClosed(code: number): void {
    this.#wsClosed.inc({ code: String(code) });
  }

  grpcCall(method: string, code: string, seconds: number): void {
    this.#grpcCalls.inc({ method, code });
    this.#grpcSeconds.observe({ method }, seconds);
  }

  messageAcked(kind: 'direct' | 'group', duplicate: boolean, seconds: number): void {
    this.#messages.inc({ kind, result: duplicate ? 'duplicate' : 'stored' });
    this.#ackSeconds.observe({ kind }, seconds);
  }
}
