// What half-written uploads left in a GridFS bucket: files documents not (yet) ready, and
// chunks of no ready file. Zero after every finished or aborted upload.
import type { Db } from 'mongodb';
import { GRIDFS_BUCKET } from '../../src/files/GridFsFileStore.ts';

export async function gridFsLeftovers(db: Db): Promise<number> {
  const files = await db.collection(`${GRIDFS_BUCKET}.files`).find({}, { projection: { 'metadata.state': 1 } }).toArray();
  const ready = new Set(files.filter((f) => f.metadata?.state === 'ready').map((f) => String(f._id)));
  const chunks = await db.collection(`${GRIDFS_BUCKET}.chunks`).find({}, { projection: { files_id: 1 } }).toArray();
  return files.length - ready.size + chunks.filter((c) => !ready.has(String(c.files_id))).length;
}
