// The messages between a StorageClient and the embedded storage thread.
import type { SerializedError } from '../errors.ts';
import type { Storage } from './Storage.ts';

export type StorageOp = Exclude<keyof Storage, 'close'>;

export interface StorageRequest {
  readonly id: number;
  readonly op: StorageOp;
  readonly args: unknown[];
}

export type StorageReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** Ops that only read: they need no commit of their own. */
export const READ_OPS: ReadonlySet<StorageOp> = new Set<StorageOp>([
  'findUserByName', 'findUserById', 'getConversation', 'listConversations', 'history', 'fileSharedWith',
]);
