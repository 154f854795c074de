// The FileStore contract: the disk store and the GridFS store pass these same tests.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { AppError } from '../../src/errors.ts';
import { newUserId, type UserId } from '../../src/ids.ts';
import type { FileLimits, FileStore, NewFile, UploadSession } from '../../src/files/FileStore.ts';

const KiB = 1024;
/** Small chunks and limits, so chunk boundaries and limits are cheap to reach. */
export const CONTRACT_LIMITS: FileLimits = {
  maxFileBytes: 64 * KiB, quotaBytes: 128 * KiB, reserveStepBytes: 4 * KiB, chunkBytes: KiB,
  staleUploadMs: 60_000, sweepIntervalMs: 3_600_000,
};

export interface FileStoreHarness {
  /** A started store on the shared backing (one folder, one database). */
  open(limits?: Partial<FileLimits>): Promise<FileStore>;
  /** Half-written leftovers in the backing: bytes or records of no stored file. */
  leftovers(): Promise<number>;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Feeds `data` in irregular pieces, as a network would. */
export async function writeInPieces(s: UploadSession, data: Buffer, pieces = [700, 1, 1500, 333]): Promise<void> {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(pieces[i % pieces.length]!, data.length - off);
    await s.write(data.subarray(off, off + n));
    off += n;
  }
}

const isKind = (kind: string) => (e: unknown) => e instanceof AppError && e.kind === kind;

