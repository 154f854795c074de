// A real @grpc/grpc-js client for e2e tests, built from the same proto files the server
// loads (proto/switchboard/v1 and grpc.health.v1), over one channel.
import * as grpc from '@grpc/grpc-js';
import { loadContract, SERVICE, serviceDefinition, type ServiceName } from '../../src/transport/grpc/protos.ts';
import { http } from './clients.ts';
import type { RunningServer } from './server.ts';

const contract = loadContract();
const DEFAULT_DEADLINE_MS = 10_000;

export type Obj = Record<string, any>;

export interface CallOptions {
  readonly token?: string;
  /** Raw `authorization` metadata, for malformed-header tests. */
  readonly authorization?: string;
  readonly deadlineMs?: number;
}

export function metadataFor(o: CallOptions): grpc.Metadata {
  const md = new grpc.Metadata();
  if (o.token) md.set('authorization', `Bearer ${o.token}`);
  if (o.authorization !== undefined) md.set('authorization', o.authorization);
  return md;
}

export class GrpcClients {
  readonly #channel: grpc.Channel;
  readonly #clients = new Map<ServiceName, grpc.Client>();

  constructor(address: string, options: grpc.ChannelOptions = {}) {
    this.#channel = new grpc.Channel(address, grpc.credentials.createInsecure(), options);
  }

  client(service: ServiceName): grpc.Client {
    let c = this.#clients.get(service);
    if (!c) {
      const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(contract, service), service);
      c = new Ctor('unused', grpc.credentials.createInsecure(), { channelOverride: this.#channel });
      this.#clients.set(service, c);
    }
    return c;
  }

  /** A unary call; rejects with the grpc-js ServiceError (code, details, metadata). */
  call<R = Obj>(service: ServiceName, method: string, request: Obj = {}, o: CallOptions = {}): Promise<R> {
    const client = this.client(service) as unknown as Record<string, Function>;
    const fn = client[method];
    if (!fn) throw new Error(`no method ${service}/${method}`);
    return new Promise((resolve, reject) => {
      fn.call(client, request, metadataFor(o), { deadline: Date.now() + (o.deadlineMs ?? DEFAULT_DEADLINE_MS) },
        (err: grpc.ServiceError | null, value: R) => (err ? reject(err) : resolve(value)));
    });
  }

  auth<R = Obj>(method: string, request: Obj = {}, o: CallOptions = {}): Promise<R> {
    return this.call(SERVICE.auth, method, request, o);
  }

  messaging<R = Obj>(method: string, request: Obj = {}, o: CallOptions = {}): Promise<R> {
    return this.call(SERVICE.messaging, method, request, o);
  }

  rooms<R = Obj>(method: string, request: Obj = {}, o: CallOptions = {}): Promise<R> {
    return this.call(SERVICE.rooms, method, request, o);
  }

  files<R = Obj>(method: string, request: Obj = {}, o: CallOptions = {}): Promise<R> {
    return this.call(SERVICE.files, method, request, o);
  }

  /**
   * Opens an UploadFile call; the test writes the messages (`{ metadata }`, `{ chunk }`)
   * and ends, cancels or abandons it. `answer` settles with the File or the ServiceError.
   */
  openUpload(o: CallOptions = {}): FileUpload {
    const client = this.client(SERVICE.files) as unknown as { UploadFile: Function };
    let call!: grpc.ClientWritableStream<Obj>;
    const answer = new Promise<Obj>((resolve, reject) => {
      call = client.UploadFile(metadataFor(o), { deadline: Date.now() + (o.deadlineMs ?? DEFAULT_DEADLINE_MS) },
        (err: grpc.ServiceError | null, value: Obj) => (err ? reject(err) : resolve(value)));
    });
    answer.catch(() => { /* the test awaits it when it cares */ });
    return { call, answer };
  }

  /**
   * Uploads `chunks` after `metadata`, each written once the call can take it (client-side
   * backpressure); resolves with the File. An answer before the last chunk (a refusal)
   * stops the writing.
   */
  async upload(metadata: Obj, chunks: readonly Buffer[], o: CallOptions = {}): Promise<Obj> {
    const { call, answer } = this.openUpload(o);
    let answered = false;
    void answer.then(() => { answered = true; }, () => { answered = true; });
    for (const m of [{ metadata }, ...chunks.map((chunk) => ({ chunk }))]) {
      if (answered) break;
      if (!call.write(m)) await new Promise((r) => { call.once('drain', r); void answer.finally(() => r(undefined)); });
    }
    call.end();
    return answer;
  }

  /** Opens a DownloadFile stream; the test reads it. */
  openDownload(request: Obj, o: CallOptions = {}): grpc.ClientReadableStream<Obj> {
    const client = this.client(SERVICE.files) as unknown as { DownloadFile: Function };
    return client.DownloadFile(request, metadataFor(o), { deadline: Date.now() + (o.deadlineMs ?? DEFAULT_DEADLINE_MS) });
  }

  /** A whole DownloadFile: the `file` message, the bytes, and each chunk's size; rejects with the ServiceError. */
  async download(request: Obj, o: CallOptions = {}): Promise<Downloaded> {
    const stream = this.openDownload(request, o);
    let file: Obj | null = null;
    const chunks: Buffer[] = [];
    const order: string[] = [];
    for await (const m of stream as AsyncIterable<Obj>) {
      order.push(m.data);
      if (m.data === 'file') file = m.file;
      else chunks.push(m.chunk);
    }
    if (!file) throw new Error('no file message on the stream');
    return { file, data: Buffer.concat(chunks), chunkSizes: chunks.map((c) => c.length), order };
  }

  /** SubscribeEvents for the token's user. */
  subscribe(token: string | null, o: Omit<CallOptions, 'token'> = {}): Subscription {
    const client = this.client(SERVICE.messaging) as unknown as { SubscribeEvents: Function };
    const options = o.deadlineMs === undefined ? {} : { deadline: Date.now() + o.deadlineMs };
    const stream = client.SubscribeEvents({}, metadataFor({ ...o, token: token ?? undefined }), options) as grpc.ClientReadableStream<Obj>;
    return new Subscription(stream);
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#channel.close();
  }
}

export interface FileUpload {
  readonly call: grpc.ClientWritableStream<Obj>;
  readonly answer: Promise<Obj>;
}

export interface Downloaded {
  readonly file: Obj;
  readonly data: Buffer;
  readonly chunkSizes: number[];
  /** Which member of `data` each message set, in order (`file` first, then `chunk`s). */
  readonly order: string[];
}

/** One SubscribeEvents stream; queues every event for tests to wait on. */
export class Subscription {
  readonly stream: grpc.ClientReadableStream<Obj>;
  readonly events: Obj[] = [];
  /** How the call ended (OK never: the stream ends only in error or cancel). */
  readonly ended: Promise<grpc.StatusObject>;
  #waiters: { pred: (e: Obj) => boolean; resolve: (e: Obj) => void }[] = [];

