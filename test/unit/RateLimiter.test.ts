import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../src/transport/RateLimiter.ts';
import { RateLimitedError } from '../../src/errors.ts';

describe('RateLimiter (GCRA)', () => {
  it('allows a burst at once, then one request per period', () => {
    const l = new RateLimiter(3, 100);
    const t = 1_000_000;
    assert.deepEqual([l.check('k', t), l.check('k', t), l.check('k', t)], [0, 0, 0]);
    assert.equal(l.check('k', t), 100);
    assert.equal(l.check('k', t + 99), 1);
    assert.equal(l.check('k', t + 100), 0);
    assert.equal(l.check('k', t + 100), 100);
    l.close();
  });

  it('keeps keys apart', () => {
    const l = new RateLimiter(1, 1000);
    assert.equal(l.check('a', 0), 0);
    assert.equal(l.check('b', 0), 0);
    assert.ok(l.check('a', 0) > 0);
    l.close();
  });

  it('refills fully after an idle spell, and the sweep forgets idle keys', () => {
    const l = new RateLimiter(2, 10);
    l.check('a', 0); l.check('a', 0);
    assert.ok(l.check('a', 0) > 0);
    assert.equal(l.check('a', 1000), 0);
    assert.equal(l.check('a', 1000), 0);
    assert.equal(l.size, 1);
    l.sweep(5000);
    assert.equal(l.size, 0);
    l.close();
  });

  it('throws a rate_limited error with the wait', () => {
    const l = new RateLimiter(1, 60_000);
    l.take('x', 'frames');
    assert.throws(() => l.take('x', 'frames'), (e: unknown) => e instanceof RateLimitedError && e.retryAfterMs > 59_000);
    l.close();
  });

  it('is off with a zero period', () => {
    const l = new RateLimiter(1, 0);
    for (let i = 0; i < 1000; i++) assert.equal(l.check('k'), 0);
    l.close();
  });
});
