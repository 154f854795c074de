// Field checks shared by every front: a bad field is an InvalidArgumentError naming it.
import { InvalidArgumentError } from '../errors.ts';
import {
  parseConversationId, parseFileId, parseRoomId, parseUserId, type ConversationId, type FileId, type RoomId, type UserId,
} from '../ids.ts';

export type Fields = Record<string, unknown>;

export function asObject(v: unknown, what = 'body'): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(`${what} must be a JSON object`);
  return v as Fields;
}

export function str(o: Fields, field: string, min: number, max: number, pattern?: RegExp): string {
  const v = o[field];
  if (typeof v !== 'string') throw new InvalidArgumentError(`"${field}" must be a string`);
  if (v.length < min || v.length > max) throw new InvalidArgumentError(`"${field}" must be ${min} to ${max} characters`);
  if (pattern && !pattern.test(v)) throw new InvalidArgumentError(`"${field}" has characters that are not allowed`);
  return v;
}

export function optStr(o: Fields, field: string, min: number, max: number): string | undefined {
  return o[field] === undefined ? undefined : str(o, field, min, max);
}

export function int(o: Fields, field: string, min: number, max: number, dflt?: number): number {
  const v = o[field];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new InvalidArgumentError(`"${field}" must be an integer`);
  if (v < min || v > max) throw new InvalidArgumentError(`"${field}" must be between ${min} and ${max}`);
  return v;
}

/** For query strings: the text form of an integer. */
export function intText(raw: string | undefined, field: string, min: number, max: number, dflt: number): number {
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new InvalidArgumentError(`"${field}" must be an integer`);
  return int({ [field]: Number(raw) }, field, min, max);
}

export function userId(v: unknown, field: string): UserId {
  const id = parseUserId(v);
  if (!id) throw new InvalidArgumentError(`"${field}" is not a user id`);
  return id;
}

export function conversationId(v: unknown, field: string): ConversationId {
  const id = parseConversationId(v);
  if (!id) throw new InvalidArgumentError(`"${field}" is not a conversation id`);
  return id;
}

export function roomId(v: unknown, field: string): RoomId {
  const id = parseRoomId(v);
  if (!id) throw new InvalidArgumentError(`"${field}" is not a room id`);
  return id;
}

export function fileId(v: unknown, field: string): FileId {
  const id = parseFileId(v);
  if (!id) throw new InvalidArgumentError(`"${field}" is not a file id`);
  return id;
}

export function userIds(o: Fields, field: string, max: number): UserId[] {
  const v = o[field] ?? [];
  if (!Array.isArray(v)) throw new InvalidArgumentError(`"${field}" must be an array of user ids`);
  if (v.length > max) throw new InvalidArgumentError(`"${field}" has more than ${max} entries`);
  return v.map((x, i) => userId(x, `${field}[${i}]`));
}
