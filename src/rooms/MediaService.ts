// The media side of rooms in SFU mode: mediasoup workers (one per core), a router per room
// spread across them, and each member's WebRTC transports, producers and consumers.
// mediasoup objects live in the process that started the worker, so this runs on the main
// thread beside the fronts; the room actor (on a host thread) decides who may use it.
// Where no worker can start (its binary could not be built), it says so once and rooms
// run peer to peer.
import { createWorker, type types } from 'mediasoup';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import type { RoomId, UserId } from '../ids.ts';
import { log } from '../log.ts';
import { str, type Fields } from '../service/validate.ts';

/** The codecs every router offers: Opus audio, VP8 and H264 video. */
export const MEDIA_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  {
    kind: 'video', mimeType: 'video/H264', clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];
export const MEDIA_OPS = [
  'capabilities', 'createTransport', 'connectTransport', 'produce', 'consume', 'resumeConsumer', 'closeProducer', 'producers',
] as const;
export type MediaOp = (typeof MEDIA_OPS)[number];

export interface MediaSettings {
  readonly workers: number;
  readonly listenIp: string;
  readonly announcedAddress: string | undefined;
}

/** Where media events go (the room actor's members, one member, the room's end), and what is open. */
export interface MediaEvents {
  /** Is the room open, as this node last heard? No router is made for a room that is not. */
  isOpen(room: RoomId): boolean;
  /** A frame for every member of `room` but `from`. */
  relay(room: RoomId, from: UserId, frame: string): void;
  /** A frame for every device of one member. */
  deliver(user: UserId, frame: string): void;
  /** The room's worker died: the room must close. */
  failed(room: RoomId): void;
}

interface Peer {
  readonly transports: Map<string, types.WebRtcTransport>;
  readonly producers: Map<string, types.Producer>;
  readonly consumers: Map<string, types.Consumer>;
}

interface MediaRoom {
  readonly router: types.Router;
  readonly worker: types.Worker;
  readonly peers: Map<UserId, Peer>;
}

export class MediaService {
  readonly #settings: MediaSettings;
  readonly #events: MediaEvents;
  readonly #workers: types.Worker[] = [];
  readonly #routersOn = new Map<types.Worker, number>();
  readonly #rooms = new Map<RoomId, Promise<MediaRoom>>();
  #unavailable: string | null = 'not started';
  #closed = false;

  constructor(settings: MediaSettings, events: MediaEvents) {
    this.#settings = settings;
    this.#events = events;
  }

  /** Null when rooms can use the SFU, else why they cannot. */
  get unavailableReason(): string | null {
    return this.#unavailable;
  }

  get available(): boolean {
    return this.#unavailable === null;
  }

