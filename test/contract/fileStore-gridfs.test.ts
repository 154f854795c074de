// The FileStore contract against GridFS on the real MongoDB-compatible server (scripts/services/mongo.sh),
// and what only a shared store must do: several nodes, one quota.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { AppError } from '../../src/errors.ts';
import type { FileLimits } from '../../src/files/FileStore.ts';
import { GridFsFileStore } from '../../src/files/GridFsFileStore.ts';
import { newUserId } from '../../src/ids.ts';
import { gridFsLeftovers } from '../helpers/gridfs.ts';
import { mongoDatabaseUrl, serviceMissing } from '../helpers/services.ts';
import { CONTRACT_LIMITS, fileStoreContract, writeInPieces } from './fileStoreContract.ts';

const missing = await serviceMissing('mongodb');
const url = mongoDatabaseUrl('filestore');

if (missing) {
  it('FileStore contract: GridFS', { skip: missing }, () => {});
} else {
  const client = new MongoClient(url);
  const db = client.db();
  after(async () => {
    await db.dropDatabase();
    await client.close();
  });
  const open = async (limits?: Partial<FileLimits>): Promise<GridFsFileStore> => {
    const s = GridFsFileStore.open(url, { ...CONTRACT_LIMITS, ...limits });
    await s.start();
    return s;
  };
  fileStoreContract('GridFS', { open, leftovers: () => gridFsLeftovers(db) });

  describe('GridFS file store shared by several nodes', () => {
    it('never lets uploads on different nodes overshoot one user\'s quota together', async () => {
      const nodes = await Promise.all([open(), open(), open()]);
      try {
        const owner = newUserId();
        const file = { owner, name: 'n.bin', contentType: 'application/octet-stream' };
        // Declared: exactly 4 of 30 KiB fit in 128 KiB, whichever nodes they go through.
        const declared = await Promise.allSettled(Array.from({ length: 6 }, async (_, i) => {
          const up = await nodes[i % nodes.length]!.begin(file, 30 * 1024);
          await writeInPieces(up, randomBytes(30 * 1024), [2048]);
          return up.commit();
        }));
        assert.equal(declared.filter((r) => r.status === 'fulfilled').length, 4);
        // Streamed: never more than fits.
        const other = { ...file, owner: newUserId() };
        const streamed = await Promise.allSettled(Array.from({ length: 6 }, async (_, i) => {
          const up = await nodes[i % nodes.length]!.begin(other);
          await writeInPieces(up, randomBytes(30 * 1024), [2048]);
          return up.commit();
        }));
        for (const r of [...declared, ...streamed]) {
          if (r.status === 'rejected') assert.ok(r.reason instanceof AppError && r.reason.kind === 'quota_exceeded', String(r.reason));
        }
        const stored = streamed.filter((r) => r.status === 'fulfilled').length;
        assert.ok(stored <= 4, `${stored} stored`);
        for (const [who, n] of [[owner, 4], [other.owner, stored]] as const) {
          const use = await nodes[0]!.usage(who);
          assert.equal(use.usedBytes, n * 30 * 1024);
          assert.equal(use.reservedBytes, 0);
        }
        assert.equal(await gridFsLeftovers(db), 0);
      } finally {
        await Promise.all(nodes.map((n) => n.close()));
      }
    });
  });
}
