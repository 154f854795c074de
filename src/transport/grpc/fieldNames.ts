// The shared services and validators name a bad field as HTTP and WebSocket clients spell
// it ("clientMsgId", "limit"); a gRPC client sent a proto field ("client_msg_id",
// "page_size"). The fields the gRPC front checks itself it names in proto spelling; for
// errors the shared services raise, each RPC lists the names that differ and its errors
// are told in proto names. The services' own messages (HTTP's) stay as they are.
import { AppError, type ErrorKind } from '../../errors.ts';

/** A service's name for a field -> the proto field's name, for one RPC (only the names that differ). */
export type FieldNames = Readonly<Record<string, string>>;

export const SAME_NAMES: FieldNames = {};

/** The kinds whose messages name a field. */
const NAMING_KINDS: ReadonlySet<ErrorKind> = new Set(['invalid_argument', 'payload_too_large']);

/** A quoted field name at the start of a quoted path: `"clientMsgId"`, `"members[0]"`. */
const QUOTED_FIELD = /"([A-Za-z_][A-Za-z0-9_]*)(?=["[])/g;

/** `err`, its message naming fields by `names`; any other error as it is. */
export function inProtoNames(err: unknown, names: FieldNames): unknown {
  if (!(err instanceof AppError) || !NAMING_KINDS.has(err.kind)) return err;
  const message = err.message.replace(QUOTED_FIELD, (quoted, name: string) => {
    const proto = Object.hasOwn(names, name) ? names[name] : undefined;
    return proto === undefined ? quoted : `"${proto}`;
  });
  return message === err.message ? err : new AppError(err.kind, message);
}
