// Register, log in, who-am-I. Shared by the HTTP and gRPC fronts.
import { NotFoundError, UnauthenticatedError } from '../errors.ts';
import { newUserId, type UserId } from '../ids.ts';
import type { Storage } from '../storage/Storage.ts';
import { str, type Fields } from '../service/validate.ts';
import type { PasswordHasher } from './PasswordHasher.ts';
import type { TokenIssuer } from './tokens.ts';

export const USERNAME = { min: 3, max: 32, pattern: /^[A-Za-z0-9_.-]+$/ } as const;
export const PASSWORD = { min: 8, max: 256 } as const;

export interface Session {
  readonly userId: UserId;
  readonly username: string;
  readonly token: string;
}

export class AuthService {
  constructor(
    private readonly storage: Storage,
    private readonly passwords: PasswordHasher,
    private readonly tokens: TokenIssuer,
  ) {}

  #credentials(body: Fields): { username: string; password: string } {
    return {
      username: str(body, 'username', USERNAME.min, USERNAME.max, USERNAME.pattern),
      password: str(body, 'password', PASSWORD.min, PASSWORD.max),
    };
  }

  async register(body: Fields): Promise<Session> {
    const { username, password } = this.#credentials(body);
    const userId = newUserId();
    const passwordHash = await this.passwords.hash(password);
    await this.storage.createUser({ id: userId, username, passwordHash, createdAt: Date.now() });
    return { userId, username, token: await this.tokens.sign(userId) };
  }

  async login(body: Fields): Promise<Session> {
    const { username, password } = this.#credentials(body);
    const user = await this.storage.findUserByName(username);
    // One message for both cases: no hint whether the username exists.
    const ok = user ? await this.passwords.verify(password, user.passwordHash) : false;
    if (!user || !ok) throw new UnauthenticatedError('wrong username or password');
    return { userId: user.id, username: user.username, token: await this.tokens.sign(user.id) };
  }

  async whoami(user: UserId): Promise<{ userId: UserId; username: string }> {
    const u = await this.storage.findUserById(user);
    if (!u) throw new NotFoundError('user not found');
    return { userId: u.id, username: u.username };
  }

  authenticate(token: string): Promise<UserId> {
    return this.tokens.verify(token);
  }

  /** `authenticate`, at once (the WebSocket upgrade's check: see TokenIssuer.verifyNow). */
  authenticateNow(token: string): UserId {
    return this.tokens.verifyNow(token);
  }
}
