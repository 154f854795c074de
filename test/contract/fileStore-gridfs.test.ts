// The FileStore contract against GridFS on the real MongoDB-compatible server (scripts/services/mongo.sh).
import { after } from 'node:test';
import { MongoClient } from 'mongodb';
import { GRIDFS_BUCKET, GridFsFileStore } from '../../src/files/GridFsFileStore.ts';
import { mongoDatabaseUrl, serviceMissing } from '../helpers/services.ts';
import { CONTRACT_LIMITS, fileStoreContract } from './fileStoreContract.ts';

const missing = await serviceMissing('mongodb');
const url = mongoDatabaseUrl('filestore');

if (missing) {
  const { it } = await import('node:test');
  it('FileStore contract: GridFS', { skip: missing }, () => {});
} else {
  const client = new MongoClient(url);
  const db = client.db();
  after(async () => {
    await db.dropDatabase();
    await client.close();
  });
  fileStoreContract('GridFS', {
    async open(limits) {
      const s = GridFsFileStore.open(url, { ...CONTRACT_LIMITS, ...limits });
      await s.start();
      return s;
    },
    async leftovers() {
      const files = await db.collection(`${GRIDFS_BUCKET}.files`).find({}, { projection: { 'metadata.state': 1 } }).toArray();
      const ready = new Set(files.filter((f) => f.metadata?.state === 'ready').map((f) => String(f._id)));
      const chunks = await db.collection(`${GRIDFS_BUCKET}.chunks`).find({}, { projection: { files_id: 1 } }).toArray();
      return files.length - ready.size + chunks.filter((c) => !ready.has(String(c.files_id))).length;
    },
  });
}
