import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ERROR_TABLE, GENERIC_INTERNAL_MESSAGE, NotFoundError, PermissionDeniedError, deserializeError, serializeError, toPublicError,
} from '../../src/errors.ts';

describe('errors', () => {
  it('maps each known kind to one HTTP status, gRPC code and WS code', () => {
    assert.deepEqual(ERROR_TABLE.not_found, { http: 404, grpc: 5, ws: 'not_found' });
    assert.deepEqual(ERROR_TABLE.unauthenticated, { http: 401, grpc: 16, ws: 'unauthenticated' });
    assert.deepEqual(ERROR_TABLE.quota_exceeded, { http: 413, grpc: 8, ws: 'quota_exceeded' });
    assert.deepEqual(ERROR_TABLE.range_not_satisfiable, { http: 416, grpc: 11, ws: 'range_not_satisfiable' });
    const p = toPublicError(new PermissionDeniedError('no'));
    assert.equal(p.mapping.http, 403);
    assert.equal(p.message, 'no');
  });

  it('answers anything unknown generically, without leaking it', () => {
    const p = toPublicError(new TypeError('secret internals at /srv/db.ts:42'), { test: true });
    assert.equal(p.kind, 'internal');
    assert.equal(p.message, GENERIC_INTERNAL_MESSAGE);
    assert.equal(p.mapping.http, 500);
  });

  it('crosses a thread boundary intact', () => {
    const e = deserializeError(serializeError(new NotFoundError('conversation not found')));
    assert.equal(e.kind, 'not_found');
    assert.equal(e.message, 'conversation not found');
  });
});
