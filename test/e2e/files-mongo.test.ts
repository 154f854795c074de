// Files end to end in GridFS: a server on the MongoDB-compatible server (embedded bus, MongoDB storage).
import { MongoClient, type Db } from 'mongodb';
import { it } from 'node:test';
import { gridFsLeftovers } from '../helpers/gridfs.ts';
import { mongoDatabaseUrl, serviceMissing } from '../helpers/services.ts';
import { filesE2e } from './filesSuite.ts';

const missing = await serviceMissing('mongodb');
let servers = 0;

async function withDb<T>(url: string, f: (db: Db) => Promise<T>): Promise<T> {
  const client = new MongoClient(url);
  try {
    return await f(client.db());
  } finally {
    await client.close();
  }
}

if (missing) {
  it('files end to end: GridFS', { skip: missing }, () => {});
} else {
  filesE2e('GridFS', {
    env: () => ({ MONGO_URL: mongoDatabaseUrl(`files${++servers}`) }),
    leftovers: (_server, env) => withDb(env.MONGO_URL!, gridFsLeftovers),
    cleanup: async (env) => { await withDb(env.MONGO_URL!, (db) => db.dropDatabase()); },
  });
}