  /** Starts the workers once. Never throws: without a worker, rooms run p2p. */
  async start(): Promise<void> {
    if (this.#settings.workers === 0) {
      this.#unavailable = 'MEDIA_WORKERS is 0';
    } else {
      try {
        for (let i = 0; i < this.#settings.workers; i++) this.#adopt(await createWorker({ logLevel: 'warn' }));
        this.#unavailable = null;
      } catch (e) {
        for (const w of this.#workers.splice(0)) w.close();
        this.#unavailable = `mediasoup worker cannot start: ${(e as Error).message}`;
      }
    }
    if (this.#unavailable) log.warn('media: rooms run p2p', { reason: this.#unavailable });
    else log.info('media: rooms run through mediasoup (sfu)', { workers: this.#workers.length });
  }

  #adopt(worker: types.Worker): void {
    this.#workers.push(worker);
    this.#routersOn.set(worker, 0);
    worker.on('died', (err) => void this.#workerDied(worker, err));
  }

  /** Its rooms close and their members are told; a replacement worker is started. */
  async #workerDied(worker: types.Worker, err: Error): Promise<void> {
    log.error('media: mediasoup worker died', { pid: worker.pid, err: err.message });
    const i = this.#workers.indexOf(worker);
    if (i >= 0) this.#workers.splice(i, 1);
    this.#routersOn.delete(worker);
    for (const [room, pending] of [...this.#rooms]) {
      const media = await pending.catch(() => null);
      if (media && media.worker !== worker) continue;
      this.#rooms.delete(room);
      this.#events.failed(room);
    }
    if (this.#closed) return;
    try {
      this.#adopt(await createWorker({ logLevel: 'warn' }));
    } catch (e) {
      log.error('media: cannot replace a dead worker', { err: (e as Error).message, left: this.#workers.length });
      if (this.#workers.length === 0) this.#unavailable = 'every mediasoup worker died';
    }
  }

  /** Test fault: kill one worker process as a crash would. */
  killWorker(): boolean {
    const w = this.#workers[0];
    if (!w) return false;
    process.kill(w.pid, 'SIGKILL');
    return true;
  }

  /** The room's router, created on first use on the worker with the fewest routers. */
  #room(room: RoomId): Promise<MediaRoom> {
    let pending = this.#rooms.get(room);
    if (!pending) {
      const worker = [...this.#routersOn].sort((a, b) => a[1] - b[1])[0]?.[0];
      if (!worker || !this.available) throw new InvalidArgumentError('no media server: this room runs p2p');
      if (!this.#events.isOpen(room)) throw new NotFoundError('room is closed');
      this.#routersOn.set(worker, this.#routersOn.get(worker)! + 1);
      pending = worker.createRouter({ mediaCodecs: MEDIA_CODECS }).then((router) => {
        router.observer.once('close', () => {
          if (this.#routersOn.has(worker)) this.#routersOn.set(worker, this.#routersOn.get(worker)! - 1);
        });
        return { router, worker, peers: new Map() };
      });
      this.#rooms.set(room, pending);
      pending.catch(() => this.#rooms.delete(room));
    }
    return pending;
  }

  /** One media request of a member (the room actor has checked membership). */
  async handle(room: RoomId, user: UserId, op: MediaOp, o: Fields): Promise<unknown> {
    const media = await this.#room(room);
    let peer = media.peers.get(user);
    if (!peer) media.peers.set(user, (peer = { transports: new Map(), producers: new Map(), consumers: new Map() }));
    try {
      return await this.#op(room, user, media, peer, op, o);
    } catch (e) {
      throw mediaError(e);
    }
  }

  async #op(room: RoomId, user: UserId, media: MediaRoom, peer: Peer, op: MediaOp, o: Fields): Promise<unknown> {
    switch (op) {
      case 'capabilities':
        return { rtpCapabilities: media.router.rtpCapabilities };
      case 'createTransport': {
        const { listenIp: ip, announcedAddress } = this.#settings;
        const t = await media.router.createWebRtcTransport({
          listenInfos: [{ protocol: 'udp', ip, announcedAddress }, { protocol: 'tcp', ip, announcedAddress }],
          preferUdp: true,
        });
        peer.transports.set(t.id, t);
        t.observer.once('close', () => peer.transports.delete(t.id));
        return { transportId: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
      }
      case 'connectTransport':
        await transportOf(peer, o).connect({ dtlsParameters: o.dtlsParameters as types.DtlsParameters });
        return { transportId: o.transportId };
      case 'produce': {
        const kind = o.kind === 'audio' || o.kind === 'video' ? o.kind : invalid('"kind" must be "audio" or "video"');
        const p = await transportOf(peer, o).produce({ kind, rtpParameters: o.rtpParameters as types.RtpParameters });
        peer.producers.set(p.id, p);
        p.observer.once('close', () => peer.producers.delete(p.id));
        this.#events.relay(room, user, JSON.stringify({ type: 'room.media.producer', roomId: room, userId: user, producerId: p.id, kind }));
        return { producerId: p.id };
      }
      case 'consume': {
        const producerId = str(o, 'producerId', 1, 64);
        const rtpCapabilities = o.rtpCapabilities as types.RtpCapabilities;
        if (!media.router.canConsume({ producerId, rtpCapabilities })) throw new InvalidArgumentError('cannot consume that producer with these capabilities');
        const c = await transportOf(peer, o).consume({ producerId, rtpCapabilities, paused: true });
        peer.consumers.set(c.id, c);
        c.observer.once('close', () => peer.consumers.delete(c.id));
        c.on('producerclose', () => this.#events.deliver(user, JSON.stringify({
          type: 'room.media.consumerClosed', roomId: room, consumerId: c.id, producerId,
        })));
        return { consumerId: c.id, producerId, kind: c.kind, rtpParameters: c.rtpParameters };
      }
      case 'resumeConsumer': {
        const c = peer.consumers.get(str(o, 'consumerId', 1, 64));
        if (!c) throw new NotFoundError('no such consumer');
        await c.resume();
        return { consumerId: c.id };
      }
      case 'closeProducer': {
        const p = peer.producers.get(str(o, 'producerId', 1, 64));
        if (!p) throw new NotFoundError('no such producer');
        p.close();
        return { producerId: p.id };
      }
      case 'producers': {
        const producers = [];
        for (const [owner, other] of media.peers) {
          if (owner === user) continue;
          for (const p of other.producers.values()) producers.push({ userId: owner, producerId: p.id, kind: p.kind });
        }
        return { producers };
      }
    }
  }

  /** A member left: its transports close, and with them its producers and consumers. */
  async removePeer(room: RoomId, user: UserId): Promise<void> {
    const media = await this.#rooms.get(room)?.catch(() => null);
    const peer = media?.peers.get(user);
    if (!peer) return;
    media!.peers.delete(user);
    for (const t of peer.transports.values()) t.close();
  }

  /** The room closed: its router closes, and everything on it. */
  async closeRoom(room: RoomId): Promise<void> {
    const pending = this.#rooms.get(room);
    if (!pending) return;
    this.#rooms.delete(room);
    (await pending.catch(() => null))?.router.close();
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#workers.splice(0)) w.close();
    this.#rooms.clear();
  }
}

function invalid(message: string): never {
  throw new InvalidArgumentError(message);
}

function transportOf(peer: Peer, o: Fields): types.WebRtcTransport {
  const t = peer.transports.get(str(o, 'transportId', 1, 64));
  if (!t) throw new NotFoundError('no such transport');
  return t;
}

/** mediasoup refuses bad client parameters with TypeError or UnsupportedError: the client's fault. */
function mediaError(e: unknown): unknown {
  if (e instanceof Error && ['TypeError', 'UnsupportedError', 'InvalidStateError'].includes(e.name)) {
    return new InvalidArgumentError(`media: ${e.message}`);
  }
  return e;
}
