// A gRPC client nobody here wrote: grpcurl (github.com/fullstorydev/grpcurl, built from the
// Go module proxy by scripts/tools/grpcurl.sh) lists the services through reflection,
// checks health and signs in. In CI (env CI set) a grpcurl that cannot be installed fails
// the test; elsewhere the test is skipped, saying why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { register, type Registered } from '../helpers/clients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';
import { installTool, run, skipUnless } from '../helpers/tools.ts';

/** A cold install builds grpcurl from source: about half a minute on 2 cores, more on a slow proxy. */
const INSTALL_TIMEOUT_MS = 5 * 60_000;
const CALL_TIMEOUT_MS = 30_000;

const installed = await installTool('grpcurl', 'scripts/tools/grpcurl.sh', INSTALL_TIMEOUT_MS);
const skip = skipUnless('grpcurl', installed);

describe('grpcurl against the gRPC front', { skip }, () => {
  let server: RunningServer;
  let user: Registered;

  /** `grpcurl -plaintext <flags> <server> <rest>`; resolves with its exit code and output. */
  async function grpcurl(flags: string[], ...rest: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const bin = (installed as { path: string }).path;
    try {
      const { stdout, stderr } = await run(bin, ['-plaintext', ...flags, server.grpcAddress, ...rest], { timeout: CALL_TIMEOUT_MS });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  }

  before(async () => {
    server = await startServer();
    user = await register(server.url, 'curly');
  });
  after(async () => {
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('lists the services through reflection and describes them', async () => {
    const list = await grpcurl([], 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n').sort(), [
      'grpc.health.v1.Health', 'switchboard.v1.AuthService', 'switchboard.v1.FileService', 'switchboard.v1.MessagingService',
      'switchboard.v1.RoomService',
    ]);
    // Describing needs every file's descriptor, dependencies (google.protobuf.Timestamp) included.
    const described = await grpcurl([], 'describe', 'switchboard.v1.MessagingService.SendMessage');
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /rpc SendMessage \( \.switchboard\.v1\.SendMessageRequest \) returns \( \.switchboard\.v1\.SendMessageResponse \)/);
    const message = await grpcurl([], 'describe', 'switchboard.v1.Message');
    assert.equal(message.code, 0, message.stderr);
    assert.match(message.stdout, /\.google\.protobuf\.Timestamp send_time = 7;/);
    // Room events cross files: messaging_service.proto -> room_service.proto -> google.protobuf.Struct.
    const signal = await grpcurl([], 'describe', 'switchboard.v1.RoomSignal');
    assert.equal(signal.code, 0, signal.stderr);
    assert.match(signal.stdout, /\.google\.protobuf\.Struct data = 2;/);
    // A message with reserved fields: its ranges must be well-formed for grpcurl to take the file at all.
    const file = await grpcurl([], 'describe', 'switchboard.v1.File');
    assert.equal(file.code, 0, file.stderr);
    assert.match(file.stdout, /reserved 6;/);
  });

  it('checks health', async () => {
    const whole = await grpcurl([], 'grpc.health.v1.Health/Check');
    assert.equal(whole.code, 0, whole.stderr);
    assert.deepEqual(JSON.parse(whole.stdout), { status: 'SERVING' });
    const messaging = await grpcurl(['-d', '{"service":"switchboard.v1.MessagingService"}'], 'grpc.health.v1.Health/Check');
    assert.deepEqual(JSON.parse(messaging.stdout), { status: 'SERVING' });
  });

  it('signs in with AuthService/Login and uses the token', async () => {
    const login = await grpcurl(['-d', JSON.stringify({ username: user.username, password: 'correct horse battery' })], 'switchboard.v1.AuthService/Login');
    assert.equal(login.code, 0, login.stderr);
    const session = JSON.parse(login.stdout) as { user_id?: string; userId?: string; token: string };
    assert.equal(session.user_id ?? session.userId, user.userId);
    const me = await grpcurl(['-H', `authorization: Bearer ${session.token}`], 'switchboard.v1.AuthService/GetCurrentUser');
    assert.equal(me.code, 0, me.stderr);
    assert.equal(JSON.parse(me.stdout).username, user.username);
    const quota = await grpcurl(['-H', `authorization: Bearer ${session.token}`], 'switchboard.v1.FileService/GetQuota');
    assert.equal(quota.code, 0, quota.stderr);
    assert.ok(Number(JSON.parse(quota.stdout).limit_bytes ?? JSON.parse(quota.stdout).limitBytes) > 0, quota.stdout);

    const refused = await grpcurl(['-d', JSON.stringify({ username: user.username, password: 'wrong horse battery' })], 'switchboard.v1.AuthService/Login');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Code: Unauthenticated/);
    assert.match(refused.stderr, /wrong username or password/);
  });
});
