// The envelopes between the in-process bus (main thread) and an actor host thread.
import type { SerializedError } from '../../errors.ts';
import type { ActorId, UserId } from '../../ids.ts';
import type { ActorMessage, FrontEvent } from '../../actors/messages.ts';

export type ToHost =
  | { readonly t: 'ask'; readonly id: number; readonly to: ActorId; readonly msg: ActorMessage }
  | { readonly t: 'tell'; readonly to: ActorId; readonly msg: ActorMessage };

export type FromHost =
  | { readonly t: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly ok: false; readonly error: SerializedError }
  | { readonly t: 'tell'; readonly to: ActorId; readonly msg: ActorMessage }
  | { readonly t: 'push'; readonly front: string; readonly user: UserId; readonly frame: string }
  | { readonly t: 'event'; readonly front: string; readonly event: FrontEvent };
