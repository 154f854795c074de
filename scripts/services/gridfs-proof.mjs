#!/usr/bin/env node
// Proof that the MongoDB-compatible server behind scripts/services/mongo.sh does what Switchboard
// needs, through the official `mongodb` npm driver: CRUD, atomic counters, unique indexes, GridFS
// (sizes, ranges, delete, abort), plus a report on transactions and change streams.
//
//   node scripts/services/gridfs-proof.mjs                 # all checks (server must be running)
//   node scripts/services/gridfs-proof.mjs persist-write   # write a marker doc + GridFS file
//   node scripts/services/gridfs-proof.mjs persist-read    # after a restart: read them back
//
// Environment:
//   MONGO_URL            default mongodb://127.0.0.1:27017
//   GRIDFS_PROBE_DIR     folder whose node_modules holds `mongodb` (default /tmp/gridfs-probe;
//                        the driver is installed there with npm if missing). If the repo itself
//                        depends on `mongodb`, that copy is used first.
//   GRIDFS_PROOF_DB      database name (default switchboard_gridfs_proof; dropped at start)
//
// Each check prints `PASS name`, `FAIL name: why`, or `INFO name: ...` (capabilities we only
// report). The last line is `N passed, N failed`; exit code 1 if any check failed.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';

const MONGO_URL = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const PROBE_DIR = process.env.GRIDFS_PROBE_DIR ?? '/tmp/gridfs-probe';
const DB_NAME = process.env.GRIDFS_PROOF_DB ?? 'switchboard_gridfs_proof';
const PERSIST_DB = 'switchboard_persist_proof';
const mode = process.argv[2] ?? 'all';

