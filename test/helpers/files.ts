// File transfers for e2e tests over node:http, which lets a test stream a body in pieces,
// stop reading, and vanish mid-transfer by destroying its socket.
import { request, type Agent, type ClientRequest, type IncomingMessage } from 'node:http';
import type { HttpReply } from './clients.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export interface UploadOptions {
  /** Send Content-Length, the sum of the pieces (the default); false: chunked. */
  readonly declare?: boolean;
  readonly contentType?: string;
  /** The raw `name` query value; null leaves it out. */
  readonly name?: string | null;
  /** A keep-alive agent, to send several requests down one connection. */
  readonly agent?: Agent;
}

function parse(res: IncomingMessage, body: Buffer): HttpReply {
  let parsed: unknown = body.toString();
  try { parsed = body.length ? JSON.parse(body.toString()) : undefined; } catch { /* not JSON */ }
  return { status: res.statusCode ?? 0, body: parsed, headers: new Headers(res.headers as Record<string, string>) };
}

/** Starts an upload; the caller writes the pieces. */
export function openUpload(base: string, token: string, opts: UploadOptions & { length?: number }): ClientRequest {
  const name = opts.name === undefined ? 'file.bin' : opts.name;
  const u = new URL('/v1/files', base);
  if (name !== null) u.searchParams.set('name', name);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
  if (opts.length !== undefined) headers['content-length'] = String(opts.length);
  return request(u, { method: 'POST', headers, agent: opts.agent });
}

/**
 * Uploads `pieces` one after another (waiting for the socket to drain). An answer that
 * comes before the body is all sent (a refusal) ends the upload there.
 */
export function upload(base: string, token: string, pieces: Buffer | Buffer[], opts: UploadOptions = {}): Promise<HttpReply> {
  const parts = Array.isArray(pieces) ? pieces : [pieces];
  const length = opts.declare === false ? undefined : parts.reduce((n, p) => n + p.length, 0);
  const req = openUpload(base, token, { ...opts, length });
  return new Promise((resolve, reject) => {
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const body: Buffer[] = [];
      res.on('data', (c: Buffer) => body.push(c));
      res.on('end', () => resolve(parse(res, Buffer.concat(body))));
      res.on('error', reject);
    });
    req.on('error', (e) => { if (!answered) reject(e); });
    void (async () => {
      for (const p of parts) {
        if (answered || req.destroyed) return;
        if (!req.write(p)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })();
  });
}

export interface Download extends HttpReply<Buffer> {}

/** Reads a response slowly (a pause after every piece), so the server meets backpressure. */
export async function readSlowly(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of res) {
    parts.push(c as Buffer);
    await sleep(1);
  }
  return Buffer.concat(parts);
}

export async function download(base: string, token: string, fileId: string, headers: Record<string, string> = {}): Promise<Download> {
  const res = await fetch(`${base}/v1/files/${fileId}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** Opens a download and hands back the response as it starts (the test decides how much to read). */
export function openDownload(base: string, token: string, fileId: string, agent?: Agent): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/v1/files/${fileId}`, { headers: { authorization: `Bearer ${token}` }, agent });
    req.on('response', (res) => resolve({ req, res }));
    req.on('error', reject);
    req.end();
  });
}
