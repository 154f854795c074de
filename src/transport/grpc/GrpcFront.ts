// The gRPC front (@grpc/grpc-js) beside the uWS one: AuthService, MessagingService,
// RoomService and FileService (proto/switchboard/v1), the standard health service and
// server reflection, so generic tools (grpcurl, grpc-health-probe) work against it. Its
// lifecycle: bind, serve, drain.
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { AuthService } from '../../auth/AuthService.ts';
import { log } from '../../log.ts';
import type { FrontMetrics } from '../../metrics/FrontMetrics.ts';
import type { FileService } from '../../service/FileService.ts';
import type { MessagingService } from '../../service/MessagingService.ts';
import type { RoomService } from '../../service/RoomService.ts';
import type { Connections } from '../Connections.ts';
import type { RateLimiter } from '../RateLimiter.ts';
import { authServiceHandlers } from './authService.ts';
import { CallGuard } from './CallGuard.ts';
import { fileServiceHandlers } from './fileService.ts';
import { messagingServiceHandlers } from './messagingService.ts';
import { CONTRACT_FILES, loadContract, SERVICE, serviceDefinition } from './protos.ts';
import { reflectionContract } from './reflectionDescriptors.ts';
import { roomServiceHandlers } from './roomService.ts';

export interface GrpcFrontDeps {
  readonly auth: AuthService;
  readonly messaging: MessagingService;
  readonly rooms: RoomService;
  readonly files: FileService;
  readonly connections: Connections;
  readonly ipLimiter: RateLimiter;
  readonly userLimiter: RateLimiter;
  /** Counts calls by method and status. */
  readonly metrics?: FrontMetrics;
  /**
   * Largest message received or sent, in bytes (RESOURCE_EXHAUSTED beyond). File chunks
   * (FILE_CHUNK_BYTES, 64 KiB) fit the default 4 MiB many times over.
   */
  readonly maxMessageBytes: number;
  /** Events a subscriber may leave unread before it is ended as too slow. */
  readonly maxPendingEvents: number;
}

/** Ping an idle connection this often, and drop it when a ping is not answered in time. */
export const GRPC_KEEPALIVE_TIME_MS = 60_000;
export const GRPC_KEEPALIVE_TIMEOUT_MS = 20_000;
/** On shutdown, calls still running after this are cut. */
export const GRPC_SHUTDOWN_GRACE_MS = 5_000;

/** What this server serves, as health and reflection report it: the whole contract. */
export const SERVED_SERVICES = [SERVICE.auth, SERVICE.messaging, SERVICE.rooms, SERVICE.files] as const;
/** The health service's name for the server as a whole. */
const WHOLE_SERVER = '';

export class GrpcFront {
  readonly #server: grpc.Server;
  readonly #health: HealthImplementation;
  #port: number | null = null;

  constructor(d: GrpcFrontDeps) {
    const contract = loadContract();
    this.#server = new grpc.Server({
      'grpc.max_receive_message_length': d.maxMessageBytes,
      'grpc.max_send_message_length': d.maxMessageBytes,
      'grpc.keepalive_time_ms': GRPC_KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': GRPC_KEEPALIVE_TIMEOUT_MS,
    });
    const guard = new CallGuard(d);
    this.#server.addService(serviceDefinition(contract, SERVICE.auth), authServiceHandlers(d.auth, guard));
    this.#server.addService(serviceDefinition(contract, SERVICE.messaging), messagingServiceHandlers(d, guard));
    this.#server.addService(serviceDefinition(contract, SERVICE.rooms), roomServiceHandlers(d.rooms, guard));
    this.#server.addService(serviceDefinition(contract, SERVICE.files), fileServiceHandlers(d, guard));
    this.#health = new HealthImplementation();
    this.#setHealth('NOT_SERVING');
    this.#health.addToServer(this.#server);
    new ReflectionService(reflectionContract(CONTRACT_FILES), { services: [...SERVED_SERVICES, SERVICE.health] })
      .addToServer(this.#server);
  }

  #setHealth(status: ServingStatus): void {
    for (const name of [WHOLE_SERVER, ...SERVED_SERVICES]) this.#health.setStatus(name, status);
  }

  /** Listens on host:port (port 0 picks a free one); resolves with the port. */
  start(host: string, port: number): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => {
        if (err) return reject(new Error(`gRPC: cannot listen on ${address}: ${err.message}`));
        this.#port = bound;
        this.#setHealth('SERVING');
        resolve(bound);
      });
    });
  }

  /**
   * Drains: health says NOT_SERVING, no new calls are taken, running calls get
   * GRPC_SHUTDOWN_GRACE_MS to finish, then whatever is left is cut.
   */
  async stop(): Promise<void> {
    if (this.#port === null) return;
    this.#port = null;
    this.#setHealth('NOT_SERVING');
    await new Promise<void>((resolve) => {
      const cut = setTimeout(() => {
        log.warn('grpc: calls still running at shutdown were cut');
        this.#server.forceShutdown();
        resolve();
      }, GRPC_SHUTDOWN_GRACE_MS);
      this.#server.tryShutdown(() => {
        clearTimeout(cut);
        resolve();
      });
    });
  }
}
