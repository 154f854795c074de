// A second server on a port another one holds must not start: uWS binds with SO_REUSEPORT
// unless told otherwise, and two processes would then silently share the port's
// connections (a socket of one user landing on the wrong server). We bind exclusively.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { http } from '../helpers/clients.ts';
import { removeDataDir, startServer, tempDataDir, type RunningServer } from '../helpers/server.ts';

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

describe('a port in use', () => {
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
});
