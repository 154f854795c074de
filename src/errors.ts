// The internal error taxonomy and the one table that says how each kind looks on the wire
// (HTTP status, gRPC status code, WebSocket error code). Handlers throw AppError subclasses
// only; anything else is logged and answered as a generic internal error.
import { log } from './log.ts';

export type ErrorKind =
  | 'invalid_argument'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'already_exists'
  | 'payload_too_large'
  | 'quota_exceeded'
  | 'range_not_satisfiable'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

/** gRPC status codes (grpc/status.h), named so the table reads. */
const GRPC = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  OUT_OF_RANGE: 11,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export interface WireMapping {
  readonly http: number;
  readonly grpc: number;
  /** The `code` field of a WebSocket `error` frame. */
  readonly ws: string;
}

export const ERROR_TABLE: Readonly<Record<ErrorKind, WireMapping>> = {
  invalid_argument: { http: 400, grpc: GRPC.INVALID_ARGUMENT, ws: 'invalid_argument' },
  unauthenticated: { http: 401, grpc: GRPC.UNAUTHENTICATED, ws: 'unauthenticated' },
  permission_denied: { http: 403, grpc: GRPC.PERMISSION_DENIED, ws: 'permission_denied' },
  not_found: { http: 404, grpc: GRPC.NOT_FOUND, ws: 'not_found' },
  already_exists: { http: 409, grpc: GRPC.ALREADY_EXISTS, ws: 'already_exists' },
  payload_too_large: { http: 413, grpc: GRPC.RESOURCE_EXHAUSTED, ws: 'payload_too_large' },
  // 413, not 507: the refusal is about this user's request (their quota is full), not the
  // server's disk; a 5xx would invite blind retries. The code tells it from the file limit.
  quota_exceeded: { http: 413, grpc: GRPC.RESOURCE_EXHAUSTED, ws: 'quota_exceeded' },
  range_not_satisfiable: { http: 416, grpc: GRPC.OUT_OF_RANGE, ws: 'range_not_satisfiable' },
  rate_limited: { http: 429, grpc: GRPC.RESOURCE_EXHAUSTED, ws: 'rate_limited' },
  unavailable: { http: 503, grpc: GRPC.UNAVAILABLE, ws: 'unavailable' },
  internal: { http: 500, grpc: GRPC.INTERNAL, ws: 'internal' },
};

export const GENERIC_INTERNAL_MESSAGE = 'internal error';

export class AppError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = 'AppError';
  }
}

export class InvalidArgumentError extends AppError {
  constructor(message: string) { super('invalid_argument', message); }
}
export class UnauthenticatedError extends AppError {
  constructor(message: string) { super('unauthenticated', message); }
}
export class PermissionDeniedError extends AppError {
  constructor(message: string) { super('permission_denied', message); }
}
export class NotFoundError extends AppError {
  constructor(message: string) { super('not_found', message); }
}
export class AlreadyExistsError extends AppError {
  constructor(message: string) { super('already_exists', message); }
}
export class PayloadTooLargeError extends AppError {
  constructor(message: string) { super('payload_too_large', message); }
}
export class QuotaExceededError extends AppError {
  constructor(message: string) { super('quota_exceeded', message); }
}
export class RangeNotSatisfiableError extends AppError {
  /** The file's size, for `Content-Range: bytes *\/size`. */
  readonly size: number;
  constructor(message: string, size: number) {
    super('range_not_satisfiable', message);
    this.size = size;
  }
}
export class RateLimitedError extends AppError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super('rate_limited', message);
    this.retryAfterMs = retryAfterMs;
  }
}
export class UnavailableError extends AppError {
  constructor(message: string) { super('unavailable', message); }
}

/** What a client is told about an error: known kinds verbatim, anything else generic. */
export interface PublicError {
  readonly kind: ErrorKind;
  readonly message: string;
  readonly mapping: WireMapping;
}

export function toPublicError(err: unknown, context: Record<string, unknown> = {}): PublicError {
  if (err instanceof AppError) {
    return { kind: err.kind, message: err.message, mapping: ERROR_TABLE[err.kind] };
  }
  log.error('unhandled error', { ...context, err: describe(err) });
  return { kind: 'internal', message: GENERIC_INTERNAL_MESSAGE, mapping: ERROR_TABLE.internal };
}

/** An error as it crosses a thread or node boundary. */
export interface SerializedError {
  readonly kind: ErrorKind;
  readonly message: string;
}

export function serializeError(err: unknown, context: Record<string, unknown> = {}): SerializedError {
  const pub = toPublicError(err, context);
  return { kind: pub.kind, message: pub.message };
}

export function deserializeError(e: SerializedError): AppError {
  return new AppError(e.kind, e.message);
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
