#!/usr/bin/env node
// Driver-free readiness probe for a MongoDB-wire-compatible server: sends {ping: 1} to the
// admin database as an OP_MSG and exits 0 if the reply has ok: 1. Plain Node, no npm packages,
// so scripts/services/mongo.sh can poll before any `npm install`.
//
//   node scripts/services/mongo-ping.mjs [port] [timeoutMs]     (host is always 127.0.0.1)
import net from 'node:net';

const port = Number(process.argv[2] ?? 27017);
const timeoutMs = Number(process.argv[3] ?? 2000);

function bsonDoc(elements) {
  const body = Buffer.concat([...elements, Buffer.from([0])]);
  const len = Buffer.alloc(4);
  len.writeInt32LE(body.length + 4);
  return Buffer.concat([len, body]);
}
const cstr = (s) => Buffer.from(`${s}\0`, 'utf8');
function int32El(name, v) {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return Buffer.concat([Buffer.from([0x10]), cstr(name), b]);
}
function strEl(name, v) {
  const s = cstr(v);
  const l = Buffer.alloc(4);
  l.writeInt32LE(s.length);
  return Buffer.concat([Buffer.from([0x02]), cstr(name), l, s]);
}

const doc = bsonDoc([int32El('ping', 1), strEl('$db', 'admin')]);
const header = Buffer.alloc(16);
const flags = Buffer.alloc(4); // flagBits 0
const msg = Buffer.concat([header, flags, Buffer.from([0]), doc]);
msg.writeInt32LE(msg.length, 0); // messageLength
msg.writeInt32LE(1, 4); // requestID
msg.writeInt32LE(0, 8); // responseTo
msg.writeInt32LE(2013, 12); // OP_MSG

/** Value of the top-level `ok` field of a BSON document (double, int32 or int64), or undefined. */
function okField(buf) {
  let i = 4;
  while (i < buf.length - 1) {
    const type = buf[i++];
    const end = buf.indexOf(0, i);
    const name = buf.toString('utf8', i, end);
    i = end + 1;
    let v;
    let size;
    switch (type) {
      case 0x01: v = buf.readDoubleLE(i); size = 8; break; // double
      case 0x10: v = buf.readInt32LE(i); size = 4; break; // int32
      case 0x12: v = Number(buf.readBigInt64LE(i)); size = 8; break; // int64
      case 0x02: size = 4 + buf.readInt32LE(i); break; // string
      case 0x03: case 0x04: size = buf.readInt32LE(i); break; // document, array
      case 0x08: v = buf[i] === 1; size = 1; break; // bool
      case 0x0a: size = 0; break; // null
      case 0x07: size = 12; break; // ObjectId
      case 0x09: case 0x11: size = 8; break; // date, timestamp
      case 0x05: size = 5 + buf.readInt32LE(i); break; // binary
      case 0x13: size = 16; break; // decimal128
      default: return undefined; // something we do not walk; give up
    }
    if (name === 'ok') return v;
    i += size;
  }
  return undefined;
}

const sock = net.connect({ host: '127.0.0.1', port });
const timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms`), timeoutMs);
let buf = Buffer.alloc(0);
function fail(why) {
  console.error(`mongo-ping 127.0.0.1:${port}: ${why}`);
  process.exit(1);
}
sock.on('error', (e) => fail(e.code ?? e.message));
sock.on('connect', () => sock.write(msg));
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 4 || buf.length < buf.readInt32LE(0)) return;
  clearTimeout(timer);
  sock.destroy();
  if (buf.readInt32LE(12) !== 2013) fail(`unexpected opcode ${buf.readInt32LE(12)}`);
  // header(16) flagBits(4) kind(1) document
  const ok = okField(buf.subarray(21));
  if (ok === 1 || ok === true) process.exit(0);
  fail(`ping answered without ok: 1 (ok = ${ok})`);
});
