// The HTTP routes on uWS, grouped by area. Middleware in order: CORS, rate limit (per IP,
// then per user), auth (Bearer), body limit. Handlers return data or throw AppErrors.
import { NotFoundError, InvalidArgumentError } from '../../errors.ts';
import type { UserId } from '../../ids.ts';
import type { AuthService } from '../../auth/AuthService.ts';
import { bearerToken } from '../../auth/tokens.ts';
import type { FrontMetrics } from '../../metrics/FrontMetrics.ts';
import type { MessagingService } from '../../service/MessagingService.ts';
import { asObject, conversationId, intText, userId } from '../../service/validate.ts';
import type { RateLimiter } from '../RateLimiter.ts';
import { HttpExchange, type BodyMode } from './HttpExchange.ts';
import type { TemplatedApp } from './uws.ts';

export interface HttpFrontDeps {
  readonly auth: AuthService;
  readonly messaging: MessagingService;
  readonly ipLimiter: RateLimiter;
  readonly userLimiter: RateLimiter;
  readonly maxBodyBytes: number;
  readonly historyPageMax: number;
  readonly corsOrigin: string;
  /** Extra routes, e.g. the test fault switch. */
  readonly health: () => { status: string; [k: string]: unknown };
  /** Counts every answer by route pattern and status. */
  readonly metrics?: FrontMetrics;
  /** `GET /metrics`: the process's metrics in Prometheus' text format (absent: no such route). */
  readonly metricsText?: () => Promise<{ contentType: string; body: string }>;
  readonly crashHost?: (index: number) => boolean;
  /** Route groups kept in their own files (rooms), registered before the catch-alls. */
  readonly routes?: readonly ((kit: RouteKit) => void)[];
}

export type Method = 'get' | 'post' | 'del';

export interface Call {
  readonly x: HttpExchange;
  readonly user: UserId;
  body(): Promise<Record<string, unknown>>;
}

/** How a route group registers its routes, with the same middleware as the rest. */
export interface RouteKit {
  open(method: Method, pattern: string, handler: (x: HttpExchange) => Promise<[number, unknown]>): void;
  authed(method: Method, pattern: string, handler: (c: Call) => Promise<[number, unknown]>): void;
  /** An authed route that answers by itself (a streamed download) and may stream its request body (an upload). */
  streamed(method: Method, pattern: string, body: 'stream' | 'json', handler: (c: Call) => Promise<void>): void;
}

export const CORS_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
export const CORS_HEADERS = 'Content-Type, Authorization, X-Requested-With';
export const CORS_MAX_AGE_S = 600;
export const METRICS_ROUTE = '/metrics';
const METHOD_NAMES: Record<Method, string> = { get: 'GET', post: 'POST', del: 'DELETE' };

