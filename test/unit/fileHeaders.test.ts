import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentDisposition, noneMatch, parseRange, rangeStillValid } from '../../src/transport/http/fileHeaders.ts';

describe('Range (RFC 9110 §14), one range', () => {
  const size = 1000;
  it('reads first-last, open-ended and suffix ranges, clamping a last-pos past the end', () => {
    assert.deepEqual(parseRange('bytes=0-9', size), { start: 0, end: 10 });
    assert.deepEqual(parseRange('bytes=990-', size), { start: 990, end: 1000 });
    assert.deepEqual(parseRange('bytes=-10', size), { start: 990, end: 1000 });
    assert.deepEqual(parseRange('bytes=-5000', size), { start: 0, end: 1000 });
    assert.deepEqual(parseRange('bytes=999-5000', size), { start: 999, end: 1000 });
    assert.deepEqual(parseRange('Bytes=3-3', size), { start: 3, end: 4 });
    assert.deepEqual(parseRange('bytes=0-0,', size), { start: 0, end: 1 }); // empty list elements are allowed
  });
  it('says unsatisfiable when no byte can be given', () => {
    for (const h of ['bytes=1000-', 'bytes=1000-2000', 'bytes=-0', 'bytes=99999999999999999999-']) assert.equal(parseRange(h, size), 'unsatisfiable', h);
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=-1', 0), 'unsatisfiable');
  });
  it('ignores (serves everything for) no header, other units, bad syntax, reversed and multiple ranges', () => {
    for (const h of [undefined, 'items=0-1', 'bytes=a-b', 'bytes=-', 'bytes=5-1', 'bytes=0-1,3-4', 'bytes 0-1', 'bytes=1.5-2']) {
      assert.equal(parseRange(h, size), null, String(h));
    }
  });
});

describe('ETag conditions', () => {
  const etag = '"abc"';
  it('If-None-Match matches weakly, in a list, or *', () => {
    assert.equal(noneMatch(undefined, etag), false);
    assert.equal(noneMatch('"abc"', etag), true);
    assert.equal(noneMatch('W/"abc"', etag), true);
    assert.equal(noneMatch('"x", "abc"', etag), true);
    assert.equal(noneMatch('*', etag), true);
    assert.equal(noneMatch('"abcd"', etag), false);
  });
  it('If-Range keeps the range only for our exact (strong) ETag', () => {
    assert.equal(rangeStillValid(undefined, etag), true);
    assert.equal(rangeStillValid('"abc"', etag), true);
    assert.equal(rangeStillValid('W/"abc"', etag), false);
    assert.equal(rangeStillValid('Wed, 21 Oct 2015 07:28:00 GMT', etag), false);
  });
});

describe('Content-Disposition (RFC 6266 + RFC 8187)', () => {
  it('keeps ASCII names, and gives others an ASCII fallback and the exact UTF-8 name', () => {
    assert.equal(contentDisposition('a.txt'), `attachment; filename="a.txt"; filename*=UTF-8''a.txt`);
    assert.equal(contentDisposition('résumé.pdf'), `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`);
    assert.equal(contentDisposition(`it's (1) "x" \\ 100%*`),
      `attachment; filename="it's (1) _x_ _ 100_*"; filename*=UTF-8''it%27s%20%281%29%20%22x%22%20%5C%20100%25%2A`);
  });
});
