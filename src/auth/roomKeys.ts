// Room keys: JWTs (jose, HS256, the server secret) that admit one user to one room until
// they expire. Their audience is not the sign-in token's, so neither passes for the other.
// A key may be used again by its user to rejoin the same room while it is valid (README).
import { jwtVerify, SignJWT } from 'jose';
import { PermissionDeniedError } from '../errors.ts';
import type { RoomId, UserId } from '../ids.ts';
import { JWT_ALGORITHM, JWT_ISSUER, jwtFailure } from './tokens.ts';

export const ROOM_KEY_AUDIENCE = 'switchboard-room';

export interface RoomKey {
  readonly key: string;
  /** Milliseconds since the epoch (the key's `exp`, rounded down to a second). */
  readonly expiresAt: number;
}

interface RoomKeyClaims {
  readonly room?: unknown;
  readonly user?: unknown;
}

export class RoomKeys {
  readonly #key: Uint8Array;

  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  /** A key for `user` in `room`, valid `ttlS` seconds but never past `notAfterMs`. */
  async issue(room: RoomId, user: UserId, ttlS: number, notAfterMs: number): Promise<RoomKey> {
    const exp = Math.min(Math.floor(Date.now() / 1000) + ttlS, Math.floor(notAfterMs / 1000));
    const key = await new SignJWT({ room, user })
      .setProtectedHeader({ alg: JWT_ALGORITHM, typ: 'JWT' })
      .setSubject(user)
      .setIssuer(JWT_ISSUER)
      .setAudience(ROOM_KEY_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.#key);
    return { key, expiresAt: exp * 1000 };
  }

  /** Throws PermissionDeniedError unless the key is valid, unexpired, and for this room and user. */
  async verify(key: string, room: RoomId, user: UserId): Promise<void> {
    let claims: RoomKeyClaims;
    try {
      ({ payload: claims } = await jwtVerify<RoomKeyClaims>(key, this.#key, {
        algorithms: [JWT_ALGORITHM], issuer: JWT_ISSUER, audience: ROOM_KEY_AUDIENCE, requiredClaims: ['exp'],
      }));
    } catch (e) {
      throw new PermissionDeniedError(jwtFailure(e, 'room key'));
    }
    if (claims.room !== room) throw new PermissionDeniedError('room key is for another room');
    if (claims.user !== user) throw new PermissionDeniedError('room key is for another user');
  }
}
