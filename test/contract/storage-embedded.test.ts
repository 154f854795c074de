// The Storage contract against the embedded store: SQLite behind the storage thread's
// group-commit server, reached through a StorageClient over a real MessageChannel.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { EmbeddedStorageServer } from '../../src/storage/EmbeddedStorageServer.ts';
import { SqliteStore } from '../../src/storage/SqliteStore.ts';
import { StorageClient } from '../../src/storage/StorageClient.ts';
import { newGroupId, newMessageId, newUserId } from '../../src/ids.ts';
import { storageContract } from './storageContract.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-storage-'));
const server = new EmbeddedStorageServer(new SqliteStore(join(dir, 'contract.db')));
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(): StorageClient {
  const { port1, port2 } = new MessageChannel();
  server.attach(port2);
  return new StorageClient(port1);
}

storageContract('embedded (SQLite, group commit)', async () => client());

describe('embedded storage group commit', () => {
  it('commits the writes of one turn together: fewer commits than writes', async () => {
    const s = client();
    const owner = newUserId();
    await s.createUser({ id: owner, username: `gc_${Date.now()}`, passwordHash: 'x', createdAt: 0 });
    const id = newGroupId();
    await s.createConversation({ id, kind: 'group', name: '', owner, createdAt: 0, members: [owner] });
    const before = { ...server.stats };
    await Promise.all(Array.from({ length: 500 }, (_, i) => s.appendMessage({
      id: newMessageId(), conversationId: id, sender: owner, clientMsgId: `c${i}`, body: 'x', sentAt: 0,
    })));
    const commits = server.stats.commits - before.commits;
    assert.ok(commits >= 1 && commits < 50, `500 writes took ${commits} commits`);
    await s.close();
  });

  it('fails pending calls as unavailable when the storage port closes', async () => {
    const { port1, port2 } = new MessageChannel();
    const s = new StorageClient(port1);
    port2.close();
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(s.findUserById(newUserId()), /storage/);
  });
});
