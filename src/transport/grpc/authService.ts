// The AuthService provider: each RPC calls the same AuthService the HTTP front uses.
import type * as grpc from '@grpc/grpc-js';
import type { AuthService } from '../../auth/AuthService.ts';
import type { CallGuard } from './CallGuard.ts';
import { sessionReply, type Credentials, type SessionReply, type User } from './wire.ts';

export function authServiceHandlers(auth: AuthService, guard: CallGuard): grpc.UntypedServiceImplementation {
  return {
    Register: guard.open<Credentials, SessionReply>('Register', async (req) => sessionReply(await auth.register({ ...req }))),
    Login: guard.open<Credentials, SessionReply>('Login', async (req) => sessionReply(await auth.login({ ...req }))),
    GetCurrentUser: guard.authed<unknown, User>('GetCurrentUser', (_req, user) => auth.whoami(user)),
  };
}
