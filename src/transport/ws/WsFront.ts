// The WebSocket front on uWS: authenticate (Bearer header at upgrade, or an `auth` frame
// first), then frames to send, sync and list; incoming messages pushed to every socket of
// the user. A socket that stops reading is closed (4008), never buffered without bound.
import { InvalidArgumentError, toPublicError, UnauthenticatedError } from '../../errors.ts';
import type { UserId } from '../../ids.ts';
import { log } from '../../log.ts';
import type { AuthService } from '../../auth/AuthService.ts';
import { bearerToken } from '../../auth/tokens.ts';
import type { FrontMetrics } from '../../metrics/FrontMetrics.ts';
import type { MessagingService } from '../../service/MessagingService.ts';
import type { RoomService } from '../../service/RoomService.ts';
import { conversationId, str, userId } from '../../service/validate.ts';
import type { Connection, Connections } from '../Connections.ts';
import type { RateLimiter } from '../RateLimiter.ts';
import { STATUS_TEXT } from '../http/HttpExchange.ts';
import { uWS, type TemplatedApp, type WebSocket } from '../http/uws.ts';
import { CLOSE, errorFrame, parseFrame, refOf, replyFrame, type ClientFrame } from './frames.ts';
import { handleRoomFrame, isRoomFrame } from './roomFrames.ts';

export interface WsFrontDeps {
  readonly auth: AuthService;
  readonly messaging: MessagingService;
  readonly rooms: RoomService;
  /** Where authenticated sockets register to take the user's pushes. */
  readonly connections: Connections;
  readonly frameLimiter: RateLimiter;
  readonly maxFrameBytes: number;
  readonly maxBufferedBytes: number;
  readonly idleTimeoutS: number;
  readonly authTimeoutMs: number;
  /** Counts frames, error frames and the closes the server makes. */
  readonly metrics?: FrontMetrics;
}

interface Conn {
  user: UserId | null;
  closed: boolean;
  readonly id: number;
  authTimer: NodeJS.Timeout | null;
  /** This socket as the connection registry knows it, once authenticated. */
  link: Connection | null;
}

export const WS_PATH = '/v1/ws';
/**
 * uWS cuts a connection without a close frame when a frame passes its maxPayloadLength.
 * We let frames up to this multiple of our limit through to close them with 1009 and a
 * reason; only bigger ones are cut.
 */
export const HARD_FRAME_LIMIT_FACTOR = 4;
/** uWS's send() result when it dropped the frame for backpressure. */
const SEND_DROPPED = 2;
/** uWS's own drop threshold, far enough above ours that it never drops first. */
export const UWS_BACKPRESSURE_FACTOR = 8;

export class WsFront {
  readonly #d: WsFrontDeps;
  #nextId = 1;

  constructor(app: TemplatedApp, d: WsFrontDeps) {
    this.#d = d;
    app.ws<Conn>(WS_PATH, {
      maxPayloadLength: d.maxFrameBytes * HARD_FRAME_LIMIT_FACTOR,
      maxBackpressure: d.maxBufferedBytes * UWS_BACKPRESSURE_FACTOR,
      closeOnBackpressureLimit: 0,
      idleTimeout: d.idleTimeoutS,
      sendPingsAutomatically: true,
      compression: uWS.DISABLED,
      upgrade: (res, req, context) => {
        // All of it here, synchronously: the uWS build we run may close a socket upgraded
        // after an await (uNetworking/uWebSockets#1928: cork() after an async upgrade reads
        // the new WebSocket's memory as HTTP state; seen as a 1006 close a millisecond after
        // `ready`), and an uncorked async upgrade prints a warning each time. So the Bearer
        // token is checked at once (TokenIssuer.verifyNow, held to agree with jose).
        const authorization = req.getHeader('authorization');
        let user: UserId | null = null;
        if (authorization) {
          try {
            user = d.auth.authenticateNow(bearerToken(authorization));
          } catch (e) {
            const pub = toPublicError(e);
            res.writeStatus(`${pub.mapping.http} ${STATUS_TEXT[pub.mapping.http] ?? ''}`).writeHeader('content-type', 'application/json')
              .end(JSON.stringify({ error: { code: pub.kind, message: pub.message } }));
            return;
          }
        }
        res.upgrade<Conn>({ user, closed: false, id: this.#nextId++, authTimer: null, link: null },
          req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws) => {
        const c = ws.getUserData();
        if (c.user) return this.#authenticated(ws, c.user);
        c.authTimer = setTimeout(() => {
          if (!c.closed && !c.user) this.#end(ws, CLOSE.AUTH_TIMEOUT, 'authenticate within the time allowed');
        }, d.authTimeoutMs);
      },
      message: (ws, data, isBinary) => this.#onFrame(ws, data, isBinary),
      close: (ws) => {
        const c = ws.getUserData();
        c.closed = true;
        if (c.authTimer) clearTimeout(c.authTimer);
        if (c.user && c.link) d.connections.remove(c.user, c.link);
      },
    });
  }

  /** The server closes a socket (a clear code and reason for the client). */
  #end(ws: WebSocket<Conn>, code: number, reason: string): void {
    this.#d.metrics?.wsClosed(code);
    ws.end(code, reason);
  }

  /** An error frame for `e`. */
  #sendError(ws: WebSocket<Conn>, e: unknown, ref: string | undefined, context?: Record<string, unknown>): string {
    const pub = toPublicError(e, context);
    this.#d.metrics?.wsError(pub.mapping.ws);
    this.#send(ws, errorFrame(pub.mapping.ws, pub.message, ref));
    return pub.message;
  }

