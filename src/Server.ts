// One Switchboard process: the supervisor (storage, actor hosts, bus) and the fronts on it.
import type { Config } from './config.ts';
import { AuthService } from './auth/AuthService.ts';
import { TokenIssuer } from './auth/tokens.ts';
import { log } from './log.ts';
import { FrontMetrics } from './metrics/FrontMetrics.ts';
import { METRICS_CONTENT_TYPE, MetricsCollector } from './metrics/MetricsCollector.ts';
import { MessagingService } from './service/MessagingService.ts';
import { FileService } from './service/FileService.ts';
import type { FileStore } from './files/FileStore.ts';
import { openFileStore } from './files/openFileStore.ts';
import { RoomKeys } from './auth/roomKeys.ts';
import { MediaService } from './rooms/MediaService.ts';
import { RoomDirectory } from './rooms/RoomDirectory.ts';
import { RoomService } from './service/RoomService.ts';
import { shardOf } from './ids.ts';
import { DataDirLock } from './storage/DataDirLock.ts';
import { Supervisor } from './supervisor/Supervisor.ts';
import { Connections } from './transport/Connections.ts';
import { GrpcFront } from './transport/grpc/GrpcFront.ts';
import { registerHttpRoutes } from './transport/http/HttpFront.ts';
import { fileRoutes } from './transport/http/fileRoutes.ts';
import { roomRoutes } from './transport/http/roomRoutes.ts';
import { listenExclusive, uWS, type us_listen_socket } from './transport/http/uws.ts';
import { RateLimiter } from './transport/RateLimiter.ts';
import { WsFront } from './transport/ws/WsFront.ts';

export class Server {
  readonly #config: Config;
  readonly #supervisor: Supervisor;
  readonly #limiters: RateLimiter[];
  readonly #ws: WsFront;
  /** Every socket and event stream that takes pushes, whatever its front. */
  readonly #connections: Connections;
  readonly #grpc: GrpcFront;
  /** mediasoup workers for SFU rooms (or none: rooms run p2p). */
  readonly #media: MediaService;
  /** Users' files: on disk, or in GridFS with MongoDB. */
  readonly #files: FileStore;
  readonly #app = uWS.App();
  #listen: us_listen_socket | null = null;
  /** The embedded data folder's lock (none with MongoDB: the folder then holds no store). */
  #dataDirLock: DataDirLock | null = null;
  readonly startedAt = Date.now();

