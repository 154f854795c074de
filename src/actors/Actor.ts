// What an actor is: an object with a mailbox that handles one message at a time, addressed
// by id, activated on its first message and passivated when idle (a virtual actor).
import type { ActorId, UserId } from '../ids.ts';
import type { Storage } from '../storage/Storage.ts';
import type { ActorMessage, FrontEvent } from './messages.ts';

/** Why an actor is let go; `moved`: its shard went to another node. */
export type DeactivationReason = 'idle' | 'crash' | 'shutdown' | 'moved';

export interface ActorSettings {
  readonly historyPageMax: number;
  /** A history page stops before its bodies pass this many bytes (UTF-16 code units). */
  readonly historyPageMaxBytes: number;
  readonly groupMaxMembers: number;
  readonly roomGraceMs: number;
  readonly roomEmptyCloseMs: number;
  readonly roomMaxLifetimeMs: number;
  readonly roomMaxMembers: number;
}

export interface ActorContext {
  readonly self: ActorId;
  readonly storage: Storage;
  readonly settings: ActorSettings;
  /** Fire-and-forget to another actor, wherever it lives. */
  tell(to: ActorId, msg: ActorMessage): void;
  /** Hand a frame to a front for every socket of `user` it holds. */
  push(front: string, user: UserId, frame: string): void;
  /** Hand an event to a front's own services (room directory, media) on its node. */
  notify(front: string, event: FrontEvent): void;
  /**
   * Deliver `msg` to this actor's own mailbox after `ms`, so timers touch state one message
   * at a time like everything else. Returns a cancel; deactivation cancels what is left.
   */
  schedule(ms: number, msg: ActorMessage): () => void;
}

export interface Actor {
  /** Load state from storage. Runs before the first message. */
  activate?(): Promise<void>;
  receive(msg: ActorMessage): unknown;
  /** False keeps the actor alive through an idle sweep. */
  canPassivate?(): boolean;
  deactivate?(reason: DeactivationReason): void;
}

/**
 * Returned by `receive` to answer later without holding the mailbox: the next message is
 * handled at once, and this one is answered when the promise settles. Replies still go
 * out in order when the promises settle in order (as group commits do).
 */
export class DeferredReply {
  constructor(readonly promise: Promise<unknown>) {}
}
