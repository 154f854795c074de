// The Storage contract against a real MongoDB-compatible server (scripts/services/mongo.sh).
import { after } from 'node:test';
import { MongoClient } from 'mongodb';
import { MongoStorage } from '../../src/storage/MongoStorage.ts';
import { mongoDatabaseUrl, serviceMissing } from '../helpers/services.ts';
import { storageContract } from './storageContract.ts';

const missing = await serviceMissing('mongodb');
const url = mongoDatabaseUrl('contract');

if (missing) {
  const { it } = await import('node:test');
  it('Storage contract: MongoDB', { skip: missing }, () => {});
} else {
  await (await MongoStorage.connect(url, { createIndexes: true })).close();
  after(async () => {
    const c = new MongoClient(url);
    await c.db().dropDatabase();
    await c.close();
  });
  storageContract('MongoDB', () => MongoStorage.connect(url));
}
