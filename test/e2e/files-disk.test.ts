// Files end to end on the embedded default: the disk store under DATA_DIR/files.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PART_SUFFIX } from '../../src/files/DiskFileStore.ts';
import { FILES_DIR } from '../../src/files/openFileStore.ts';
import { filesE2e } from './filesSuite.ts';

filesE2e('disk', {
  // The disk store even where MONGO_URL is set for the suites that want MongoDB.
  env: () => ({ MONGO_URL: '', AMQP_URL: '' }),
  async leftovers(server) {
    return readdirSync(join(server.dataDir, FILES_DIR), { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith(PART_SUFFIX)).length;
  },
});
