// VoIP rooms as every front sees them (HTTP, WebSocket, gRPC): validate, sign and verify
// room keys, then ask the room actor over the bus. Media requests go to the media service
// on this node once the room actor has said the caller is a member of an SFU room.
import { InvalidArgumentError, UnavailableError } from '../errors.ts';
import { newRoomId, roomActor, type RoomId, type UserId } from '../ids.ts';
import type { RoomCloseReason, RoomMode, RoomView } from '../actors/messages.ts';
import type { RoomKeys } from '../auth/roomKeys.ts';
import type { MediaOp, MediaService } from '../rooms/MediaService.ts';
import { MEDIA_OPS } from '../rooms/MediaService.ts';
import type { Bus } from '../transport/bus/Bus.ts';
import { asObject, int, str, userId, type Fields } from './validate.ts';

/** A room key is a compact JWT; anything longer is not one of ours. */
export const ROOM_KEY_MAX_CHARS = 2048;

export interface RoomLimits {
  /** Default and longest lifetime of a room key. */
  readonly roomKeyTtlS: number;
}

export interface IssuedKey {
  readonly roomId: RoomId;
  readonly userId: UserId;
  readonly key: string;
  readonly expiresAt: number;
}

/** What this node knows of a user's connections (its own; the session actor knows them all). */
export interface LocalPresence {
  isConnected(user: UserId): boolean;
}

export class RoomService {
  /** `presence`: how a seat starts (online or not) until the user's session actor answers the room. */
  constructor(
    private readonly bus: Bus,
    private readonly keys: RoomKeys,
    private readonly media: MediaService,
    private readonly limits: RoomLimits,
    private readonly presence?: LocalPresence,
  ) {}

  get mode(): RoomMode {
    return this.media.available ? 'sfu' : 'p2p';
  }

  /** A new room owned by `owner`, with a key for the owner to join it. */
  async create(owner: UserId): Promise<{ room: RoomView } & IssuedKey> {
    const room = await this.bus.ask<RoomView>(roomActor(newRoomId()), {
      type: 'create', owner, mode: this.mode, home: this.bus.frontId,
    });
    return { room, ...(await this.#sign(room, owner, this.limits.roomKeyTtlS)) };
  }

  /** The owner hands `userId` a key, valid `ttlS` seconds (default and most: ROOM_KEY_TTL_S). */
  async issueKey(by: UserId, room: RoomId, o: Fields): Promise<IssuedKey> {
    const user = userId(o.userId, 'userId');
    const ttlS = int(o, 'ttlS', 1, this.limits.roomKeyTtlS, this.limits.roomKeyTtlS);
    const view = await this.bus.ask<RoomView>(roomActor(room), { type: 'issueKey', by });
    return this.#sign(view, user, ttlS);
  }

  async #sign(room: RoomView, user: UserId, ttlS: number): Promise<IssuedKey> {
    const { key, expiresAt } = await this.keys.issue(room.id, user, ttlS, room.expiresAt);
    return { roomId: room.id, userId: user, key, expiresAt };
  }

  async join(user: UserId, room: RoomId, o: Fields): Promise<RoomView> {
    await this.keys.verify(str(o, 'key', 1, ROOM_KEY_MAX_CHARS), room, user);
    return this.bus.ask(roomActor(room), { type: 'join', user, online: this.presence?.isConnected(user) ?? true });
  }

  leave(user: UserId, room: RoomId): Promise<{ roomId: RoomId }> {
    return this.bus.ask(roomActor(room), { type: 'leave', user });
  }

  get(user: UserId, room: RoomId): Promise<RoomView> {
    return this.bus.ask(roomActor(room), { type: 'members', user });
  }

  close(by: UserId, room: RoomId): Promise<{ roomId: RoomId; reason: RoomCloseReason }> {
    return this.bus.ask(roomActor(room), { type: 'close', by });
  }

  /** An offer, answer or ICE candidate (any JSON object) for one other member. */
  signal(from: UserId, room: RoomId, o: Fields): Promise<{ roomId: RoomId; to: UserId }> {
    const to = userId(o.to, 'to');
    const data = asObject(o.data, '"data"');
    return this.bus.ask(roomActor(room), { type: 'signal', from, to, data });
  }

  /** One mediasoup request (`op`, see MEDIA_OPS) of a member of an SFU room. */
  async mediaRequest(user: UserId, room: RoomId, o: Fields): Promise<unknown> {
    const op = str(o, 'op', 1, 32);
    if (!(MEDIA_OPS as readonly string[]).includes(op)) throw new InvalidArgumentError(`unknown media op "${op}"`);
    const { mode, home } = await this.bus.ask<{ mode: RoomMode; home: string }>(roomActor(room), { type: 'media', user });
    if (mode !== 'sfu') throw new InvalidArgumentError('this room runs p2p: exchange media with room.signal');
    if (home !== this.bus.frontId) throw new UnavailableError('this room\'s media is served by another node');
    return this.media.handle(room, user, op as MediaOp, o);
  }
}
