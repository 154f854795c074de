// The HTTP headers of a download: Range (RFC 9110 §14, one range), the ETag conditions
// (If-None-Match, If-Range) and a Content-Disposition whose filename cannot break out of
// the header (RFC 6266, with the RFC 8187 `filename*` for names that are not ASCII).

/** A satisfiable range: bytes [start, end). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * What a Range header asks of a representation of `size` bytes: one range, `unsatisfiable`
 * (answer 416), or null to send it all: no header, another unit, a syntax we do not
 * follow, or several ranges (a server may ignore Range; we do for multipart ones).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^bytes=(.*)$/i.exec(header.trim());
  if (!m) return null;
  const specs = m[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length !== 1) return null;
  const r = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!r || (r[1] === '' && r[2] === '')) return null;
  if (r[1] === '') {
    // A suffix: the last N bytes (all of them if there are fewer).
    const n = Number(r[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size };
  }
  const first = Number(r[1]);
  const last = r[2] === '' ? Infinity : Number(r[2]);
  if (last < first) return null;
  if (first >= size) return 'unsatisfiable';
  return { start: first, end: Math.min(last, size - 1) + 1 };
}

const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');

/** If-None-Match against our (strong) ETag, compared weakly as RFC 9110 §13.1.2 says. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => opaque(t) === etag);
}

/** If-Range: the range applies only when the client's copy is still ours (strong comparison; dates never match). */
export function rangeStillValid(header: string | undefined, etag: string): boolean {
  return header === undefined || header.trim() === etag;
}

/** RFC 8187 attr-char stays; everything else is percent-encoded UTF-8. */
function encodeExtValue(s: string): string {
  return encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `attachment`, an ASCII fallback name (quotes, backslashes, % and non-ASCII replaced), and the exact name in UTF-8. */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeExtValue(name)}`;
}
