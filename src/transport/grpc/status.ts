// An error as a gRPC status. The mapping itself is src/errors.ts's one table (the same
// that HTTP and WebSocket use): a known kind keeps its message, anything else is logged
// there and answered INTERNAL with a generic message.
import { Metadata, type StatusObject } from '@grpc/grpc-js';
import { RateLimitedError, toPublicError } from '../../errors.ts';

/** Trailer telling a rate-limited client when to retry (gRPC's analogue of Retry-After). */
export const RETRY_AFTER_MS_TRAILER = 'retry-after-ms';

export function toGrpcStatus(err: unknown, context: Record<string, unknown>): StatusObject {
  const pub = toPublicError(err, context);
  const metadata = new Metadata();
  if (err instanceof RateLimitedError) metadata.set(RETRY_AFTER_MS_TRAILER, String(Math.ceil(err.retryAfterMs)));
  return { code: pub.mapping.grpc, details: pub.message, metadata };
}
