// The WebSocket protocol: JSON text frames, each with a `type`; any request may carry a
// `ref` that its answer (or error) repeats.
import { InvalidArgumentError } from '../../errors.ts';
import { asObject, str, type Fields } from '../../service/validate.ts';

export const REF_MAX = 64;

/** VoIP room requests (see roomFrames.ts). */
export const ROOM_FRAME_TYPES = [
  'room.create', 'room.key', 'room.join', 'room.leave', 'room.members', 'room.close', 'room.signal', 'room.media',
] as const;
export type RoomFrameType = (typeof ROOM_FRAME_TYPES)[number];

export const CLIENT_FRAME_TYPES = ['auth', 'send', 'sync', 'conversations', 'ping', ...ROOM_FRAME_TYPES] as const;
export type ClientFrameType = (typeof CLIENT_FRAME_TYPES)[number];

export interface ClientFrame {
  readonly type: ClientFrameType;
  readonly ref?: string;
  readonly fields: Fields;
}

/** Close codes we use (4000-4999 are the application's). */
export const CLOSE = {
  /** The client did not read fast enough: resync from history after reconnecting. */
  BACKPRESSURE: 4008,
  AUTH_TIMEOUT: 4001,
  AUTH_FAILED: 4003,
  GOING_AWAY: 1001,
  FRAME_TOO_LARGE: 1009,
} as const;

/** Parses one text frame; throws InvalidArgumentError with what is wrong. */
export function parseFrame(data: ArrayBuffer, isBinary: boolean): ClientFrame {
  if (isBinary) throw new InvalidArgumentError('frames must be JSON text, not binary');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    throw new InvalidArgumentError('frame is not valid JSON');
  }
  const fields = asObject(value, 'frame');
  const type = fields.type;
  if (typeof type !== 'string') throw new InvalidArgumentError('frame has no "type"');
  if (!(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
    throw new InvalidArgumentError(`unknown frame type "${type.slice(0, 32)}"`);
  }
  const ref = fields.ref === undefined ? undefined : str(fields, 'ref', 1, REF_MAX);
  return { type: type as ClientFrameType, ref, fields };
}

/** Best effort: the ref of a frame that failed to parse, so its error can be matched. */
export function refOf(data: ArrayBuffer): string | undefined {
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as { ref?: unknown };
    return typeof v.ref === 'string' && v.ref.length <= REF_MAX ? v.ref : undefined;
  } catch {
    return undefined;
  }
}

export function errorFrame(code: string, message: string, ref?: string): string {
  return JSON.stringify({ type: 'error', ref, code, message });
}

export function replyFrame(type: string, ref: string | undefined, body: object): string {
  return JSON.stringify({ type, ref, ...body });
}
