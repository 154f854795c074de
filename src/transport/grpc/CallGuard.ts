// How every RPC of ours runs: the Bearer token in `authorization` metadata is checked here
// and nowhere else, rate limits are taken (per peer address before sign-in, per user
// after), and the answer is either the handler's value or its error as a gRPC status
// (naming the RPC's fields in proto spelling: fieldNames.ts).
// A call that ended first (deadline passed, client cancelled) gets nothing more: grpc-js
// has already answered it, and work not yet started is not started.
import * as grpc from '@grpc/grpc-js';
import type { AuthService } from '../../auth/AuthService.ts';
import { bearerToken } from '../../auth/tokens.ts';
import type { UserId } from '../../ids.ts';
import { describe } from '../../errors.ts';
import { log } from '../../log.ts';
import type { FrontMetrics } from '../../metrics/FrontMetrics.ts';
import type { RateLimiter } from '../RateLimiter.ts';
import { inProtoNames, SAME_NAMES, type FieldNames } from './fieldNames.ts';
import { toGrpcStatus } from './status.ts';

export interface CallGuardDeps {
  readonly auth: Pick<AuthService, 'authenticate'>;
  /** Calls anyone may make (register, login), keyed by peer address. */
  readonly ipLimiter: RateLimiter;
  /** Calls that need a token, keyed by user (the HTTP front's limiter: one budget a user). */
  readonly userLimiter: RateLimiter;
  /** Counts unary and client-streaming calls by method and status. */
  readonly metrics?: FrontMetrics;
}

export const AUTHORIZATION_METADATA = 'authorization';

/** Thrown inside a handler when its call has ended: nothing is left to do or to send. */
export class CallEnded extends Error {
  constructor() {
    super('the call has ended');
  }
}

type SurfaceCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>;

export class CallGuard {
  readonly #d: CallGuardDeps;

  constructor(d: CallGuardDeps) {
    this.#d = d;
  }

  /** A unary RPC anyone may call. */
  open<Req, Res>(method: string, fn: (req: Req) => Promise<Res>, names = SAME_NAMES): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => this.#answer(method, names, call, callback, async () => {
      this.#d.ipLimiter.take(`ip:${peerAddress(call)}`, 'requests from this address');
      return fn(call.request);
    });
  }

  /** A unary RPC that needs a token. */
  authed<Req, Res>(method: string, fn: (req: Req, user: UserId) => Promise<Res>, names = SAME_NAMES): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => this.#answer(method, names, call, callback, async () => fn(call.request, await this.#authenticate(call)));
  }

  /**
   * A client-streaming RPC that needs a token: `fn` reads the call's messages and answers
   * once. The messages wait, unread, until the caller is known.
   */
  authedClientStream<Req, Res>(
    method: string, fn: (call: grpc.ServerReadableStream<Req, Res>, user: UserId) => Promise<Res>, names = SAME_NAMES,
  ): grpc.handleClientStreamingCall<Req, Res> {
    return (call, callback) => this.#answer(method, names, call, callback, async () => fn(call, await this.#authenticate(call)));
  }

  /**
   * A server-streaming RPC that needs a token. Once the caller is known, `start` owns the
   * stream (and its end); a call that ended during authentication is never started. An
   * error `start` throws (or rejects with) before it ends the stream ends it with its status.
   */
  authedStream<Req, Res>(
    method: string, start: (call: grpc.ServerWritableStream<Req, Res>, user: UserId) => void | Promise<void>, names = SAME_NAMES,
  ): grpc.handleServerStreamingCall<Req, Res> {
    return (call) => {
      this.#authenticate(call).then((user) => start(call, user)).catch((e: unknown) => {
        if (e instanceof CallEnded) return;
        const status = toGrpcStatus(inProtoNames(e, names), { method });
        if (!call.cancelled) call.emit('error', status);
      });
    };
  }

  async #authenticate(call: SurfaceCall): Promise<UserId> {
    const [header] = call.metadata.get(AUTHORIZATION_METADATA);
    const user = await this.#d.auth.authenticate(bearerToken(typeof header === 'string' ? header : undefined));
    if (call.cancelled) throw new CallEnded();
    this.#d.userLimiter.take(`user:${user}`, 'requests by this user');
    return user;
  }

  #answer<Res>(
    method: string, names: FieldNames, call: { readonly cancelled: boolean }, callback: grpc.sendUnaryData<Res>,
    work: () => Promise<Res>,
  ): void {
    if (call.cancelled) return;
    const started = performance.now();
    const answered = (code: grpc.status): void =>
      this.#d.metrics?.grpcCall(method, call.cancelled ? 'CANCELLED' : grpc.status[code], (performance.now() - started) / 1000);
    work().then(
      (value) => {
        answered(grpc.status.OK);
        if (call.cancelled) log.debug('grpc: answer dropped, the call had ended', { method });
        else callback(null, value);
      },
      (e) => {
        if (e instanceof CallEnded) return answered(grpc.status.CANCELLED);
        const status = toGrpcStatus(inProtoNames(e, names), { method });
        answered(status.code);
        if (!call.cancelled) callback(status);
      },
    ).catch((e: unknown) => log.error('grpc: cannot answer a call', { method, err: describe(e) }));
  }
}

/** The peer's address without its port (`1.2.3.4:5678`, `::1:5678`, `unknown`). */
export function peerAddress(call: SurfaceCall): string {
  const peer = call.getPeer();
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon) : peer;
}
