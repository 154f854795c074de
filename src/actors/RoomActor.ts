// One VoIP room: its owner, its members and whether each still has a connection, the
// signaling between them, and its timers (a member's grace period, closing when empty,
// closing at the end of its lifetime). Room keys are verified by the front before `join`;
// this actor decides everything else. A room is live state, never stored: it lives from
// `create` to its close, and an actor that knows no room answers "room not found".
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../errors.ts';
import { actorKey, sessionActor, type RoomId, type UserId } from '../ids.ts';
import type { Actor, ActorContext, DeactivationReason } from './Actor.ts';
import type {
  RoomCloseReason, RoomLeaveReason, RoomMessage, RoomMode, RoomTimer, RoomView,
} from './messages.ts';

interface RoomState {
  readonly owner: UserId;
  readonly mode: RoomMode;
  /** The front whose node holds the room's media and is told of its changes. */
  readonly home: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

interface Seat {
  readonly joinedAt: number;
  online: boolean;
  /** Bumped whenever a grace timer starts or is cancelled: a stale one is ignored. */
  gen: number;
  cancelGrace: (() => void) | null;
}

export class RoomActor implements Actor {
  readonly #ctx: ActorContext;
  readonly #id: RoomId;
  #room: RoomState | null = null;
  #closed: RoomCloseReason | null = null;
  /** In join order. */
  readonly #members = new Map<UserId, Seat>();
  /** Every event pushed to the members carries the next number: clients see their order. */
  #seq = 0;
  #emptyGen = 0;
  #cancelEmpty: (() => void) | null = null;
  #cancelLifetime: (() => void) | null = null;

  constructor(ctx: ActorContext) {
    this.#ctx = ctx;
    this.#id = actorKey(ctx.self) as RoomId;
  }

  receive(msg: RoomMessage): unknown {
    switch (msg.type) {
      case 'create': return this.#create(msg.owner, msg.mode, msg.home);
      case 'issueKey': return this.#issueKey(msg.by);
      case 'join': return this.#join(msg.user, msg.online ?? true);
      case 'leave': return this.#leave(msg.user, 'left');
      case 'members': return this.#requireMemberOrOwner(msg.user) && this.#view();
      case 'close': return this.#closeByOwner(msg.by);
      case 'signal': return this.#signal(msg.from, msg.to, msg.data);
      case 'media': return this.#requireMember(msg.user) && { mode: this.#room!.mode, home: this.#room!.home };
      case 'relay': return this.#relay(msg.from, msg.frame);
      case 'memberPresence': return this.#presence(msg.user, msg.online);
      case 'rewatch': return this.#rewatch();
      case 'mediaFailed': return this.#isOpen() ? this.#close('media_failed') : undefined;
      case 'timer': return this.#timer(msg.timer, msg.gen, msg.user);
      default: throw new InvalidArgumentError(`room cannot handle ${(msg as { type: string }).type}`);
    }
  }

  /** An open room holds members and timers: it stays in memory until it closes. */
  canPassivate(): boolean {
    return !this.#isOpen();
  }

  /**
   * A handler that failed unexpectedly leaves the state in doubt, and a room whose shard
   * moved to another node cannot take its live state along: close, and say so.
   */
  deactivate(reason: DeactivationReason): void {
    if (this.#isOpen() && (reason === 'crash' || reason === 'moved')) this.#close('host_failed');
  }

  #isOpen(): boolean {
    return this.#room !== null && this.#closed === null;
  }

  #requireOpen(): RoomState {
    if (!this.#room) throw new NotFoundError('room not found');
    if (this.#closed) throw new NotFoundError(`room is closed (${this.#closed})`);
    return this.#room;
  }

  #requireMember(user: UserId): true {
    this.#requireOpen();
    if (!this.#members.has(user)) throw new PermissionDeniedError('you are not a member of this room');
    return true;
  }

  #requireMemberOrOwner(user: UserId): true {
    if (this.#requireOpen().owner !== user) this.#requireMember(user);
    return true;
  }

  #requireOwner(user: UserId): RoomState {
    const room = this.#requireOpen();
    if (room.owner !== user) throw new PermissionDeniedError('only the owner of the room can do this');
    return room;
  }

  #create(owner: UserId, mode: RoomMode, home: string): RoomView {
    if (this.#room) {
      // A retried create (same id, same owner) is answered with what exists.
      if (this.#room.owner === owner && !this.#closed) return this.#view();
      throw new AlreadyExistsError('room already exists');
    }
    const now = Date.now();
    const { roomMaxLifetimeMs } = this.#ctx.settings;
    this.#room = { owner, mode, home, createdAt: now, expiresAt: now + roomMaxLifetimeMs };
    this.#cancelLifetime = this.#ctx.schedule(roomMaxLifetimeMs, { type: 'timer', timer: 'lifetime', gen: 0 });
    this.#armEmpty();
    this.#tellHome();
    return this.#view();
  }

  /** Keys are signed by the front; the room only says whether `by` may hand one out. */
  #issueKey(by: UserId): RoomView {
    this.#requireOwner(by);
    return this.#view();
  }

