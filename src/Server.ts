// One Switchboard process: the supervisor (storage, actor hosts, bus) and the fronts on it.
import type { Config } from './config.ts';
import { AuthService } from './auth/AuthService.ts';
import { TokenIssuer } from './auth/tokens.ts';
import { log } from './log.ts';
import { MessagingService } from './service/MessagingService.ts';
import { Supervisor } from './supervisor/Supervisor.ts';
import { registerHttpRoutes } from './transport/http/HttpFront.ts';
import { uWS, type us_listen_socket } from './transport/http/uws.ts';
import { RateLimiter } from './transport/RateLimiter.ts';
import { WsFront } from './transport/ws/WsFront.ts';

export class Server {
  readonly #config: Config;
  readonly #supervisor: Supervisor;
  readonly #limiters: RateLimiter[];
  readonly #ws: WsFront;
  readonly #app = uWS.App();
  #listen: us_listen_socket | null = null;
  readonly startedAt = Date.now();

  constructor(config: Config) {
    this.#config = config;
    this.#supervisor = new Supervisor(config);
    const sup = this.#supervisor;
    const auth = new AuthService(sup.storage, sup.passwords, new TokenIssuer(config.jwtSecret, config.jwtTtl));
    const messaging = new MessagingService(sup.bus, config);
    const limiter = (): RateLimiter => new RateLimiter(config.rateBurst, config.ratePeriodMs);
    const [ipLimiter, userLimiter, frameLimiter] = [limiter(), limiter(), limiter()];
    this.#limiters = [ipLimiter, userLimiter, frameLimiter];
    registerHttpRoutes(this.#app, {
      auth, messaging, ipLimiter, userLimiter,
      maxBodyBytes: config.maxHttpBodyBytes,
      historyPageMax: config.historyPageMax,
      corsOrigin: config.corsOrigin,
      health: () => ({
        status: 'ok', uptimeS: Math.round((Date.now() - this.startedAt) / 1000), connectedUsers: this.#ws.connectedUsers,
      }),
      crashHost: config.testFaults ? (i) => sup.crashHost(i) : undefined,
    });
    this.#ws = new WsFront(this.#app, {
      auth, messaging, bus: sup.bus, frameLimiter,
      maxFrameBytes: config.maxFrameBytes,
      maxBufferedBytes: config.wsMaxBufferedBytes,
      idleTimeoutS: config.wsIdleTimeoutS,
      authTimeoutMs: config.wsAuthTimeoutMs,
    });
    sup.observer.on('hostRestarted', () => this.#ws.reannounce());
  }

  /** Starts the threads, then listens. Resolves with the port (useful with PORT=0). */
  start(): Promise<number> {
    this.#supervisor.start();
    return new Promise((resolve, reject) => {
      this.#app.listen(this.#config.host, this.#config.port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${this.#config.host}:${this.#config.port}`));
        this.#listen = socket;
        const port = uWS.us_socket_local_port(socket as never);
        log.info('listening', { host: this.#config.host, port, actorHosts: this.#config.actorHosts, dataDir: this.#config.dataDir });
        resolve(port);
      });
    });
  }

  /** Drains: stop accepting, close sockets, stop the actor hosts, commit, stop storage. */
  async stop(): Promise<void> {
    if (this.#listen) uWS.us_listen_socket_close(this.#listen);
    this.#listen = null;
    this.#ws.closeAll();
    for (const l of this.#limiters) l.close();
    await this.#supervisor.stop();
  }
}
