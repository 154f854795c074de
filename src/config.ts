// One typed config, read once from the environment, validated at start-up. A bad value
// stops the start with a message that names the setting.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

export const DEFAULTS = {
  PORT: 8080,
  GRPC_PORT: 9090,
  GRPC_MAX_MESSAGE_BYTES: 4 * 1024 * 1024,
  GRPC_MAX_PENDING_EVENTS: 1024,
  HOST: '0.0.0.0',
  DATA_DIR: './data',
  SHARDS: 64,
  MAX_FRAME_BYTES: 64 * 1024,
  MAX_MESSAGE_BYTES: 16 * 1024,
  MAX_HTTP_BODY_BYTES: 64 * 1024,
  WS_MAX_BUFFERED_BYTES: 1024 * 1024,
  WS_IDLE_TIMEOUT_S: 120,
  WS_AUTH_TIMEOUT_MS: 10_000,
  ACTOR_IDLE_MS: 5 * 60_000,
  ASK_TIMEOUT_MS: 10_000,
  HISTORY_PAGE_MAX: 500,
  HISTORY_PAGE_MAX_BYTES: 256 * 1024,
  GROUP_MAX_MEMBERS: 1000,
  RATE_BURST: 200,
  RATE_PERIOD_MS: 5,
  JWT_TTL: '5d',
  CORS_ORIGIN: '*',
  CLUSTER_HEARTBEAT_MS: 1000,
  CLUSTER_NODE_TIMEOUT_MS: 3500,
  AMQP_PREFETCH: 256,
  ROOM_KEY_TTL_S: 3600,
  ROOM_GRACE_MS: 30_000,
  ROOM_EMPTY_CLOSE_MS: 5 * 60_000,
  ROOM_MAX_LIFETIME_MS: 4 * 3600_000,
  ROOM_MAX_MEMBERS: 16,
  MEDIA_LISTEN_IP: '127.0.0.1',
  FILE_MAX_BYTES: 100 * 1024 * 1024,
  USER_QUOTA_BYTES: 1024 * 1024 * 1024,
  /** GridFS's own default chunk size; on disk, the read size of a download. */
  FILE_CHUNK_BYTES: 255 * 1024,
  FILE_QUOTA_STEP_BYTES: 1024 * 1024,
  FILE_STALE_UPLOAD_MS: 10 * 60_000,
  FILE_SWEEP_INTERVAL_MS: 5 * 60_000,
} as const;

/** GridFS keeps a chunk in one BSON document (16 MiB at most). */
export const FILE_CHUNK_BYTES_MAX = 8 * 1024 * 1024;

export interface Config {
  readonly port: number;
  /** The gRPC front's port (0 picks a free one). */
  readonly grpcPort: number;
  /** Largest gRPC message received or sent. */
  readonly grpcMaxMessageBytes: number;
  /** Events a gRPC subscriber may leave unread before it is ended as too slow. */
  readonly grpcMaxPendingEvents: number;
  readonly host: string;
  readonly dataDir: string;
  readonly jwtSecret: string;
  readonly jwtTtl: string;
  readonly actorHosts: number;
  readonly shards: number;
  readonly maxFrameBytes: number;
  readonly maxMessageBytes: number;
  readonly maxHttpBodyBytes: number;
  readonly wsMaxBufferedBytes: number;
  readonly wsIdleTimeoutS: number;
  readonly wsAuthTimeoutMs: number;
  readonly actorIdleMs: number;
  readonly askTimeoutMs: number;
  readonly historyPageMax: number;
  readonly historyPageMaxBytes: number;
  readonly groupMaxMembers: number;
  /** GCRA: how many requests may arrive at once, and one more every `ratePeriodMs`. */
  readonly rateBurst: number;
  readonly ratePeriodMs: number;
  readonly corsOrigin: string;
  /** Lifetime of a room key, and the longest one may ask for. */
  readonly roomKeyTtlS: number;
  /** A member with no connection left keeps the seat this long. */
  readonly roomGraceMs: number;
  /** A room with no member closes after this long. */
  readonly roomEmptyCloseMs: number;
  /** A room closes this long after its creation, whoever is in it. */
  readonly roomMaxLifetimeMs: number;
  readonly roomMaxMembers: number;
  /** mediasoup workers to start (0: none, rooms run p2p). */
  readonly mediaWorkers: number;
  /** Where mediasoup's WebRTC transports listen, and the address they announce. */
  readonly mediaListenIp: string;
  readonly mediaAnnouncedAddress: string | undefined;
  /** Cluster mode: the RabbitMQ bus. Needs MONGO_URL too. */
  readonly amqpUrl: string | undefined;
  /** MongoDB storage (files in GridFS) instead of the embedded store. */
  readonly mongoUrl: string | undefined;
  /** This node's name in the cluster (queues, placement). */
  readonly nodeId: string;
  readonly clusterHeartbeatMs: number;
  /** A node unheard for this long is dead: its shards are taken over. */
  readonly clusterNodeTimeoutMs: number;
  /** Unacknowledged deliveries per shard consumer. */
  readonly amqpPrefetch: number;
  /** The largest one file may be. */
  readonly fileMaxBytes: number;
  /** What all of one user's files may take together. */
  readonly userQuotaBytes: number;
  /** GridFS chunk size; on disk, the read size of a download. */
  readonly fileChunkBytes: number;
  /** Quota reserved at a time while an upload of undeclared length streams in. */
  readonly fileQuotaStepBytes: number;
  /** A half-written upload untouched this long is abandoned (a crash left it): the sweep removes it. */
  readonly fileStaleUploadMs: number;
  readonly fileSweepIntervalMs: number;
  /** `GET /metrics` on the HTTP port (Prometheus' text format). */
  readonly metrics: boolean;
  /** Test-only fault switches (crash an actor host). Never on in production. */
  readonly testFaults: boolean;
}