export function fileStoreContract(name: string, harness: FileStoreHarness): void {
  describe(`FileStore contract: ${name}`, () => {
    // Every store a test opened is closed after it, passed or failed (an open client would keep the process alive).
    const opened: FileStore[] = [];
    const h: FileStoreHarness = {
      open: async (limits) => {
        const s = await harness.open(limits);
        opened.push(s);
        return s;
      },
      leftovers: () => harness.leftovers(),
    };
    afterEach(async () => { await Promise.all(opened.splice(0).map((s) => s.close())); });
    const file = (owner: UserId, fileName = 'a.bin'): NewFile => ({ owner, name: fileName, contentType: 'application/octet-stream' });

    async function store(s: FileStore, owner: UserId, data: Buffer, declare = false) {
      const up = await s.begin(file(owner), declare ? data.length : undefined);
      await writeInPieces(up, data);
      return up.commit();
    }

    async function nothingOf(s: FileStore, owner: UserId): Promise<void> {
      assert.deepEqual(await s.list(owner), []);
      const use = await s.usage(owner);
      assert.equal(use.usedBytes, 0);
      assert.equal(use.reservedBytes, 0);
      assert.equal(await h.leftovers(), 0);
    }

    it('round-trips empty, 1-byte, one-chunk, chunk+1 and multi-chunk files byte for byte', async () => {
      const s = await h.open();
      const owner = newUserId();
      const chunk = CONTRACT_LIMITS.chunkBytes;
      for (const size of [0, 1, chunk, chunk + 1, 5 * chunk + 7]) {
        const data = randomBytes(size);
        const meta = await store(s, owner, data, size % 2 === 0);
        assert.equal(meta.size, size);
        assert.equal(meta.sha256, createHash('sha256').update(data).digest('hex'));
        assert.deepEqual(await s.stat(meta.id), meta);
        const got = size === 0 ? Buffer.alloc(0) : await readAll(s.read(meta.id, 0, size));
        assert.ok(got.equals(data), `size ${size} differs`);
      }
      const listed = await s.list(owner);
      assert.deepEqual(listed.map((m) => m.size), [0, 1, chunk, chunk + 1, 5 * chunk + 7]);
      assert.equal((await s.usage(owner)).usedBytes, 7 * chunk + 9);
      assert.equal(await s.stat(`f_${'x'.repeat(16)}` as never), null);
      await s.close();
    });

    it('reads byte ranges: the start, the end, across a chunk boundary, one whole chunk, one byte', async () => {
      const s = await h.open();
      const chunk = CONTRACT_LIMITS.chunkBytes;
      const data = randomBytes(4 * chunk + 100);
      const meta = await store(s, newUserId(), data);
      for (const [start, end] of [[0, 10], [data.length - 10, data.length], [chunk - 10, chunk + 10], [chunk, 2 * chunk], [3, 4], [chunk + 7, 3 * chunk + 3]] as const) {
        assert.ok((await readAll(s.read(meta.id, start, end))).equals(data.subarray(start, end)), `range ${start}-${end}`);
      }
      await s.close();
    });

    it('refuses a file over the size limit, declared or streamed, and keeps nothing of it', async () => {
      const s = await h.open();
      const owner = newUserId();
      await assert.rejects(s.begin(file(owner), CONTRACT_LIMITS.maxFileBytes + 1), isKind('payload_too_large'));
      const up = await s.begin(file(owner));
      await assert.rejects(writeInPieces(up, randomBytes(CONTRACT_LIMITS.maxFileBytes + 1), [4096]), isKind('payload_too_large'));
      await assert.rejects(up.commit());
      await nothingOf(s, owner);
      await s.close();
    });

    it('refuses what passes the quota, declared or streamed, and keeps nothing of it', async () => {
      const s = await h.open({ quotaBytes: 10 * KiB });
      const owner = newUserId();
      await store(s, owner, randomBytes(6 * KiB));
      await assert.rejects(s.begin(file(owner), 5 * KiB), isKind('quota_exceeded'));
      const up = await s.begin(file(owner));
      await assert.rejects(writeInPieces(up, randomBytes(5 * KiB)), (e: unknown) => isKind('quota_exceeded')(e) && /quota of 10240 bytes/.test((e as Error).message));
      const use = await s.usage(owner);
      assert.equal(use.usedBytes, 6 * KiB);
      assert.equal(use.reservedBytes, 0);
      assert.equal((await s.list(owner)).length, 1);
      assert.equal(await h.leftovers(), 0);
      // Exactly what is left still fits.
      await store(s, owner, randomBytes(4 * KiB));
      assert.equal((await s.usage(owner)).usedBytes, 10 * KiB);
      await s.close();
    });

    it('never lets concurrent uploads overshoot the quota together (declared sizes: exactly those that fit)', async () => {
      const s = await h.open();
      const owner = newUserId();
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => store(s, owner, randomBytes(30 * KiB), true)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 4);
      for (const r of results) if (r.status === 'rejected') assert.ok(isKind('quota_exceeded')(r.reason), String(r.reason));
      const use = await s.usage(owner);
      assert.equal(use.usedBytes, 120 * KiB);
      assert.equal(use.reservedBytes, 0);
      await s.close();
    });

    it('never lets concurrent streamed uploads overshoot the quota together', async () => {
      const s = await h.open();
      const owner = newUserId();
      const uploads = await Promise.all(Array.from({ length: 6 }, () => s.begin(file(owner))));
      const size = 30 * KiB;
      const failed = new Set<number>();
      // Round-robin, 1 KiB each: every upload grows its reservation while the others do.
      for (let off = 0; off < size; off += KiB) {
        await Promise.all(uploads.map(async (u, i) => {
          if (failed.has(i)) return;
          try {
            await u.write(randomBytes(KiB));
          } catch (e) {
            assert.ok(isKind('quota_exceeded')(e), String(e));
            failed.add(i);
          }
        }));
      }
      const stored = await Promise.all(uploads.filter((_, i) => !failed.has(i)).map((u) => u.commit()));
      // At most 4 of 30 KiB fit in 128 KiB. (Uploads of unknown length racing for the last of a
      // quota may even all be refused: declared sizes get exactly what fits.)
      assert.ok(stored.length <= 4 && failed.size >= 2, `${stored.length} stored, ${failed.size} refused`);
      const use = await s.usage(owner);
      assert.equal(use.usedBytes, stored.length * size);
      assert.ok(use.usedBytes <= CONTRACT_LIMITS.quotaBytes);
      assert.equal(use.reservedBytes, 0);
      assert.equal(await h.leftovers(), 0);
      await s.close();
    });

    it('an aborted upload leaves nothing behind and returns its quota', async () => {
      const s = await h.open();
      const owner = newUserId();
      const up = await s.begin(file(owner));
      await writeInPieces(up, randomBytes(10 * KiB));
      assert.ok((await s.usage(owner)).reservedBytes >= 10 * KiB);
      await up.abort();
      await up.abort();
      await nothingOf(s, owner);
      // The whole quota is there again.
      await store(s, owner, randomBytes(64 * KiB), true);
      await store(s, owner, randomBytes(64 * KiB));
      assert.equal((await s.usage(owner)).usedBytes, CONTRACT_LIMITS.quotaBytes);
      await s.close();
    });

    it('deletes a file: it is gone and no longer counts', async () => {
      const s = await h.open();
      const owner = newUserId();
      const keep = await store(s, owner, randomBytes(3 * KiB));
      const gone = await store(s, owner, randomBytes(2 * KiB));
      assert.equal(await s.delete(gone.id), true);
      assert.equal(await s.delete(gone.id), false);
      assert.equal(await s.stat(gone.id), null);
      assert.deepEqual((await s.list(owner)).map((m) => m.id), [keep.id]);
      assert.equal((await s.usage(owner)).usedBytes, 3 * KiB);
      await s.close();
    });

    it('sweeps what a crashed upload left half-written and returns its quota', async () => {
      const crashed = await h.open();
      const owner = newUserId();
      const up = await crashed.begin(file(owner));
      await writeInPieces(up, randomBytes(5 * KiB));
      // Another process (a restart, another node) finds it untouched past the stale age.
      const later = await h.open({ staleUploadMs: 100 });
      await new Promise((r) => setTimeout(r, 150));
      assert.ok((await later.sweep()) >= 1);
      assert.equal((await later.usage(owner)).reservedBytes, 0);
      assert.equal(await h.leftovers(), 0);
      assert.deepEqual(await later.list(owner), []);
      // The upload, if its process still ran, can no longer land.
      await assert.rejects(up.write(randomBytes(KiB)).then(() => up.commit()));
      assert.equal(await h.leftovers(), 0);
      await later.close();
      await crashed.close();
    });
  });
}
