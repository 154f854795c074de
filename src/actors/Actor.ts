// What an actor is: an object with a mailbox that handles one message at a time, addressed
// by id, activated on its first message and passivated when idle (a virtual actor).
import type { ActorId, UserId } from '../ids.ts';
import type { Storage } from '../storage/Storage.ts';
import type { ActorMessage } from './messages.ts';

export type DeactivationReason = 'idle' | 'crash' | 'shutdown';

export interface ActorSettings {
  readonly historyPageMax: number;
  /** A history page stops before its bodies pass this many bytes (UTF-16 code units). */
  readonly historyPageMaxBytes: number;
  readonly groupMaxMembers: number;
}

export interface ActorContext {
  readonly self: ActorId;
  readonly storage: Storage;
  readonly settings: ActorSettings;
  /** Fire-and-forget to another actor, wherever it lives. */
  tell(to: ActorId, msg: ActorMessage): void;
  /** Hand a frame to a front for every socket of `user` it holds. */
  push(front: string, user: UserId, frame: string): void;
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
