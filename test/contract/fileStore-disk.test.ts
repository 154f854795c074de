// The FileStore contract against the disk store (the embedded default).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { DiskFileStore, PART_SUFFIX } from '../../src/files/DiskFileStore.ts';
import { CONTRACT_LIMITS, fileStoreContract } from './fileStoreContract.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

fileStoreContract('disk', {
  async open(limits) {
    const s = new DiskFileStore(dir, { ...CONTRACT_LIMITS, ...limits });
    await s.start();
    return s;
  },
  async leftovers() {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith(PART_SUFFIX)).length;
  },
});
