// JWTs (jose): HS256 only, issuer and audience pinned, 5 days by default, carrying the user id.
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
