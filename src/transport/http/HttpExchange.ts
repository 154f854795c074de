// One HTTP request/response on uWS, made safe to use across awaits: the request's fields
// are copied up front (uWS's request object dies with the callback), onAborted is always
// registered (an abort without it ends the process), and writes are corked and skipped
// once the client is gone. Bodies stream both ways where a route asks (files): in through
// RequestBody, out with uWS's tryEnd/onWritable backpressure.
import type { Readable } from 'node:stream';
import {
  PayloadTooLargeError, InvalidArgumentError, toPublicError, RateLimitedError, RangeNotSatisfiableError,
} from '../../errors.ts';
import { log } from '../../log.ts';
import { ClientGoneError, RequestBody } from './RequestBody.ts';
import type { HttpRequest, HttpResponse } from './uws.ts';

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** How a route takes its request body: a JSON body of at most N bytes, or a stream. */
export type BodyMode = number | 'stream';

export class HttpExchange {
  readonly method: string;
  readonly url: string;
  readonly query: URLSearchParams;
  readonly params: string[];
  readonly ip: string;
  readonly #headers = new Map<string, string>();
  readonly #res: HttpResponse;
  readonly #extraHeaders: [string, string][];
  #done = false;
  #body: Promise<unknown> | null = null;
  #stream: RequestBody | null = null;
  /** Run when the client goes away (ends a download's source, wakes a wait for writable). */
  readonly #onAbort = new Set<() => void>();
  /**
   * What the next writable event continues. One handler is registered per response and
   * calls whatever waits now: with a handler per wait, we saw this uWS build call the
   * handler of an earlier wait for a later one, and that download stalled.
   */
  #writable: ((offset: number) => boolean) | null = null;
  #writableRegistered = false;
  /** Told the status when the response head goes out (metrics); never steers. */
  onHead: ((status: number) => void) | null = null;

