// The message bus between the fronts and the actors. In-process (between worker threads)
// by default; RabbitMQ in cluster mode. Both keep per-sender order.
import type { ActorId, UserId } from '../../ids.ts';
import type { ActorMessage, FrontEvent } from '../../actors/messages.ts';

/** A frame for every socket of `user` held by this front. */
export type PushHandler = (user: UserId, frame: string) => void;
/** An event an actor addressed to this front's own services. */
export type EventHandler = (event: FrontEvent) => void;

export interface Bus {
  /** Deliver to an actor and wait for its answer. Rejects with an AppError. */
  ask<R>(to: ActorId, msg: ActorMessage): Promise<R>;
  /** Deliver to an actor; no answer. */
  tell(to: ActorId, msg: ActorMessage): void;
  /** The id actors use to push to this front. */
  readonly frontId: string;
  onPush(handler: PushHandler): void;
  onEvent(handler: EventHandler): void;
}
