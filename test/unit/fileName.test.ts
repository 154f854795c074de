import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../src/errors.ts';
import { mediaType, safeFileName } from '../../src/files/fileName.ts';

const invalid = (e: unknown) => e instanceof AppError && e.kind === 'invalid_argument';

describe('file names', () => {
  it('keeps the last path segment, drops control and bidi characters, keeps other Unicode (NFC)', () => {
    assert.equal(safeFileName('../../etc/passwd'), 'passwd');
    assert.equal(safeFileName('C:\\Users\\x\\evil.exe'), 'evil.exe');
    assert.equal(safeFileName('a\u0000b\r\n\u0085c.txt'), 'abc.txt');
    assert.equal(safeFileName('photo\u202Egpj.exe'), 'photogpj.exe');
    assert.equal(safeFileName('cafe\u0301.txt'), 'café.txt');
    assert.equal(safeFileName('  日本語 .txt '), '日本語 .txt');
    for (const raw of ['..', '.', '/', 'dir/', '\u0000']) assert.equal(safeFileName(raw), 'file', JSON.stringify(raw));
  });
  it('refuses a missing name and one over 255 characters', () => {
    assert.throws(() => safeFileName(undefined), invalid);
    assert.throws(() => safeFileName(''), invalid);
    assert.throws(() => safeFileName('x'.repeat(256)), invalid);
    assert.equal(safeFileName('é'.repeat(255)).length, 255);
  });
});

describe('media types', () => {
  it('defaults to application/octet-stream and takes type/subtype with parameters', () => {
    assert.equal(mediaType(undefined), 'application/octet-stream');
    assert.equal(mediaType(''), 'application/octet-stream');
    assert.equal(mediaType('image/png'), 'image/png');
    assert.equal(mediaType('text/plain; charset=utf-8'), 'text/plain; charset=utf-8');
    assert.equal(mediaType('text/plain;name="a b"'), 'text/plain;name="a b"');
  });
  it('refuses what is not a media type', () => {
    for (const t of ['text', 'text/', '/plain', 'text/html x', 'a/b; c', 'a/b\r\nx: y', `a/${'b'.repeat(300)}`]) assert.throws(() => mediaType(t), invalid, t);
  });
});
