// Real clients for e2e tests: fetch for HTTP, the `ws` package for WebSocket.
import WebSocket from 'ws';

export interface Registered {
  readonly userId: string;
  readonly username: string;
  readonly token: string;
}

export interface HttpReply<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export async function http<T = any>(base: string, method: string, path: string, opts: {
  token?: string; body?: unknown; raw?: string; headers?: Record<string, string>;
} = {}): Promise<HttpReply<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

let counter = 0;
export async function register(base: string, prefix = 'user'): Promise<Registered> {
  const username = `${prefix}${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 6)}`;
  const r = await http<Registered>(base, 'POST', '/v1/auth/register', { body: { username, password: 'correct horse battery' } });
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export type Frame = Record<string, any> & { type: string };

/** A WebSocket client that queues every frame it receives, for tests to wait on. */
export class WsClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  #waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #ref = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Frame;
      this.frames.push(f);
      for (const w of [...this.#waiters]) {
        if (w.pred(f)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(f);
        }
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Connects and authenticates with the Bearer header (or an auth frame with `viaFrame`). */
  static async connect(wsUrl: string, token: string | null, opts: { viaFrame?: boolean; headers?: Record<string, string> } = {}): Promise<WsClient> {
    const headers: Record<string, string> = { ...opts.headers };
    if (token && !opts.viaFrame) headers.authorization = `Bearer ${token}`;
    const ws = new WebSocket(wsUrl, { headers, maxPayload: 64 * 1024 * 1024 });
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    if (token) {
      if (opts.viaFrame) client.sendRaw(JSON.stringify({ type: 'auth', token }));
      await client.next((f) => f.type === 'ready' || f.type === 'error');
    }
    return client;
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Sends a frame with a fresh ref and waits for the answer carrying that ref. */
  async request(frame: Record<string, unknown>, timeoutMs = 10_000): Promise<Frame> {
    const ref = `r${++this.#ref}`;
    const answer = this.next((f) => f.ref === ref, timeoutMs);
    this.ws.send(JSON.stringify({ ...frame, ref }));
    return answer;
  }

  /** The first frame (already received or still to come) that matches, consumed. */
  next(pred: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const i = this.frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching frame within ${timeoutMs} ms; have: ${JSON.stringify(this.frames).slice(0, 500)}`));
      }, timeoutMs);
      const done = (f: Frame): void => {
        clearTimeout(timer);
        const k = this.frames.indexOf(f);
        if (k >= 0) this.frames.splice(k, 1);
        resolve(f);
      };
      this.#waiters.push({ pred, resolve: done });
    });
  }

  /** Waits until `n` message frames of a conversation have arrived; returns them in order. */
  async messages(conversationId: string, n: number, timeoutMs = 10_000): Promise<Frame[]> {
    const got: Frame[] = [];
    for (let i = 0; i < n; i++) {
      got.push(await this.next((f) => f.type === 'message' && f.conversationId === conversationId, timeoutMs));
    }
    return got;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}
