// One typed config, read once from the environment, validated at start-up. A bad value
// stops the start with a message that names the setting.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

export const DEFAULTS = {
  PORT: 8080,
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
} as const;

export interface Config {
  readonly port: number;
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

function bool(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false') return false;
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
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
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
    testFaults: bool(env, 'SWITCHBOARD_TEST_FAULTS'),
  };
}
