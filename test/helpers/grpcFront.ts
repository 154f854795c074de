// The real gRPC front in this process, over a scripted bus instead of actors: for faults a
// real server does not make on demand (an actor that does not answer in time, an error
// nobody anticipated, an answer after the deadline) and for measuring the front's own
// heap and handles. Clients still talk to it over a real socket.
import type { ActorMessage } from '../../src/actors/messages.ts';
import { AuthService } from '../../src/auth/AuthService.ts';
import { RoomKeys } from '../../src/auth/roomKeys.ts';
import { TokenIssuer } from '../../src/auth/tokens.ts';
import { DEFAULTS } from '../../src/config.ts';
import { NotFoundError } from '../../src/errors.ts';
import { actorKey, type ActorId, type UserId } from '../../src/ids.ts';
import { MediaService } from '../../src/rooms/MediaService.ts';
import { FileService } from '../../src/service/FileService.ts';
import { MessagingService } from '../../src/service/MessagingService.ts';
import { RoomService } from '../../src/service/RoomService.ts';
import type { Bus, EventHandler, PushHandler } from '../../src/transport/bus/Bus.ts';
import { Connections } from '../../src/transport/Connections.ts';
import { GrpcFront } from '../../src/transport/grpc/GrpcFront.ts';
import { RateLimiter } from '../../src/transport/RateLimiter.ts';
import { TEST_SECRET } from './server.ts';

/** A bus whose asks the test answers, and which keeps each user's last announced presence. */
export class ScriptedBus implements Bus {
  readonly frontId = 'local';
  /** user -> connections, as the last presence message said (absent when 0). */
  readonly presence = new Map<string, number>();
  answer: (to: ActorId, msg: ActorMessage) => Promise<unknown> = async () => { throw new NotFoundError('nothing here'); };
  #push: PushHandler = () => {};

  ask<R>(to: ActorId, msg: ActorMessage): Promise<R> {
    return this.answer(to, msg) as Promise<R>;
  }

  tell(to: ActorId, msg: ActorMessage): void {
    if (msg.type !== 'presence') return;
    if (msg.connections > 0) this.presence.set(actorKey(to), msg.connections);
    else this.presence.delete(actorKey(to));
  }

  onPush(handler: PushHandler): void {
    this.#push = handler;
  }

  onEvent(_handler: EventHandler): void {}

  /** As if a session actor pushed `frame` to this front for `user`. */
  push(user: string, frame: string): void {
    this.#push(user as UserId, frame);
  }
}

export interface InProcessFront {
  readonly address: string;
  readonly bus: ScriptedBus;
  readonly connections: Connections;
  tokenFor(user: string): Promise<string>;
  stop(): Promise<void>;
}

/** Token checks that take `delayMs`: a window in which a client can give up mid-authentication. */
class SlowAuthService extends AuthService {
  constructor(tokens: TokenIssuer, private readonly delayMs: number) {
    // Only authenticate() is reached here: register and login (storage, hashing) are the real server's tests.
    super(undefined as never, undefined as never, tokens);
  }

  override async authenticate(token: string): Promise<UserId> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    return super.authenticate(token);
  }
}

export interface InProcessFrontOptions {
  readonly rateBurst?: number;
  readonly ratePeriodMs?: number;
  readonly maxPendingEvents?: number;
  readonly authDelayMs?: number;
}

export async function startInProcessFront(o: InProcessFrontOptions = {}): Promise<InProcessFront> {
  const bus = new ScriptedBus();
  const tokens = new TokenIssuer(TEST_SECRET, DEFAULTS.JWT_TTL);
  const auth = new SlowAuthService(tokens, o.authDelayMs ?? 0);
  const messaging = new MessagingService(bus, {
    maxMessageBytes: DEFAULTS.MAX_MESSAGE_BYTES, historyPageMax: DEFAULTS.HISTORY_PAGE_MAX, groupMaxMembers: DEFAULTS.GROUP_MAX_MEMBERS,
  });
  // Rooms over the same scripted bus, without media (never started: rooms say p2p).
  const media = new MediaService({ workers: 0, listenIp: DEFAULTS.MEDIA_LISTEN_IP, announcedAddress: undefined }, {
    isOpen: () => false, relay: () => {}, deliver: () => {}, failed: () => {},
  });
  const rooms = new RoomService(bus, new RoomKeys(TEST_SECRET), media, { roomKeyTtlS: DEFAULTS.ROOM_KEY_TTL_S });
  // No store behind FileService: files (streams, quota, disk) are the real server's tests (grpc-files.test.ts).
  const files = new FileService(undefined as never, undefined as never);
  const connections = new Connections(bus);
  const limiter = (): RateLimiter => new RateLimiter(o.rateBurst ?? DEFAULTS.RATE_BURST, o.ratePeriodMs ?? 0);
  const [ipLimiter, userLimiter] = [limiter(), limiter()];
  const front = new GrpcFront({
    auth, messaging, rooms, files, connections, ipLimiter, userLimiter,
    maxMessageBytes: DEFAULTS.GRPC_MAX_MESSAGE_BYTES,
    maxPendingEvents: o.maxPendingEvents ?? DEFAULTS.GRPC_MAX_PENDING_EVENTS,
  });
  const port = await front.start('127.0.0.1', 0);
  return {
    address: `127.0.0.1:${port}`,
    bus,
    connections,
    tokenFor: (user) => tokens.sign(user as UserId),
    stop: async () => {
      connections.closeAll();
      await front.stop();
      ipLimiter.close();
      userLimiter.close();
    },
  };
}
