// The front's copy of the rooms homed on it (created through it): who is in each, as the
// room actors report it. It releases a room's media when a member leaves or the room
// closes, and it is what survives an actor host's crash: the rooms that lived on the dead
// host are gone, so their members are told (`room.closed`, reason `host_failed`); the rooms
// on the other hosts register again with the restarted session actors.
import type { FrontEvent } from '../actors/messages.ts';
import { roomActor, sessionActor, type ActorId, type RoomId, type UserId } from '../ids.ts';
import { log } from '../log.ts';
import type { Bus } from '../transport/bus/Bus.ts';
import type { MediaEvents, MediaService } from './MediaService.ts';

/** Where room actors run, as far as this node can tell. */
export interface RoomPlacement {
  /** Which of this node's actor hosts would run the actor. */
  hostOf(id: ActorId): number;
  /** Does this node run the actor now? (Always, but in a cluster.) */
  isHere(id: ActorId): boolean;
}

export class RoomDirectory implements MediaEvents {
  readonly #bus: Bus;
  readonly #placement: RoomPlacement;
  readonly #rooms = new Map<RoomId, Set<UserId>>();
  #media: MediaService | null = null;

  constructor(bus: Bus, placement: RoomPlacement) {
    this.#bus = bus;
    this.#placement = placement;
    bus.onEvent((e) => this.#onEvent(e));
  }

  attachMedia(media: MediaService): void {
    this.#media = media;
  }

  get rooms(): number {
    return this.#rooms.size;
  }

  #onEvent(e: FrontEvent): void {
    if (e.kind !== 'room') return;
    const before = this.#rooms.get(e.room) ?? new Set<UserId>();
    const now = new Set(e.members);
    for (const user of before) if (!now.has(user)) void this.#media?.removePeer(e.room, user);
    if (e.closed) {
      this.#rooms.delete(e.room);
      void this.#media?.closeRoom(e.room);
    } else {
      this.#rooms.set(e.room, now);
    }
  }

  /** An actor host was restarted: its rooms are lost, the others re-register their members. */
  hostRestarted(index: number): void {
    for (const [room, members] of this.#rooms) {
      const actor = roomActor(room);
      if (!this.#placement.isHere(actor) || this.#placement.hostOf(actor) !== index) {
        this.#bus.tell(roomActor(room), { type: 'rewatch' });
        continue;
      }
      log.warn('room lost with its actor host', { room, host: index, members: members.size });
      this.#rooms.delete(room);
      void this.#media?.closeRoom(room);
      const frame = JSON.stringify({ type: 'room.closed', roomId: room, reason: 'host_failed' });
      for (const user of members) {
        this.#bus.tell(sessionActor(user), { type: 'unwatchRoom', room });
        this.deliver(user, frame);
      }
    }
  }

  // MediaEvents: media news travels to the members through their actors.
  isOpen(room: RoomId): boolean {
    return this.#rooms.has(room);
  }

  relay(room: RoomId, from: UserId, frame: string): void {
    this.#bus.tell(roomActor(room), { type: 'relay', from, frame });
  }

  deliver(user: UserId, frame: string): void {
    this.#bus.tell(sessionActor(user), { type: 'deliver', frame });
  }

  failed(room: RoomId): void {
    this.#bus.tell(roomActor(room), { type: 'mediaFailed' });
  }
}