  /** `ref`: the `auth` frame's, repeated on `ready`. */
  #authenticated(ws: WebSocket<Conn>, user: UserId, ref?: string): void {
    const c = ws.getUserData();
    c.user = user;
    if (c.authTimer) clearTimeout(c.authTimer);
    c.link ??= {
      push: (frame) => this.#send(ws, frame),
      close: () => {
        if (!c.closed) { c.closed = true; this.#end(ws, CLOSE.GOING_AWAY, 'server shutting down'); }
      },
    };
    this.#d.connections.add(user, c.link);
    this.#send(ws, replyFrame('ready', ref, { userId: user }));
  }

  /**
   * Sends unless the socket is gone. A socket that still holds more than the limit of
   * unsent bytes when the next frame comes is not reading: it is closed, not buffered for.
   */
  #send(ws: WebSocket<Conn>, frame: string): void {
    const c = ws.getUserData();
    if (c.closed) return;
    const dropped = ws.getBufferedAmount() > this.#d.maxBufferedBytes || ws.send(frame, false, false) === SEND_DROPPED;
    if (dropped) {
      c.closed = true;
      log.warn('ws: closing a socket that does not read', { conn: c.id, buffered: ws.getBufferedAmount() });
      this.#end(ws, CLOSE.BACKPRESSURE, 'too slow: reconnect and sync from history');
    }
  }

  #onFrame(ws: WebSocket<Conn>, data: ArrayBuffer, isBinary: boolean): void {
    const c = ws.getUserData();
    if (c.closed) return;
    if (data.byteLength > this.#d.maxFrameBytes) {
      c.closed = true;
      this.#end(ws, CLOSE.FRAME_TOO_LARGE, `frame larger than ${this.#d.maxFrameBytes} bytes`);
      return;
    }
    let frame: ClientFrame;
    try {
      frame = parseFrame(data, isBinary);
      this.#d.frameLimiter.take(c.user ? `user:${c.user}` : `conn:${c.id}`, 'frames');
    } catch (e) {
      this.#sendError(ws, e, refOf(data));
      return;
    }
    this.#d.metrics?.wsFrame(frame.type);
    this.#handle(ws, c, frame).then(
      (reply) => { if (reply !== undefined) this.#send(ws, reply); },
      (e) => {
        const message = this.#sendError(ws, e, frame.ref, { frame: frame.type });
        if (frame.type === 'auth' && !c.user && !c.closed) {
          c.closed = true;
          this.#end(ws, CLOSE.AUTH_FAILED, message.slice(0, 100));
        }
      },
    );
  }

  async #handle(ws: WebSocket<Conn>, c: Conn, f: ClientFrame): Promise<string | undefined> {
    const { messaging } = this.#d;
    if (f.type === 'auth') {
      const user = await this.#d.auth.authenticate(str(f.fields, 'token', 1, 4096));
      if (c.closed) return undefined;
      if (c.user) {
        // A socket belongs to one user for its life: a fresh token of theirs is fine, another's is refused.
        if (user !== c.user) throw new InvalidArgumentError('this socket is signed in as another user; open a new socket for this one');
        return replyFrame('ready', f.ref, { userId: c.user });
      }
      this.#authenticated(ws, user, f.ref);
      return undefined;
    }
    if (f.type === 'ping') return replyFrame('pong', f.ref, {});
    const user = c.user;
    if (!user) throw new UnauthenticatedError('send an "auth" frame first');
    if (isRoomFrame(f)) return handleRoomFrame(this.#d.rooms, user, f);
    switch (f.type) {
      case 'send': {
        if (f.fields.conversationId === undefined && f.fields.to === undefined) {
          throw new InvalidArgumentError('set "conversationId" (a conversation) or "to" (a user)');
        }
        const ack = f.fields.conversationId !== undefined
          ? await messaging.send(user, conversationId(f.fields.conversationId, 'conversationId'), f.fields)
          : await messaging.sendDirect(user, userId(f.fields.to, 'to'), f.fields);
        return replyFrame('ack', f.ref, ack);
      }
      case 'sync': {
        const conv = conversationId(f.fields.conversationId, 'conversationId');
        const { sinceSeq, limit } = messaging.historyLimit(f.fields);
        return replyFrame('history', f.ref, await messaging.history(user, conv, sinceSeq, limit));
      }
      case 'conversations':
        return replyFrame('conversations', f.ref, { conversations: await messaging.conversations(user) });
    }
    return undefined;
  }
}