  constructor(stream: grpc.ClientReadableStream<Obj>) {
    this.stream = stream;
    stream.on('data', (e: Obj) => {
      const w = this.#waiters.find((x) => x.pred(e));
      if (w) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      } else {
        this.events.push(e);
      }
    });
    this.ended = new Promise((resolve) => {
      stream.on('status', (s: grpc.StatusObject) => resolve(s));
      stream.on('error', () => { /* the status says it */ });
    });
  }

  /** Resolves once the server says the subscription is in place. */
  async ready(timeoutMs = DEFAULT_DEADLINE_MS): Promise<string> {
    const e = await this.next((x) => x.event === 'ready', timeoutMs);
    return e.ready.userId;
  }

  /** The first event (already received or still to come) that matches, consumed. */
  next(pred: (e: Obj) => boolean, timeoutMs = DEFAULT_DEADLINE_MS): Promise<Obj> {
    const i = this.events.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching event within ${timeoutMs} ms; have: ${JSON.stringify(this.events).slice(0, 500)}`));
      }, timeoutMs);
      const done = (e: Obj): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.#waiters.push({ pred, resolve: done });
    });
  }

  /** Waits for `n` messages of a conversation; returns them in arrival order. */
  async messages(conversationId: string, n: number, timeoutMs = DEFAULT_DEADLINE_MS): Promise<Obj[]> {
    const got: Obj[] = [];
    for (let i = 0; i < n; i++) {
      const e = await this.next((x) => x.event === 'message' && x.message.conversationId === conversationId, timeoutMs);
      got.push(e.message);
    }
    return got;
  }

  /** The next RoomEvent of a room with `event` set (`memberJoined`, `memberLeft`, `closed`, `signal`), consumed. */
  async roomEvent(roomId: string, event: string, timeoutMs = DEFAULT_DEADLINE_MS): Promise<Obj> {
    const e = await this.next((x) => x.event === 'roomEvent' && x.roomEvent.roomId === roomId && x.roomEvent.event === event, timeoutMs);
    return e.roomEvent;
  }

  cancel(): Promise<grpc.StatusObject> {
    this.stream.cancel();
    return this.ended;
  }
}

/** Asserts a rejected call's status code (by name) and that its message matches. */
export async function expectStatus(call: Promise<unknown>, code: keyof typeof grpc.status, details?: RegExp): Promise<grpc.ServiceError> {
  try {
    await call;
  } catch (e) {
    const err = e as grpc.ServiceError;
    if (err.code !== grpc.status[code]) {
      throw new Error(`expected ${code}, got ${grpc.status[err.code]} (${err.details})`);
    }
    if (details && !details.test(err.details)) throw new Error(`expected details matching ${details}, got "${err.details}"`);
    return err;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

export const TEST_PASSWORD = 'correct horse battery';
let counter = 0;

/** Registers a fresh user over gRPC. */
export async function registerGrpc(g: GrpcClients, prefix = 'user'): Promise<{ userId: string; username: string; token: string }> {
  const username = `${prefix}${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 6)}`;
  const r = await g.auth('Register', { username, password: TEST_PASSWORD });
  return { userId: r.userId, username: r.username, token: r.token };
}

/** One fresh user per name, registered over gRPC, in the order named. */
export function registerGrpcUsers<N extends string[]>(g: GrpcClients, ...names: N): Promise<{ [K in keyof N]: Obj }> {
  return Promise.all(names.map((n) => registerGrpc(g, n))) as Promise<{ [K in keyof N]: Obj }>;
}

/** How many sockets and event streams the server's connection registry holds (/healthz). */
export async function registryConnections(server: RunningServer): Promise<number> {
  return (await http(server.url, 'GET', '/healthz')).body.connections;
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
