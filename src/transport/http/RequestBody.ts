// A request body as a Node Readable, streamed from uWS with backpressure: when the reader
// falls behind, the socket is paused (res.pause: uWS stops reading it, and stops its idle
// timer) and resumed when the reader asks for more. An upload holds about one buffer in
// memory, whatever its size. uWS hands chunks only to an onData registered before the
// route handler returns, so this is built in the handler, before any await.
import { Readable } from 'node:stream';
import type { HttpResponse } from './uws.ts';

/** Bytes buffered for a reader before the socket is paused. */
export const BODY_BUFFER_BYTES = 256 * 1024;

/** The client went away in the middle of the request. Nobody is left to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super('client disconnected');
    this.name = 'ClientGoneError';
  }
}

export class RequestBody extends Readable {
  readonly #res: HttpResponse;
  /** False once the response is finished or aborted: `res` must not be touched then. */
  readonly #live: () => boolean;
  #paused = false;
  /** Every byte of the body arrived. */
  complete = false;

  constructor(res: HttpResponse, live: () => boolean) {
    super({ highWaterMark: BODY_BUFFER_BYTES });
    this.#res = res;
    this.#live = live;
    // The reader sees a failure through its own iteration; nobody else may crash on it.
    this.on('error', () => {});
    res.onData((chunk, isLast) => {
      if (this.destroyed) return;
      // uWS reuses the chunk's memory once this returns: copy it.
      const more = chunk.byteLength === 0 || this.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        this.complete = true;
        this.push(null);
        // uWS still delivers what it had read before a pause, the end included: a socket
        // left paused would never read the connection's next request.
        this.#resume();
      } else if (!more && !this.#paused && this.#live()) {
        this.#paused = true;
        res.pause();
      }
    });
  }

  override _read(): void {
    this.#resume();
  }

  #resume(): void {
    if (!this.#paused || !this.#live()) return;
    this.#paused = false;
    this.#res.resume();
  }

  /** The client went away: whoever reads learns it. */
  gone(): void {
    if (!this.complete) this.destroy(new ClientGoneError());
  }
}