  constructor(config: Config) {
    this.#config = config;
    this.#supervisor = new Supervisor(config);
    const sup = this.#supervisor;
    const auth = new AuthService(sup.storage, sup.passwords, new TokenIssuer(config.jwtSecret, config.jwtTtl));
    this.#files = openFileStore(config);
    const files = new FileService(this.#files, sup.storage);
    this.#connections = new Connections(sup.bus);
    const cluster = sup.cluster;
    const metrics = new FrontMetrics({
      connections: () => this.#connections.size,
      connectedUsers: () => this.#connections.connectedUsers,
      cluster: cluster
        ? () => ({ brokerConnected: cluster.connected, liveNodes: cluster.liveNodes, ownedShards: cluster.ownedShards.length })
        : undefined,
    });
    const collector = new MetricsCollector(metrics.registry, () => sup.threadMetrics());
    const messaging = new MessagingService(sup.bus, config, files, metrics);
    const limiter = (): RateLimiter => new RateLimiter(config.rateBurst, config.ratePeriodMs);
    const [ipLimiter, userLimiter, frameLimiter] = [limiter(), limiter(), limiter()];
    this.#limiters = [ipLimiter, userLimiter, frameLimiter];
    const directory = new RoomDirectory(sup.bus, {
      hostOf: (id) => sup.bus.hostOf(id),
      isHere: (id) => !sup.cluster || sup.cluster.ownedShards.includes(shardOf(id, config.shards)),
    });
    this.#media = new MediaService({
      workers: config.mediaWorkers, listenIp: config.mediaListenIp, announcedAddress: config.mediaAnnouncedAddress,
    }, directory);
    directory.attachMedia(this.#media);
    const rooms = new RoomService(sup.bus, new RoomKeys(config.jwtSecret), this.#media, config, this.#connections);
    registerHttpRoutes(this.#app, {
      auth, messaging, ipLimiter, userLimiter,
      maxBodyBytes: config.maxHttpBodyBytes,
      historyPageMax: config.historyPageMax,
      corsOrigin: config.corsOrigin,
      metrics,
      metricsText: config.metrics ? async () => ({ contentType: METRICS_CONTENT_TYPE, body: await collector.text() }) : undefined,
      health: () => ({
        status: 'ok', uptimeS: Math.round((Date.now() - this.startedAt) / 1000), connectedUsers: this.#connections.connectedUsers,
        connections: this.#connections.size,
        rooms: { mode: rooms.mode, mediaUnavailable: this.#media.unavailableReason },
      }),
      crashHost: config.testFaults ? (i) => sup.crashHost(i) : undefined,
      routes: [
        roomRoutes({ rooms, killMediaWorker: config.testFaults ? () => this.#media.killWorker() : undefined }),
        fileRoutes({ files }),
      ],
    });
    this.#ws = new WsFront(this.#app, {
      auth, messaging, rooms, connections: this.#connections, frameLimiter,
      maxFrameBytes: config.maxFrameBytes,
      maxBufferedBytes: config.wsMaxBufferedBytes,
      idleTimeoutS: config.wsIdleTimeoutS,
      authTimeoutMs: config.wsAuthTimeoutMs,
      metrics,
    });
    this.#grpc = new GrpcFront({
      auth, messaging, rooms, files, connections: this.#connections, ipLimiter, userLimiter, metrics,
      maxMessageBytes: config.grpcMaxMessageBytes,
      maxPendingEvents: config.grpcMaxPendingEvents,
    });
    sup.observer.on('hostRestarted', () => this.#connections.reannounce());
    // Cluster: after a broker outage session actors may have moved or restarted: tell them again.
    sup.cluster?.observer.on('connected', () => this.#connections.reannounce());
    // After presence is told again (the listener above runs first), the rooms re-register.
    sup.observer.on('hostRestarted', (index: number) => directory.hostRestarted(index));
  }

  /** Starts the threads, then listens (gRPC, then HTTP). Resolves with the HTTP port (useful with PORT=0). */
  async start(): Promise<number> {
    if (!this.#config.mongoUrl) this.#dataDirLock = DataDirLock.acquire(this.#config.dataDir);
    this.#supervisor.start();
    await this.#files.start();
    await this.#media.start();
    const grpcPort = await this.#grpc.start(this.#config.host, this.#config.grpcPort);
    return new Promise((resolve, reject) => {
      listenExclusive(this.#app, this.#config.host, this.#config.port, (socket) => {
        if (!socket) {
          return reject(new Error(`cannot listen on ${this.#config.host}:${this.#config.port}: ` +
            'the port is in use (by another Switchboard?) or the address is not one of this machine\'s'));
        }
        this.#listen = socket;
        const port = uWS.us_socket_local_port(socket as never);
        log.info('listening', {
          host: this.#config.host, port, grpcPort, actorHosts: this.#config.actorHosts, node: this.#config.nodeId,
          storage: this.#config.mongoUrl ? 'mongodb' : `embedded:${this.#config.dataDir}`,
          bus: this.#config.amqpUrl ? 'rabbitmq' : 'in-process',
        });
        resolve(port);
      });
    });
  }

  /** Drains: stop accepting, close sockets and streams, finish gRPC calls, stop the actor hosts, commit, stop storage. */
  async stop(): Promise<void> {
    if (this.#listen) uWS.us_listen_socket_close(this.#listen);
    this.#listen = null;
    this.#connections.closeAll();
    await this.#grpc.stop();
    for (const l of this.#limiters) l.close();
    await this.#files.close();
    await this.#supervisor.stop();
    this.#media.close();
    this.#dataDirLock?.release();
  }

}