async function loadDriver() {
  // 1) the repo's own dependency, if any (resolved from this file's location)
  const here = createRequire(import.meta.url);
  try {
    const resolved = here.resolve('mongodb');
    return { driver: await import(pathToFileURL(resolved).href), version: here('mongodb/package.json').version };
  } catch {
    /* fall through */
  }
  // 2) a scratch folder outside the repo
  const req = createRequire(path.join(PROBE_DIR, 'package.json'));
  let resolved;
  try {
    resolved = req.resolve('mongodb');
  } catch {
    console.error(`[gridfs-proof] installing mongodb@7 into ${PROBE_DIR} (scratch, outside the repo)`);
    mkdirSync(PROBE_DIR, { recursive: true });
    if (!existsSync(path.join(PROBE_DIR, 'package.json'))) {
      writeFileSync(path.join(PROBE_DIR, 'package.json'), '{"name":"gridfs-probe","private":true}\n');
    }
    execFileSync('npm', ['install', '--no-audit', '--no-fund', 'mongodb@7'], {
      cwd: PROBE_DIR,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    resolved = req.resolve('mongodb');
  }
  return { driver: await import(pathToFileURL(resolved).href), version: req('mongodb/package.json').version };
}

const { driver, version: driverVersion } = await loadDriver();
const { MongoClient, GridFSBucket, ObjectId } = driver;

let passed = 0;
let failed = 0;
const failures = [];

async function check(name, fn) {
  try {
    const note = await fn();
    passed++;
    console.log(`PASS ${name}${note ? ` (${note})` : ''}`);
  } catch (err) {
    failed++;
    const why = err?.message ?? String(err);
    failures.push(name);
    console.log(`FAIL ${name}: ${why}${err?.code !== undefined ? ` [code ${err.code}]` : ''}`);
  }
}

/** Capability we only report (does not count as pass/fail). */
async function info(name, fn) {
  try {
    const note = await fn();
    console.log(`INFO ${name}: supported${note ? ` (${note})` : ''}`);
  } catch (err) {
    const why = (err?.message ?? String(err)).split('\n')[0];
    console.log(`INFO ${name}: NOT supported: ${why}${err?.code !== undefined ? ` [code ${err.code}]` : ''}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Stream `buf` into a GridFS upload stream in irregular pieces (like a real upload). */
async function upload(bucket, filename, buf, opts = {}) {
  const up = bucket.openUploadStream(filename, opts);
  function* pieces() {
    let off = 0;
    let i = 0;
    while (off < buf.length) {
      const n = Math.min(buf.length - off, [1, 7000, 65536, 300001, 4096][i++ % 5]);
      yield buf.subarray(off, off + n);
      off += n;
    }
  }
  await pipeline(Readable.from(pieces(), { objectMode: false }), up);
  return up.id;
}

async function download(bucket, id, range) {
  const parts = [];
  for await (const c of bucket.openDownloadStream(id, range)) parts.push(c);
  return Buffer.concat(parts);
}

const client = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5000 });
await client.connect();

try {
  if (mode === 'persist-write') await persistWrite();
  else if (mode === 'persist-read') await persistRead();
  else if (mode === 'all') await all();
  else {
    console.error(`usage: gridfs-proof.mjs [all|persist-write|persist-read]`);
    process.exitCode = 2;
  }
} finally {
  await client.close();
}
if (mode === 'all' || mode.startsWith('persist')) {
  console.log(`${passed} passed, ${failed} failed`);
  if (failed) {
    console.log(`failed checks: ${failures.join(', ')}`);
    process.exitCode = 1;
  }
}

// ---------------------------------------------------------------------------------------------

async function persistWrite() {
  const db = client.db(PERSIST_DB);
  await db.dropDatabase();
  const payload = randomBytes(700 * 1024 + 3);
  const bucket = new GridFSBucket(db, { chunkSizeBytes: 255 * 1024 });
  await check('persist-write', async () => {
    const fileId = await upload(bucket, 'persist.bin', payload);
    await db.collection('marker').insertOne({ _id: 'marker', sha: sha256(payload), fileId, n: 42 });
    await db.collection('counters').findOneAndUpdate(
      { _id: 'conv-1' },
      { $inc: { seq: 5 } },
      { upsert: true, returnDocument: 'after' },
    );
    return `file ${fileId} sha256 ${sha256(payload).slice(0, 12)}…`;
  });
}

async function persistRead() {
  const db = client.db(PERSIST_DB);
  const bucket = new GridFSBucket(db);
  await check('persist-read', async () => {
    const marker = await db.collection('marker').findOne({ _id: 'marker' });
    assert(marker, 'marker document is gone');
    assert(marker.n === 42, `marker.n = ${marker.n}`);
    const got = await download(bucket, marker.fileId);
    assert(sha256(got) === marker.sha, 'GridFS file content differs after restart');
    const c = await db.collection('counters').findOne({ _id: 'conv-1' });
    assert(c?.seq === 5, `counter = ${c?.seq}`);
    return `doc, counter and ${got.length}-byte GridFS file intact`;
  });
}

async function all() {
  const db = client.db(DB_NAME);
  const admin = client.db('admin');

  await check('connect+ping', async () => {
    const r = await admin.command({ ping: 1 });
    assert(r.ok === 1, 'ping not ok');
    const bi = await admin.command({ buildInfo: 1 });
    let hello;
    let helloCmd = 'hello';
    try {
      hello = await admin.command({ hello: 1 });
    } catch {
      helloCmd = 'isMaster (no hello command)';
      hello = await admin.command({ isMaster: 1 });
    }
    return `driver ${driverVersion}, server reports version ${bi.version}, maxWireVersion ${hello.maxWireVersion}, via ${helloCmd}`;
  });

  await db.dropDatabase();

  // --- CRUD and counters ---------------------------------------------------------------------
  const msgs = db.collection('messages');
  await check('insertOne+find', async () => {
    const r = await msgs.insertMany([
      { conv: 'a', seq: 1, body: 'hello', at: new Date() },
      { conv: 'a', seq: 2, body: 'world', tags: ['x', 'y'] },
      { conv: 'b', seq: 1, body: 'other' },
    ]);
    assert(r.insertedCount === 3, 'insertedCount');
    const docs = await msgs.find({ conv: 'a' }).sort({ seq: 1 }).toArray();
    assert(docs.length === 2 && docs[0].body === 'hello' && docs[1].seq === 2, 'wrong docs');
    assert(docs[0].at instanceof Date, 'Date not round-tripped');
  });

  await check('find range+sort desc+limit (history paging)', async () => {
    for (let s = 3; s <= 20; s++) await msgs.insertOne({ conv: 'a', seq: s, body: `m${s}` });
    const page = await msgs
      .find({ conv: 'a', seq: { $gt: 5, $lte: 15 } })
      .sort({ seq: -1 })
      .limit(4)
      .project({ _id: 0, seq: 1 })
      .toArray();
    assert(JSON.stringify(page.map((d) => d.seq)) === '[15,14,13,12]', JSON.stringify(page));
    const n = await msgs.countDocuments({ conv: 'a' });
    assert(n === 20, `countDocuments = ${n}`);
  });

  await check('updateOne $inc', async () => {
    const r = await msgs.updateOne({ conv: 'b', seq: 1 }, { $inc: { reads: 1 }, $set: { edited: true } });
    assert(r.matchedCount === 1 && r.modifiedCount === 1, JSON.stringify(r));
    await msgs.updateOne({ conv: 'b', seq: 1 }, { $inc: { reads: 2 } });
    const d = await msgs.findOne({ conv: 'b', seq: 1 });
    assert(d.reads === 3 && d.edited === true, JSON.stringify(d));
  });

  const counters = db.collection('counters');
  await check('findOneAndUpdate upsert+$inc returnDocument:after', async () => {
    const r1 = await counters.findOneAndUpdate(
      { _id: 'conv-x' },
      { $inc: { seq: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    assert(r1 && r1.seq === 1, `first: ${JSON.stringify(r1)}`);
    const r2 = await counters.findOneAndUpdate(
      { _id: 'conv-x' },
      { $inc: { seq: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    assert(r2.seq === 2, `second: ${JSON.stringify(r2)}`);
    const before = await counters.findOneAndUpdate(
      { _id: 'conv-x' },
      { $inc: { seq: 1 } },
      { returnDocument: 'before' },
    );
    assert(before.seq === 2, `returnDocument before: ${JSON.stringify(before)}`);
    const raw = await counters.findOneAndUpdate(
      { _id: 'conv-x' },
      { $inc: { seq: 1 } },
      { returnDocument: 'after', includeResultMetadata: true },
    );
    assert(raw.value.seq === 4 && raw.ok === 1, `includeResultMetadata: ${JSON.stringify(raw)}`);
  });

  await check('upsert with $setOnInsert', async () => {
    await counters.updateOne({ _id: 'conv-y' }, { $setOnInsert: { createdBy: 'u1' }, $inc: { seq: 1 } }, { upsert: true });
    await counters.updateOne({ _id: 'conv-y' }, { $setOnInsert: { createdBy: 'u2' }, $inc: { seq: 1 } }, { upsert: true });
    const d = await counters.findOne({ _id: 'conv-y' });
    assert(d.createdBy === 'u1' && d.seq === 2, JSON.stringify(d));
  });

  /** N concurrent calls split over two clients (two connection pools, like two cluster nodes). */
  async function concurrently(N, fn) {
    const c2 = new MongoClient(MONGO_URL, { maxPoolSize: 20 });
    await c2.connect();
    try {
      const other = c2.db(DB_NAME).collection('counters');
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: N }, (_, i) => fn(i % 2 ? counters : other)));
      return { results, ms: performance.now() - t0 };
    } finally {
      await c2.close();
    }
  }

  await check('counter: 200 concurrent updateOne $inc lose no increment', async () => {
    await counters.insertOne({ _id: 'conv-upd', seq: 0 });
    const { ms } = await concurrently(200, (col) => col.updateOne({ _id: 'conv-upd' }, { $inc: { seq: 1 } }));
    const final = await counters.findOne({ _id: 'conv-upd' });
    assert(final.seq === 200, `final seq ${final.seq}, expected 200 (lost updates)`);
    return `${ms.toFixed(0)} ms`;
  });

  await check('counter: 200 concurrent findOneAndUpdate $inc return distinct 1..200', async () => {
    await counters.insertOne({ _id: 'conv-fam', seq: 0 });
    const { results, ms } = await concurrently(200, (col) =>
      col.findOneAndUpdate({ _id: 'conv-fam' }, { $inc: { seq: 1 } }, { returnDocument: 'after' }),
    );
    const seqs = results.map((r) => r.seq).sort((a, b) => a - b);
    const distinct = new Set(seqs).size;
    const final = await counters.findOne({ _id: 'conv-fam' });
    assert(distinct === 200, `only ${distinct} distinct seq values out of 200 (duplicates!), final ${final.seq}`);
    assert(seqs[0] === 1 && seqs[199] === 200 && final.seq === 200, `range ${seqs[0]}..${seqs[199]}, final ${final.seq}`);
    return `${ms.toFixed(0)} ms`;
  });

  await check('counter: 200 concurrent upserts on a NEW key (no E11000, distinct 1..200)', async () => {
    const { results, ms } = await concurrently(200, (col) =>
      col.findOneAndUpdate({ _id: 'conv-new' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' }),
    );
    const seqs = new Set(results.map((r) => r.seq));
    const final = await counters.findOne({ _id: 'conv-new' });
    assert(seqs.size === 200 && final.seq === 200, `${seqs.size} distinct, final ${final.seq}`);
    return `${ms.toFixed(0)} ms`;
  });

  // --- unique indexes ---------------------------------------------------------------------------
  await check('unique index refuses duplicates (code 11000)', async () => {
    const users = db.collection('users');
    const name = await users.createIndex({ email: 1 }, { unique: true });
    assert(name === 'email_1', `index name ${name}`);
    await users.insertOne({ email: 'a@x' });
    let err;
    try {
      await users.insertOne({ email: 'a@x' });
    } catch (e) {
      err = e;
    }
    assert(err, 'duplicate insert was accepted');
    assert(err.code === 11000, `error code ${err.code}: ${err.message}`);
    // an update that would create a duplicate must fail too
    await users.insertOne({ email: 'b@x' });
    let err2;
    try {
      await users.updateOne({ email: 'b@x' }, { $set: { email: 'a@x' } });
    } catch (e) {
      err2 = e;
    }
    assert(err2?.code === 11000, `update to a duplicate: ${err2 ? err2.code : 'accepted'}`);
    return err.message.split('\n')[0].slice(0, 90);
  });

  await check('compound unique index (conv, seq) refuses duplicates', async () => {
    await msgs.createIndex({ conv: 1, seq: 1 }, { unique: true });
    let err;
    try {
      await msgs.insertOne({ conv: 'a', seq: 2, body: 'dup' });
    } catch (e) {
      err = e;
    }
    assert(err?.code === 11000, err ? `code ${err.code}` : 'duplicate accepted');
    await msgs.insertOne({ conv: 'c', seq: 2, body: 'ok, other conv' });
  });

  await check('duplicate _id refused (code 11000)', async () => {
    await counters.insertOne({ _id: 'dup-id' });
    let err;
    try {
      await counters.insertOne({ _id: 'dup-id' });
    } catch (e) {
      err = e;
    }
    assert(err?.code === 11000, err ? `code ${err.code}` : 'duplicate accepted');
  });

  // --- GridFS ---------------------------------------------------------------------------------
  for (const chunkSize of [255 * 1024, 1024]) {
    const bucket = new GridFSBucket(db, { bucketName: `fs${chunkSize}`, chunkSizeBytes: chunkSize });
    const big = chunkSize === 1024 ? 1024 * 1024 + 17 : 5 * 1024 * 1024 + 12345;
    const sizes = [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 2 * chunkSize, big];
    const files = new Map();
    for (const size of sizes) {
      await check(`gridfs[chunk=${chunkSize}] upload+download ${size} B`, async () => {
        const data = randomBytes(size);
        const t0 = performance.now();
        const id = await upload(bucket, `f-${size}.bin`, data, { metadata: { size }, contentType: 'application/octet-stream' });
        const t1 = performance.now();
        const fdoc = await db.collection(`fs${chunkSize}.files`).findOne({ _id: id });
        assert(fdoc, 'no files document');
        assert(fdoc.length === size, `files.length ${fdoc.length}`);
        assert(fdoc.chunkSize === chunkSize, `files.chunkSize ${fdoc.chunkSize}`);
        const nChunks = await db.collection(`fs${chunkSize}.chunks`).countDocuments({ files_id: id });
        assert(nChunks === Math.ceil(size / chunkSize), `chunks ${nChunks}, expected ${Math.ceil(size / chunkSize)}`);
        const got = await download(bucket, id);
        const t2 = performance.now();
        assert(got.length === size, `downloaded ${got.length} B`);
        assert(sha256(got) === sha256(data), 'sha256 differs');
        files.set(size, { id, data });
        if (size >= 1024 * 1024) {
          const mb = size / 1048576;
          return `${nChunks} chunks, up ${(mb / ((t1 - t0) / 1000)).toFixed(1)} MB/s, down ${(mb / ((t2 - t1) / 1000)).toFixed(1)} MB/s`;
        }
        return `${nChunks} chunks`;
      });
    }

    const { id, data } = files.get(big) ?? {};
    // Driver quirk (mongodb 6/7): `end` defaults to 0, so {start} alone is refused by the driver
    // ("Stream start (n) must not be greater than stream end (0)") before any server is asked.
    // Always pass end (exclusive) = file length. The ranges below do so where marked.
    const ranges = [
      ['start to EOF (end = length)', { start: 10, end: big }],
      ['end only', { end: chunkSize + 5 }],
      ['start+end within a chunk', { start: 3, end: 100 }],
      ['across one chunk boundary', { start: chunkSize - 10, end: chunkSize + 10 }],
      ['across many chunks', { start: chunkSize + 7, end: 4 * chunkSize + 3 }],
      ['exactly one chunk', { start: chunkSize, end: 2 * chunkSize }],
      ['last byte', { start: big - 1, end: big }],
      ['empty (start=end)', { start: 50, end: 50 }],
      ['chunk boundary to EOF', { start: 3 * chunkSize, end: big }],
    ];
    for (const [label, r] of ranges) {
      await check(`gridfs[chunk=${chunkSize}] range ${label} ${JSON.stringify(r)}`, async () => {
        assert(id, 'big file upload failed earlier');
        const got = await download(bucket, id, r);
        const want = data.subarray(r.start ?? 0, r.end ?? data.length);
        assert(got.length === want.length, `got ${got.length} B, want ${want.length}`);
        assert(got.equals(want), 'bytes differ');
      });
    }
    if (chunkSize === 1024) {
      await info('driver: openDownloadStream({start}) without end', async () => {
        await download(bucket, id, { start: 10 });
        return 'accepted';
      });
    }

    await check(`gridfs[chunk=${chunkSize}] find by filename + openDownloadStreamByName`, async () => {
      const list = await bucket.find({ filename: `f-1.bin` }).toArray();
      assert(list.length === 1, `found ${list.length}`);
      const parts = [];
      for await (const c of bucket.openDownloadStreamByName('f-1.bin')) parts.push(c);
      assert(Buffer.concat(parts).equals(files.get(1).data), 'bytes differ');
    });

    await check(`gridfs[chunk=${chunkSize}] delete removes files doc and chunks`, async () => {
      assert(id, 'big file upload failed earlier');
      await bucket.delete(id);
      assert(!(await db.collection(`fs${chunkSize}.files`).findOne({ _id: id })), 'files doc still there');
      const n = await db.collection(`fs${chunkSize}.chunks`).countDocuments({ files_id: id });
      assert(n === 0, `${n} chunks left`);
      let err;
      try {
        await download(bucket, id);
      } catch (e) {
        err = e;
      }
      assert(err && /FileNotFound|not found/i.test(err.message), `download after delete: ${err?.message ?? 'succeeded'}`);
      let err2;
      try {
        await bucket.delete(new ObjectId());
      } catch (e) {
        err2 = e;
      }
      assert(err2, 'delete of a missing id did not throw');
    });

    await check(`gridfs[chunk=${chunkSize}] abort() leaves no chunks and no files doc`, async () => {
      const up = bucket.openUploadStream('aborted.bin');
      const payload = randomBytes(chunkSize * 3 + 5);
      await new Promise((res, rej) => up.write(payload, (e) => (e ? rej(e) : res())));
      // chunks were written already (3 full chunks flushed)...
      const before = await db.collection(`fs${chunkSize}.chunks`).countDocuments({ files_id: up.id });
      await up.abort();
      const after = await db.collection(`fs${chunkSize}.chunks`).countDocuments({ files_id: up.id });
      const fdoc = await db.collection(`fs${chunkSize}.files`).findOne({ _id: up.id });
      assert(after === 0, `${after} chunks left after abort`);
      assert(!fdoc, 'files doc exists after abort');
      return `${before} chunks written before abort, 0 after`;
    });
  }

  // --- things we only report ------------------------------------------------------------------
  await info('TTL index creation (expireAfterSeconds)', async () => {
    const n = await db.collection('ttl').createIndex({ at: 1 }, { expireAfterSeconds: 60 });
    return `index ${n} accepted (expiry itself not verified)`;
  });

  await info('bulkWrite (ordered)', async () => {
    const r = await db.collection('bulk').bulkWrite([
      { insertOne: { document: { _id: 1 } } },
      { updateOne: { filter: { _id: 1 }, update: { $inc: { n: 1 } } } },
      { deleteOne: { filter: { _id: 1 } } },
    ]);
    return `inserted ${r.insertedCount}, modified ${r.modifiedCount}, deleted ${r.deletedCount}`;
  });

  await info('aggregate $match/$group', async () => {
    const r = await msgs.aggregate([{ $match: { conv: 'a' } }, { $group: { _id: '$conv', n: { $sum: 1 }, max: { $max: '$seq' } } }]).toArray();
    assert(r[0]?.n === 20 && r[0]?.max === 20, JSON.stringify(r));
    return JSON.stringify(r);
  });

  await info('sessions (startSession + causal read)', async () => {
    const s = client.startSession();
    try {
      await msgs.findOne({ conv: 'a' }, { session: s });
      return `session id ok; server advertises logicalSessionTimeoutMinutes=${(await admin.command({ hello: 1 })).logicalSessionTimeoutMinutes}`;
    } finally {
      await s.endSession();
    }
  });

  await info('multi-document transactions (withTransaction)', async () => {
    const s = client.startSession();
    try {
      await s.withTransaction(async () => {
        await db.collection('tx').insertOne({ _id: 1 }, { session: s });
        await db.collection('tx').insertOne({ _id: 2 }, { session: s });
      });
    } finally {
      await s.endSession();
    }
    // Also verify isolation: abort must roll back.
    const s2 = client.startSession();
    try {
      s2.startTransaction();
      await db.collection('tx').insertOne({ _id: 3 }, { session: s2 });
      await s2.abortTransaction();
    } finally {
      await s2.endSession();
    }
    const ids = (await db.collection('tx').find().toArray()).map((d) => d._id);
    assert(JSON.stringify(ids) === '[1,2]', `after commit+abort the collection holds ${JSON.stringify(ids)} (abort did not roll back: no real transactions)`);
    return 'commit and abort behave';
  });

  await info('change streams (collection.watch)', async () => {
    const cs = msgs.watch();
    try {
      await cs.tryNext(); // opens the $changeStream cursor (throws if unsupported)
      await msgs.insertOne({ conv: 'z', seq: 1 });
      const deadline = Date.now() + 3000;
      let ev = null;
      while (!ev && Date.now() < deadline) ev = await cs.tryNext();
      assert(ev, 'cursor opened but no event within 3 s');
      return `event ${ev.operationType} received`;
    } finally {
      await cs.close().catch(() => {});
    }
  });

  await db.dropDatabase();
}
