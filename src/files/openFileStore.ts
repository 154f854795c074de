// Which file store a process uses: GridFS when it has MongoDB (every node of a cluster
// sees the same files), else the disk under DATA_DIR.
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { DiskFileStore } from './DiskFileStore.ts';
import type { FileLimits, FileStore } from './FileStore.ts';
import { GridFsFileStore } from './GridFsFileStore.ts';

/** The disk store's folder under DATA_DIR. */
export const FILES_DIR = 'files';

export function fileLimits(config: Config): FileLimits {
  return {
    maxFileBytes: config.fileMaxBytes,
    quotaBytes: config.userQuotaBytes,
    reserveStepBytes: config.fileQuotaStepBytes,
    chunkBytes: config.fileChunkBytes,
    staleUploadMs: config.fileStaleUploadMs,
    sweepIntervalMs: config.fileSweepIntervalMs,
  };
}

export function openFileStore(config: Config): FileStore {
  const limits = fileLimits(config);
  return config.mongoUrl ? GridFsFileStore.open(config.mongoUrl, limits) : new DiskFileStore(join(config.dataDir, FILES_DIR), limits);
}
