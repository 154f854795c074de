// One SubscribeEvents call: a connection in the registry, beside the user's WebSockets,
// that turns the frames pushed to the user into events on the stream. It holds nothing
// but its registry entry and one listener, and gives both back when the call ends,
// however it ends (client cancel, deadline, lost connection, server shutdown).
import * as grpc from '@grpc/grpc-js';
import { describe, UnavailableError } from '../../errors.ts';
import type { UserId } from '../../ids.ts';
import { log } from '../../log.ts';
import type { Connection, Connections } from '../Connections.ts';
import { toGrpcStatus } from './status.ts';
import { eventOfPush, type SubscribeEventsResponse } from './wire.ts';

export type EventCall = grpc.ServerWritableStream<unknown, SubscribeEventsResponse>;

/**
 * A subscriber that does not read: ended, not buffered for (the WebSocket front's 4008).
 * It is a transport condition, not an internal error kind, so it is not in errors.ts.
 */
export const SLOW_SUBSCRIBER_STATUS = {
  code: grpc.status.RESOURCE_EXHAUSTED,
  details: 'too slow: subscribe again and read what you missed with ListMessages',
} as const;

export class EventStream implements Connection {
  readonly #call: EventCall;
  readonly #user: UserId;
  readonly #connections: Connections;
  /** Events written but not yet taken by the transport, beyond which the subscriber is slow. */
  readonly #maxPending: number;
  #ended = false;
  readonly #onCancelled = (): void => this.#release();

  private constructor(call: EventCall, user: UserId, connections: Connections, maxPending: number) {
    this.#call = call;
    this.#user = user;
    this.#connections = connections;
    this.#maxPending = maxPending;
  }

  /** Registers the call for `user`'s pushes and tells the client it is in place. */
  static start(call: EventCall, user: UserId, connections: Connections, maxPending: number): EventStream {
    const s = new EventStream(call, user, connections, maxPending);
    call.once('cancelled', s.#onCancelled);
    connections.add(user, s);
    call.write({ ready: { userId: user } });
    return s;
  }

  push(frame: string): void {
    if (this.#ended) return;
    let event: SubscribeEventsResponse | null;
    try {
      event = eventOfPush(frame);
    } catch (e) {
      log.error('grpc: cannot read a pushed frame', { err: describe(e) });
      return;
    }
    if (!event) return;
    if (this.#call.writableLength >= this.#maxPending) {
      log.warn('grpc: ending a subscription that does not read', { pending: this.#call.writableLength });
      return this.#end(SLOW_SUBSCRIBER_STATUS);
    }
    this.#call.write(event);
  }

  close(): void {
    this.#end(toGrpcStatus(new UnavailableError('server is shutting down; subscribe again'), {}));
  }

  /** Ends the call with `status` once what was written before is sent. */
  #end(status: Partial<grpc.StatusObject>): void {
    if (this.#ended) return;
    this.#release();
    this.#call.emit('error', status);
  }

  #release(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#call.off('cancelled', this.#onCancelled);
    this.#connections.remove(this.#user, this);
  }
}
