// Starts a real Switchboard process on a free port with its own data folder, for e2e tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';
const START_TIMEOUT_MS = 30_000;

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  /** The gRPC front's port, and its address for a grpc-js client. */
  readonly grpcPort: number;
  readonly grpcAddress: string;
  readonly dataDir: string;
  readonly logs: string[];
  readonly process: ChildProcess;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown, no flush. */
  kill(): Promise<void>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchboard-test-'));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function startServer(env: Record<string, string> = {}, dataDir = tempDataDir()): Promise<RunningServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      JWT_SECRET: TEST_SECRET,
      ACTOR_HOSTS: '2',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const { port, grpcPort } = await new Promise<{ port: number; grpcPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs.join('\n')}`)), START_TIMEOUT_MS);
    let buf = '';
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number; grpcPort?: number };
          if (entry.msg === 'listening' && entry.port) {
            clearTimeout(timer);
            resolve({ port: entry.port, grpcPort: entry.grpcPort ?? 0 });
          }
        } catch { /* not a log line */ }
      }
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', (c: Buffer) => logs.push(c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${logs.join('\n')}`));
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    grpcPort,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    dataDir,
    logs,
    process: child,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