export function registerHttpRoutes(app: TemplatedApp, d: HttpFrontDeps): void {
  const cors: [string, string][] = [
    ['access-control-allow-origin', d.corsOrigin],
    ['access-control-allow-methods', CORS_METHODS],
    ['access-control-allow-headers', CORS_HEADERS],
    ['vary', 'Origin'],
  ];

  const paramCount = (pattern: string): number => pattern.split('/').filter((s) => s.startsWith(':')).length;

  /** Any route: rate-limited by IP; the handler answers. */
  function route(method: Method, pattern: string, body: BodyMode, handler: (x: HttpExchange) => Promise<void>): void {
    const label = `${METHOD_NAMES[method]} ${pattern}`;
    app[method](pattern, (res, req) => {
      const x = new HttpExchange(res, req, paramCount(pattern), cors, body);
      if (d.metrics) {
        const metrics = d.metrics;
        const started = performance.now();
        x.onHead = (status) => metrics.httpResponse(label, status, (performance.now() - started) / 1000);
      }
      void (async () => {
        d.ipLimiter.take(`ip:${x.ip}`, 'requests from this address');
        await handler(x);
      })().catch((e) => x.error(e));
    });
  }

  /** A route anyone may call (rate-limited by IP). */
  function open(method: Method, pattern: string, handler: (x: HttpExchange) => Promise<[number, unknown]>): void {
    route(method, pattern, d.maxBodyBytes, async (x) => {
      const [status, body] = await handler(x);
      x.json(status, body);
    });
  }

  /** The caller of a route that needs a Bearer token (then rate-limited by user too). */
  async function caller(x: HttpExchange): Promise<Call> {
    const user = await d.auth.authenticate(bearerToken(x.header('authorization')));
    d.userLimiter.take(`user:${user}`, 'requests by this user');
    return { x, user, body: async () => asObject(await x.body()) };
  }

  /** A route that needs a Bearer token (rate-limited by IP, then by user). */
  function authed(method: Method, pattern: string, handler: (c: Call) => Promise<[number, unknown]>): void {
    open(method, pattern, async (x) => handler(await caller(x)));
  }

  /** An authed route that writes its own answer, reading its body as a stream or as JSON. */
  function streamed(method: Method, pattern: string, body: 'stream' | 'json', handler: (c: Call) => Promise<void>): void {
    route(method, pattern, body === 'stream' ? 'stream' : d.maxBodyBytes, async (x) => handler(await caller(x)));
  }

  app.options('/*', (res, req) => new HttpExchange(res, req, 0, [...cors, ['access-control-max-age', String(CORS_MAX_AGE_S)]]).empty(204));

  open('get', '/healthz', async () => [200, d.health()]);
  if (d.metricsText) {
    const metricsText = d.metricsText;
    route('get', METRICS_ROUTE, d.maxBodyBytes, async (x) => {
      const { contentType, body } = await metricsText();
      x.text(200, body, contentType);
    });
  }

  // auth
  open('post', '/v1/auth/register', async (x) => [201, await d.auth.register(asObject(await x.body()))]);
  open('post', '/v1/auth/login', async (x) => [200, await d.auth.login(asObject(await x.body()))]);
  authed('get', '/v1/me', async (c) => [200, await d.auth.whoami(c.user)]);

  // conversations and groups
  authed('get', '/v1/conversations', async (c) => [200, { conversations: await d.messaging.conversations(c.user) }]);
  authed('get', '/v1/conversations/:id', async (c) =>
    [200, await d.messaging.conversation(c.user, conversationId(c.x.params[0], 'id'))]);
  authed('get', '/v1/conversations/:id/messages', async (c) => {
    const since = intText(c.x.query.get('since') ?? undefined, 'since', 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = intText(c.x.query.get('limit') ?? undefined, 'limit', 1, d.historyPageMax, d.historyPageMax);
    return [200, await d.messaging.history(c.user, conversationId(c.x.params[0], 'id'), since, limit)];
  });
  authed('post', '/v1/conversations/:id/messages', async (c) =>
    [201, await d.messaging.send(c.user, conversationId(c.x.params[0], 'id'), await c.body())]);
  authed('post', '/v1/users/:id/messages', async (c) =>
    [201, await d.messaging.sendDirect(c.user, userId(c.x.params[0], 'id'), await c.body())]);
  authed('post', '/v1/groups', async (c) => [201, await d.messaging.createGroup(c.user, await c.body())]);
  authed('post', '/v1/groups/:id/members', async (c) => {
    const body = await c.body();
    return [200, await d.messaging.addMember(c.user, conversationId(c.x.params[0], 'id'), userId(body.userId, 'userId'))];
  });
  authed('del', '/v1/groups/:id/members/:user', async (c) =>
    [200, await d.messaging.removeMember(c.user, conversationId(c.x.params[0], 'id'), userId(c.x.params[1], 'user'))]);

  for (const group of d.routes ?? []) group({ open, authed, streamed });

  if (d.crashHost) {
    const crash = d.crashHost;
    open('post', '/_test/crash-host/:index', async (x) => {
      const index = intText(x.params[0], 'index', 0, 1024, 0);
      if (!crash(index)) throw new InvalidArgumentError('no such actor host');
      return [202, { crashing: index }];
    });
  }

  open('get', '/*', async () => { throw new NotFoundError('no such route'); });
  open('post', '/*', async () => { throw new NotFoundError('no such route'); });
  open('del', '/*', async () => { throw new NotFoundError('no such route'); });
}
