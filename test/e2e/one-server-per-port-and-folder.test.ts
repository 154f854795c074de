// One server per port and per embedded data folder. A second server on a port another one
// holds must not start: uWS binds with SO_REUSEPORT unless told otherwise, and two
// processes would then silently share the port's connections. A second server on the same
// DATA_DIR must not start either: each would keep its own file index and quota in memory.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http } from '../helpers/clients.ts';
import { removeDataDir, startServer, tempDataDir, type RunningServer } from '../helpers/server.ts';
import { LOCK_FILE } from '../../src/storage/DataDirLock.ts';

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('a port or data folder in use', () => {
  let first: RunningServer;

  before(async () => {
    // A port named by number, as an operator would: on one the kernel picked (PORT=0), Linux
    // refuses to share even without our fix, so that case proves nothing.
    first = await startServer({ PORT: String(await freePort()) });
  });
  after(async () => {
    await first?.stop();
    removeDataDir(first.dataDir);
  });

  it('stops a second server with a clear error, and the first keeps serving', async () => {
    const dataDir = tempDataDir();
    try {
      await assert.rejects(startServer({ PORT: String(first.port) }, dataDir),
        new RegExp(`exited with 1 before listening:[\\s\\S]*cannot listen on 127\\.0\\.0\\.1:${first.port}`));
    } finally {
      removeDataDir(dataDir);
    }
    assert.equal((await http(first.url, 'GET', '/healthz')).status, 200);
  });

  it('stops a second server on the same DATA_DIR, naming the process that has it', async () => {
    await assert.rejects(startServer({}, first.dataDir),
      new RegExp(`exited with 1 before listening:[\\s\\S]*DATA_DIR ${first.dataDir} is in use by process ${first.process.pid}`));
    assert.equal((await http(first.url, 'GET', '/healthz')).status, 200);
  });

  it('takes over the lock of a server that was killed, and frees it on a clean stop', async () => {
    const dataDir = tempDataDir();
    try {
      const killed = await startServer({}, dataDir);
      await killed.kill();
      assert.ok(existsSync(join(dataDir, LOCK_FILE)), 'SIGKILL leaves the lock behind');
      const next = await startServer({}, dataDir);
      assert.equal((await http(next.url, 'GET', '/healthz')).status, 200);
      await next.stop();
      assert.ok(!existsSync(join(dataDir, LOCK_FILE)), 'a clean stop removes it');
    } finally {
      removeDataDir(dataDir);
    }
  });
});
