// One HTTP request/response on uWS, made safe to use across awaits: the request's fields
// are copied up front (uWS's request object dies with the callback), onAborted is always
// registered (an abort without it ends the process), and writes are corked and skipped
// once the client is gone.
import { PayloadTooLargeError, InvalidArgumentError, toPublicError, RateLimitedError } from '../../errors.ts';
import type { HttpRequest, HttpResponse } from './uws.ts';

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

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

  /**
   * `bodyLimit`: buffer a JSON body of at most this many bytes. uWS hands body chunks only
   * to an onData registered before the handler returns, so reading starts here.
   */
  constructor(res: HttpResponse, req: HttpRequest, paramCount: number, extraHeaders: [string, string][], bodyLimit?: number) {
    this.#res = res;
    this.#extraHeaders = extraHeaders;
    this.method = req.getMethod();
    this.url = req.getUrl();
    this.query = new URLSearchParams(req.getQuery() ?? '');
    this.params = Array.from({ length: paramCount }, (_, i) => decodeURIComponent(req.getParameter(i)));
    req.forEach((k, v) => this.#headers.set(k, v));
    this.ip = Buffer.from(res.getRemoteAddressAsText()).toString();
    res.onAborted(() => { this.#done = true; });
    if (bodyLimit !== undefined && this.method !== 'get' && this.method !== 'options') {
      this.#body = this.#readJson(bodyLimit);
      this.#body.catch(() => {}); // a handler that never asks for the body must not leave it unhandled
    }
  }

  header(name: string): string | undefined {
    return this.#headers.get(name);
  }

  get finished(): boolean {
    return this.#done;
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

  empty(status: number, headers: [string, string][] = []): void {
    this.#write(status, '', headers);
  }

  error(err: unknown): void {
    const pub = toPublicError(err, { method: this.method, url: this.url });
    const headers: [string, string][] = [];
    if (err instanceof RateLimitedError) headers.push(['retry-after', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)))]);
    // A body we refused is not read further: close the connection after answering.
    const close = err instanceof PayloadTooLargeError;
    this.#write(pub.mapping.http, JSON.stringify({ error: { code: pub.kind, message: pub.message } }),
      [['content-type', 'application/json'], ...headers], close);
  }

  #write(status: number, body: string, headers: [string, string][], close = false): void {
    if (this.#done) return;
    this.#done = true;
    this.#res.cork(() => {
      this.#res.writeStatus(`${status} ${STATUS_TEXT[status] ?? ''}`);
      for (const [k, v] of this.#extraHeaders) this.#res.writeHeader(k, v);
      for (const [k, v] of headers) this.#res.writeHeader(k, v);
      this.#res.end(body, close);
    });
  }
}