  /**
   * `body`: buffer a JSON body of at most this many bytes, or stream it ('stream'). uWS
   * hands body chunks only to an onData registered before the handler returns, so reading
   * starts here.
   */
  constructor(res: HttpResponse, req: HttpRequest, paramCount: number, extraHeaders: [string, string][], body?: BodyMode) {
    this.#res = res;
    this.#extraHeaders = extraHeaders;
    this.method = req.getMethod();
    this.url = req.getUrl();
    this.query = new URLSearchParams(req.getQuery() ?? '');
    this.params = Array.from({ length: paramCount }, (_, i) => decodeURIComponent(req.getParameter(i)));
    req.forEach((k, v) => this.#headers.set(k, v));
    this.ip = Buffer.from(res.getRemoteAddressAsText()).toString();
    res.onAborted(() => {
      this.#done = true;
      this.#stream?.gone();
      for (const f of this.#onAbort) f();
    });
    if (body === 'stream') this.#stream = new RequestBody(res, () => !this.#done);
    else if (body !== undefined && this.method !== 'get' && this.method !== 'options') {
      this.#body = this.#readJson(body);
      this.#body.catch(() => {}); // a handler that never asks for the body must not leave it unhandled
    }
  }

  header(name: string): string | undefined {
    return this.#headers.get(name);
  }

  get finished(): boolean {
    return this.#done;
  }

  /** The body as a stream, for a route registered to stream it. */
  bodyStream(): RequestBody {
    if (!this.#stream) throw new Error(`${this.method} ${this.url} does not stream its body`);
    return this.#stream;
  }

  /** The JSON body (an empty body reads as {}). */
  body(): Promise<unknown> {
    return this.#body ?? Promise.resolve({});
  }

  /** The body as JSON, refused past `limit` bytes without reading the rest into memory. */
  #readJson(limit: number): Promise<unknown> {
    const declared = Number(this.header('content-length') ?? '0');
    if (declared > limit) return Promise.reject(new PayloadTooLargeError(`request body is larger than ${limit} bytes`));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      this.#res.onData((chunk, isLast) => {
        if (failed) return;
        size += chunk.byteLength;
        if (size > limit) {
          failed = true;
          reject(new PayloadTooLargeError(`request body is larger than ${limit} bytes`));
          return;
        }
        chunks.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory after this call
        if (!isLast) return;
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return resolve({});
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new InvalidArgumentError('request body is not valid JSON'));
        }
      });
    });
  }

  json(status: number, body: unknown, headers: [string, string][] = []): void {
    this.#write(status, body === undefined ? '' : JSON.stringify(body), [['content-type', 'application/json'], ...headers]);
  }

  /** A text body of the given media type (e.g. Prometheus' exposition format). */
  text(status: number, body: string, contentType: string): void {
    this.#write(status, body, [['content-type', contentType]]);
  }

  empty(status: number, headers: [string, string][] = []): void {
    this.#write(status, '', headers);
  }

  /** 304: headers only, and no Content-Length (it would have to be the full body's). */
  notModified(headers: [string, string][]): void {
    this.#write(304, null, headers);
  }

  error(err: unknown): void {
    if (this.#done && err instanceof ClientGoneError) return;
    const pub = toPublicError(err, { method: this.method, url: this.url });
    const headers: [string, string][] = [];
    if (err instanceof RateLimitedError) headers.push(['retry-after', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)))]);
    if (err instanceof RangeNotSatisfiableError) headers.push(['content-range', `bytes */${err.size}`]);
    // A body we refused is not read further: close the connection after answering.
    const close = err instanceof PayloadTooLargeError || (this.#stream !== null && !this.#stream.complete);
    this.#write(pub.mapping.http, JSON.stringify({ error: { code: pub.kind, message: pub.message } }),
      [['content-type', 'application/json'], ...headers], close);
  }

  /**
   * Answers with the `length` bytes `source` yields, as fast as the client takes them: a
   * chunk the socket cannot take is finished from onWritable (uWS's backpressure) before
   * the next is read, so a download holds about one chunk in memory. A client that goes
   * away ends the source. A source that fails before the first byte is an ordinary error
   * (thrown); after it, the connection is cut.
   */
  async stream(status: number, headers: [string, string][], source: Readable, length: number): Promise<void> {
    let sent = 0;
    const end = (): void => {
      log.debug('http: the client left mid-download', { url: this.url, sent, length });
      source.destroy();
    };
    this.#onAbort.add(end);
    let started = false;
    try {
      if (this.#done) return;
      for await (const chunk of source) {
        const before = this.#res.getWriteOffset();
        let ok = false;
        this.#res.cork(() => {
          if (!started) this.#head(status, headers);
          started = true;
          ok = this.#tryEnd(chunk as Buffer, length);
        });
        if (!ok && !this.#done) await this.#drain(chunk as Buffer, before, length);
        if (this.#done) break;
        sent = before + (chunk as Buffer).length;
      }
      if (this.#done) return;
      if (length === 0) return this.#write(status, '', headers);
      log.warn('http: a download source ended short; cutting the connection', { url: this.url });
      this.#res.close();
    } catch (e) {
      if (this.#done) return;
      if (!started) throw e;
      log.warn('http: a download failed midway; cutting the connection', { url: this.url, err: String(e) });
      this.#res.close();
    } finally {
      this.#onAbort.delete(end);
      source.destroy();
    }
  }

  /** Sends what it can of `chunk`; true when all of it went (or the response is complete). */
  #tryEnd(chunk: Buffer, length: number): boolean {
    const [ok, finished] = this.#res.tryEnd(chunk, length);
    if (finished) this.#done = true;
    return ok || finished;
  }

  /**
   * Sends the rest of a chunk that met backpressure, each time the socket drains (as uWS's
   * own streaming example does: from inside onWritable). Resolves when all of it went, or
   * the client went away.
   */
  #drain(chunk: Buffer, before: number, length: number): Promise<void> {
    if (!this.#writableRegistered) {
      this.#writableRegistered = true;
      this.#res.onWritable((offset) => this.#writable?.(offset) ?? true);
    }
    return new Promise((resolve) => {
      const done = (): void => {
        this.#writable = null;
        this.#onAbort.delete(done);
        resolve();
      };
      this.#onAbort.add(done);
      this.#writable = (offset) => {
        const ok = this.#tryEnd(chunk.subarray(offset - before), length);
        if (ok) done();
        return ok;
      };
    });
  }

  #head(status: number, headers: [string, string][]): void {
    this.onHead?.(status);
    this.#res.writeStatus(`${status} ${STATUS_TEXT[status] ?? ''}`);
    for (const [k, v] of this.#extraHeaders) this.#res.writeHeader(k, v);
    for (const [k, v] of headers) this.#res.writeHeader(k, v);
  }

  /** `body` null: no body and no Content-Length (304). */
  #write(status: number, body: string | null, headers: [string, string][], close = false): void {
    if (this.#done) return;
    this.#done = true;
    this.#res.cork(() => {
      this.#head(status, headers);
      if (body === null) this.#res.endWithoutBody();
      else this.#res.end(body, close);
    });
  }
}
