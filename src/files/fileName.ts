// A file's name and media type as a client gives them, made safe to store and to hand
// back in headers: no path, no control or bidi-override characters, bounded lengths.
import { InvalidArgumentError } from '../errors.ts';

export const FILE_NAME_MAX_CHARS = 255;
/** What a name that sanitizes to nothing becomes. */
export const FALLBACK_FILE_NAME = 'file';
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
export const CONTENT_TYPE_MAX_CHARS = 255;

/** C0, DEL, C1, and the bidi marks, embeddings, overrides and isolates that can disguise an extension. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The last path segment of `raw` (either separator), without unsafe characters; "file" if nothing is left. */
export function safeFileName(raw: string | null | undefined): string {
  if (raw === null || raw === undefined || raw === '') throw new InvalidArgumentError('"name" is required');
  const cleaned = raw.normalize('NFC').replace(UNSAFE, '');
  const base = cleaned.slice(Math.max(cleaned.lastIndexOf('/'), cleaned.lastIndexOf('\\')) + 1).trim();
  const name = base === '' || base === '.' || base === '..' ? FALLBACK_FILE_NAME : base;
  if ([...name].length > FILE_NAME_MAX_CHARS) {
    throw new InvalidArgumentError(`"name" must be at most ${FILE_NAME_MAX_CHARS} characters`);
  }
  return name;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[^"\\\\\\x00-\\x1f\\x7f]|\\\\[\\x20-\\x7e])*"';
/** RFC 9110 media-type: type "/" subtype *( OWS ";" OWS parameter ). */
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`);

/** The upload's Content-Type as the file's type; none means application/octet-stream. */
export function mediaType(raw: string | undefined): string {
  const type = raw?.trim() ?? '';
  if (type === '') return DEFAULT_CONTENT_TYPE;
  if (type.length > CONTENT_TYPE_MAX_CHARS || !MEDIA_TYPE.test(type)) {
    throw new InvalidArgumentError('Content-Type is not a valid media type');
  }
  return type;
}
