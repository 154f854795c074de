// JWTs (jose): HS256 only, issuer and audience pinned, 5 days by default, carrying the user id.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { UnauthenticatedError } from '../errors.ts';
import { parseUserId, type UserId } from '../ids.ts';

export const JWT_ALGORITHM = 'HS256';
export const JWT_ISSUER = 'switchboard';
export const JWT_AUDIENCE = 'switchboard';

export class TokenIssuer {
  readonly #key: Uint8Array;
  readonly #ttl: string;

  constructor(secret: string, ttl: string) {
    this.#key = new TextEncoder().encode(secret);
    this.#ttl = ttl;
  }

  sign(user: UserId): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: JWT_ALGORITHM, typ: 'JWT' })
      .setSubject(user)
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(this.#ttl)
      .sign(this.#key);
  }

  /**
   * The same check as `verify`, done at once: for the WebSocket upgrade, which must answer
   * inside uWS's handler (an upgrade after an await meets a uWS bug, see WsFront). jose has
   * no synchronous API; this checks exactly our profile (HS256 pinned, iss, aud, exp, nbf,
   * iat, sub), and tokens.test.ts holds it to agree with `verify`.
   */
  verifyNow(token: string, nowMs = Date.now()): UserId {
    const parts = token.split('.');
    if (parts.length !== 3) throw malformed();
    const [h, p, s] = parts as [string, string, string];
    const header = jsonObject(h);
    if (header.crit !== undefined || header.b64 !== undefined || typeof header.alg !== 'string') throw malformed();
    if (header.alg !== JWT_ALGORITHM) throw new UnauthenticatedError('token algorithm is not allowed');
    if (!BASE64URL.test(s)) throw malformed();
    const expected = createHmac('sha256', this.#key).update(`${h}.${p}`).digest();
    const given = Buffer.from(s, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new UnauthenticatedError('token signature is invalid');
    }
    const claims = jsonObject(p);
    const now = Math.floor(nowMs / 1000);
    const claim = (name: string): UnauthenticatedError => new UnauthenticatedError(`token claim "${name}" is invalid`);
    if (claims.iss !== JWT_ISSUER) throw claim('iss');
    const aud = claims.aud;
    if (!(aud === JWT_AUDIENCE || (Array.isArray(aud) && aud.includes(JWT_AUDIENCE)))) throw claim('aud');
    if (claims.iat !== undefined && typeof claims.iat !== 'number') throw claim('iat');
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now)) throw claim('nbf');
    if (claims.exp !== undefined) {
      if (typeof claims.exp !== 'number') throw claim('exp');
      if (claims.exp <= now) throw new UnauthenticatedError('token expired');
    }
    const user = parseUserId(claims.sub);
    if (!user) throw new UnauthenticatedError('token has no valid subject');
    return user;
  }

  async verify(token: string): Promise<UserId> {
    let sub: unknown;
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: [JWT_ALGORITHM], issuer: JWT_ISSUER, audience: JWT_AUDIENCE,
      });
      sub = payload.sub;
    } catch (e) {
      throw new UnauthenticatedError(jwtFailure(e, 'token'));
    }
    const user = parseUserId(sub);
    if (!user) throw new UnauthenticatedError('token has no valid subject');
    return user;
  }
}

/** base64url, with the padding jose also takes. */
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const malformed = (): UnauthenticatedError => new UnauthenticatedError('token is malformed');

/** A base64url segment that holds a JSON object, or "malformed". */
function jsonObject(segment: string): Record<string, unknown> {
  if (!BASE64URL.test(segment)) throw malformed();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed();
  return v as Record<string, unknown>;
}

/** Why jose refused a JWT, in words a client may see (`what`: "token", "room key"). */
export function jwtFailure(e: unknown, what: string): string {
  if (e instanceof errors.JWTExpired) return `${what} expired`;
  if (e instanceof errors.JWSSignatureVerificationFailed) return `${what} signature is invalid`;
  if (e instanceof errors.JOSEAlgNotAllowed) return `${what} algorithm is not allowed`;
  if (e instanceof errors.JWTClaimValidationFailed) return `${what} claim "${e.claim}" is invalid`;
  return `${what} is malformed`;
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string {
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header ?? '');
  if (!m) throw new UnauthenticatedError('missing or malformed Authorization: Bearer header');
  return m[1]!;
}