  #join(user: UserId, online: boolean): RoomView {
    this.#requireOpen();
    if (this.#members.has(user)) return this.#view(); // a rejoin keeps the seat
    const max = this.#ctx.settings.roomMaxMembers;
    if (this.#members.size >= max) throw new PermissionDeniedError(`room is full (${max} members)`);
    // Offline with no grace timer yet: the session's answer to watchRoom arms it if need be.
    this.#members.set(user, { joinedAt: Date.now(), online, gen: 0, cancelGrace: null });
    this.#disarmEmpty();
    // The session answers with whether the user is online now, and again at every change.
    this.#ctx.tell(sessionActor(user), { type: 'watchRoom', room: this.#id });
    this.#event(user, { type: 'room.member.joined', userId: user });
    this.#tellHome();
    return this.#view();
  }

  #leave(user: UserId, reason: RoomLeaveReason): { roomId: RoomId } {
    this.#requireMember(user);
    this.#members.get(user)!.cancelGrace?.();
    this.#members.delete(user);
    this.#ctx.tell(sessionActor(user), { type: 'unwatchRoom', room: this.#id });
    this.#event(user, { type: 'room.member.left', userId: user, reason });
    this.#tellHome();
    if (this.#members.size === 0) this.#armEmpty();
    return { roomId: this.#id };
  }

  #closeByOwner(by: UserId): { roomId: RoomId; reason: RoomCloseReason } {
    this.#requireOwner(by);
    this.#close('closed_by_owner');
    return { roomId: this.#id, reason: 'closed_by_owner' };
  }

  /** Releases everything the room holds and tells every member why. */
  #close(reason: RoomCloseReason): undefined {
    this.#closed = reason;
    this.#cancelLifetime?.();
    this.#disarmEmpty();
    this.#event(null, { type: 'room.closed', reason });
    for (const [user, seat] of this.#members) {
      seat.cancelGrace?.();
      this.#ctx.tell(sessionActor(user), { type: 'unwatchRoom', room: this.#id });
    }
    this.#members.clear();
    this.#tellHome();
    return undefined;
  }

  #signal(from: UserId, to: UserId, data: unknown): { roomId: RoomId; to: UserId } {
    this.#requireMember(from);
    if (to === from) throw new InvalidArgumentError('signal another member, not yourself');
    if (!this.#members.has(to)) throw new NotFoundError('that user is not in this room');
    const frame = JSON.stringify({ type: 'room.signal', roomId: this.#id, from, data });
    this.#ctx.tell(sessionActor(to), { type: 'deliver', frame });
    return { roomId: this.#id, to };
  }

  #relay(from: UserId, frame: string): undefined {
    if (!this.#isOpen() || !this.#members.has(from)) return undefined;
    for (const m of this.#members.keys()) if (m !== from) this.#ctx.tell(sessionActor(m), { type: 'deliver', frame });
    return undefined;
  }

  #presence(user: UserId, online: boolean): undefined {
    const seat = this.#isOpen() ? this.#members.get(user) : undefined;
    if (!seat) {
      // A room that is gone (closed, or lost with a crashed host) stops being watched.
      this.#ctx.tell(sessionActor(user), { type: 'unwatchRoom', room: this.#id });
      return undefined;
    }
    seat.online = online;
    if (online) {
      seat.cancelGrace?.();
      seat.cancelGrace = null;
      seat.gen++;
    } else if (!seat.cancelGrace) {
      const gen = ++seat.gen;
      seat.cancelGrace = this.#ctx.schedule(this.#ctx.settings.roomGraceMs, { type: 'timer', timer: 'grace', gen, user });
    }
    return undefined;
  }

  #rewatch(): undefined {
    if (!this.#isOpen()) return undefined;
    for (const user of this.#members.keys()) this.#ctx.tell(sessionActor(user), { type: 'watchRoom', room: this.#id });
    return undefined;
  }

  #timer(timer: RoomTimer, gen: number, user?: UserId): undefined {
    if (!this.#isOpen()) return undefined;
    switch (timer) {
      case 'grace': {
        const seat = user === undefined ? undefined : this.#members.get(user);
        if (seat && seat.gen === gen && !seat.online) this.#leave(user!, 'disconnected');
        return undefined;
      }
      case 'empty':
        if (gen === this.#emptyGen && this.#members.size === 0) this.#close('empty');
        return undefined;
      case 'lifetime':
        return this.#close('lifetime');
    }
  }

  #armEmpty(): void {
    this.#disarmEmpty();
    const gen = ++this.#emptyGen;
    this.#cancelEmpty = this.#ctx.schedule(this.#ctx.settings.roomEmptyCloseMs, { type: 'timer', timer: 'empty', gen });
  }

  #disarmEmpty(): void {
    this.#cancelEmpty?.();
    this.#cancelEmpty = null;
    this.#emptyGen++;
  }

  /** Pushes an event to every member but `except`, numbered in the room's order. */
  #event(except: UserId | null, body: { type: string } & Record<string, unknown>): void {
    const frame = JSON.stringify({ ...body, roomId: this.#id, seq: ++this.#seq });
    for (const m of this.#members.keys()) if (m !== except) this.#ctx.tell(sessionActor(m), { type: 'deliver', frame });
  }

  /** The home front keeps a copy of the member list: it tells them if this host dies. */
  #tellHome(): void {
    this.#ctx.notify(this.#room!.home, {
      kind: 'room', room: this.#id, members: [...this.#members.keys()], closed: this.#closed !== null,
    });
  }

  #view(): RoomView {
    const room = this.#room!;
    return {
      id: this.#id,
      owner: room.owner,
      mode: room.mode,
      createdAt: room.createdAt,
      expiresAt: room.expiresAt,
      maxMembers: this.#ctx.settings.roomMaxMembers,
      members: [...this.#members].map(([userId, s]) => ({ userId, joinedAt: s.joinedAt, online: s.online })),
    };
  }
}