export class ConfigError extends Error {
  constructor(setting: string, problem: string) {
    super(`config: ${setting} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, dflt = false): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '') return dflt;
  if (raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(name, `must be 1/0/true/false, got "${env[name]}"`);
}

const MIN_SECRET_LENGTH = 32;

/** The JWT secret: JWT_SECRET if set, else one generated once and kept in the data folder. */
function jwtSecret(env: Env, dataDir: string): string {
  const given = env.JWT_SECRET;
  if (given !== undefined && given !== '') {
    if (given.length < MIN_SECRET_LENGTH) throw new ConfigError('JWT_SECRET', `must be at least ${MIN_SECRET_LENGTH} characters`);
    return given;
  }
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  try {
    // Exclusive create: of two processes starting at once on one folder, one secret wins.
    writeFileSync(file, randomBytes(48).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return readFileSync(file, 'utf8').trim();
}

/** GRPC_PORT, which must not be PORT (unless both pick a free port). */
function grpcPort(env: Env): number {
  const port = int(env, 'GRPC_PORT', DEFAULTS.GRPC_PORT, 0, 65535);
  if (port !== 0 && port === int(env, 'PORT', DEFAULTS.PORT, 0, 65535)) throw new ConfigError('GRPC_PORT', `must differ from PORT (${port})`);
  return port;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a URL');
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(name, `must start with ${protocols.join(' or ')}//`);
  return raw;
}

/** AMQP_URL makes a node of a cluster, which needs shared storage. */
function cluster(env: Env): string | undefined {
  const amqpUrl = url(env, 'AMQP_URL', ['amqp:', 'amqps:']);
  if (amqpUrl && !env.MONGO_URL) throw new ConfigError('AMQP_URL', 'needs MONGO_URL too: the nodes of a cluster share their storage');
  return amqpUrl;
}

function nodeId(env: Env): string {
  const id = env.NODE_ID || `node-${randomBytes(4).toString('hex')}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new ConfigError('NODE_ID', 'must be 1-64 letters, digits, _ . -');
  return id;
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = resolve(env.DATA_DIR || DEFAULTS.DATA_DIR);
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw new ConfigError('DATA_DIR', `cannot be created: ${(e as Error).message}`);
  }
  const host = env.HOST || DEFAULTS.HOST;
  const jwtTtl = env.JWT_TTL || DEFAULTS.JWT_TTL;
  if (!/^\d+\s*(s|m|h|d)$/.test(jwtTtl)) throw new ConfigError('JWT_TTL', `must look like 5d, 12h, 30m or 45s, got "${jwtTtl}"`);
  return {
    port: int(env, 'PORT', DEFAULTS.PORT, 0, 65535),
    grpcPort: grpcPort(env),
    grpcMaxMessageBytes: int(env, 'GRPC_MAX_MESSAGE_BYTES', DEFAULTS.GRPC_MAX_MESSAGE_BYTES, 1024, 2 ** 31 - 1),
    grpcMaxPendingEvents: int(env, 'GRPC_MAX_PENDING_EVENTS', DEFAULTS.GRPC_MAX_PENDING_EVENTS, 1),
    host,
    dataDir,
    jwtSecret: jwtSecret(env, dataDir),
    jwtTtl,
    actorHosts: int(env, 'ACTOR_HOSTS', Math.max(1, availableParallelism()), 1, 256),
    shards: int(env, 'SHARDS', DEFAULTS.SHARDS, 1, 65536),
    maxFrameBytes: int(env, 'MAX_FRAME_BYTES', DEFAULTS.MAX_FRAME_BYTES, 1024),
    maxMessageBytes: int(env, 'MAX_MESSAGE_BYTES', DEFAULTS.MAX_MESSAGE_BYTES, 1),
    maxHttpBodyBytes: int(env, 'MAX_HTTP_BODY_BYTES', DEFAULTS.MAX_HTTP_BODY_BYTES, 1024),
    wsMaxBufferedBytes: int(env, 'WS_MAX_BUFFERED_BYTES', DEFAULTS.WS_MAX_BUFFERED_BYTES, 1024),
    wsIdleTimeoutS: int(env, 'WS_IDLE_TIMEOUT_S', DEFAULTS.WS_IDLE_TIMEOUT_S, 8, 960),
    wsAuthTimeoutMs: int(env, 'WS_AUTH_TIMEOUT_MS', DEFAULTS.WS_AUTH_TIMEOUT_MS, 100),
    actorIdleMs: int(env, 'ACTOR_IDLE_MS', DEFAULTS.ACTOR_IDLE_MS, 100),
    askTimeoutMs: int(env, 'ASK_TIMEOUT_MS', DEFAULTS.ASK_TIMEOUT_MS, 100),
    historyPageMax: int(env, 'HISTORY_PAGE_MAX', DEFAULTS.HISTORY_PAGE_MAX, 1),
    historyPageMaxBytes: int(env, 'HISTORY_PAGE_MAX_BYTES', DEFAULTS.HISTORY_PAGE_MAX_BYTES, 1024),
    groupMaxMembers: int(env, 'GROUP_MAX_MEMBERS', DEFAULTS.GROUP_MAX_MEMBERS, 2),
    rateBurst: int(env, 'RATE_BURST', DEFAULTS.RATE_BURST, 1),
    ratePeriodMs: int(env, 'RATE_PERIOD_MS', DEFAULTS.RATE_PERIOD_MS, 0),
    corsOrigin: env.CORS_ORIGIN || DEFAULTS.CORS_ORIGIN,
    roomKeyTtlS: int(env, 'ROOM_KEY_TTL_S', DEFAULTS.ROOM_KEY_TTL_S, 1),
    roomGraceMs: int(env, 'ROOM_GRACE_MS', DEFAULTS.ROOM_GRACE_MS, 0),
    roomEmptyCloseMs: int(env, 'ROOM_EMPTY_CLOSE_MS', DEFAULTS.ROOM_EMPTY_CLOSE_MS, 1),
    roomMaxLifetimeMs: int(env, 'ROOM_MAX_LIFETIME_MS', DEFAULTS.ROOM_MAX_LIFETIME_MS, 1),
    roomMaxMembers: int(env, 'ROOM_MAX_MEMBERS', DEFAULTS.ROOM_MAX_MEMBERS, 2),
    mediaWorkers: int(env, 'MEDIA_WORKERS', Math.max(1, availableParallelism()), 0, 256),
    mediaListenIp: env.MEDIA_LISTEN_IP || DEFAULTS.MEDIA_LISTEN_IP,
    mediaAnnouncedAddress: env.MEDIA_ANNOUNCED_ADDRESS || undefined,
    amqpUrl: cluster(env),
    mongoUrl: url(env, 'MONGO_URL', ['mongodb:', 'mongodb+srv:']),
    nodeId: nodeId(env),
    clusterHeartbeatMs: int(env, 'CLUSTER_HEARTBEAT_MS', DEFAULTS.CLUSTER_HEARTBEAT_MS, 50),
    clusterNodeTimeoutMs: int(env, 'CLUSTER_NODE_TIMEOUT_MS', DEFAULTS.CLUSTER_NODE_TIMEOUT_MS, 100),
    amqpPrefetch: int(env, 'AMQP_PREFETCH', DEFAULTS.AMQP_PREFETCH, 1, 65535),
    fileMaxBytes: int(env, 'FILE_MAX_BYTES', DEFAULTS.FILE_MAX_BYTES, 1),
    userQuotaBytes: int(env, 'USER_QUOTA_BYTES', DEFAULTS.USER_QUOTA_BYTES, 1),
    fileChunkBytes: int(env, 'FILE_CHUNK_BYTES', DEFAULTS.FILE_CHUNK_BYTES, 256, FILE_CHUNK_BYTES_MAX),
    fileQuotaStepBytes: int(env, 'FILE_QUOTA_STEP_BYTES', DEFAULTS.FILE_QUOTA_STEP_BYTES, 1),
    fileStaleUploadMs: int(env, 'FILE_STALE_UPLOAD_MS', DEFAULTS.FILE_STALE_UPLOAD_MS, 100),
    fileSweepIntervalMs: int(env, 'FILE_SWEEP_INTERVAL_MS', DEFAULTS.FILE_SWEEP_INTERVAL_MS, 100),
    metrics: bool(env, 'METRICS', true),
    testFaults: bool(env, 'SWITCHBOARD_TEST_FAULTS'),
  };
}
