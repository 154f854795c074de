// Rooms in SFU mode, through mediasoup: a router per room, WebRTC transports, produce and
// consume over the WebSocket, and a dead worker closing its rooms. These run where a
// mediasoup worker can start (its binary built, or MEDIASOUP_WORKER_BIN set) and are skipped,
// with the reason, where it cannot.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { http, register, WsClient, type Frame, type Registered } from '../helpers/clients.ts';
import { createRoom, joinAll, roomEvent, type CreatedRoom } from '../helpers/rooms.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

/** What a WebRTC endpoint would send for one Opus stream (fixed values: no real media flows). */
const OPUS_RTP_PARAMETERS = {
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc: 11111111 }],
  rtcp: { cname: 'switchboard-test', reducedSize: true },
};
const DTLS_PARAMETERS = {
  role: 'client',
  fingerprints: [{ algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'AB').join(':') }],
};

describe('rooms in SFU mode (mediasoup)', () => {
  let server: RunningServer;
  let unavailable: string | null = null;
  const sockets: WsClient[] = [];

  before(async () => {
    server = await startServer({ MEDIA_WORKERS: '1', SWITCHBOARD_TEST_FAULTS: '1' });
    const health = await http(server.url, 'GET', '/healthz');
    unavailable = health.body.rooms.mediaUnavailable;
  });
  after(async () => {
    for (const c of sockets) c.ws.terminate();
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  /** Skips the test, with the reason, unless the server runs a mediasoup worker. */
  function needsWorker(t: TestContext): boolean {
    if (unavailable === null) return true;
    t.skip(`mediasoup worker unavailable: ${unavailable}`);
    return false;
  }

  async function member(room: CreatedRoom, owner: Registered, user: Registered): Promise<WsClient> {
    const c = await WsClient.connect(server.wsUrl, user.token);
    sockets.push(c);
    await joinAll(server.url, owner, room, [[user, c]]);
    return c;
  }

  const media = async (c: WsClient, roomId: string, op: string, fields: Record<string, unknown> = {}): Promise<Frame> => {
    const f = await c.request({ type: 'room.media', roomId, op, ...fields });
    assert.equal(f.type, 'room.media', JSON.stringify(f));
    return f;
  };

  it('gives rooms sfu mode where a worker runs, and p2p (with the reason in /healthz) where none can', async () => {
    const alice = await register(server.url, 'alice');
    const room = await createRoom(server.url, alice);
    assert.equal(room.mode, unavailable === null ? 'sfu' : 'p2p');
    const health = await http(server.url, 'GET', '/healthz');
    assert.equal(health.body.rooms.mode, room.mode);
  });

  it('creates WebRTC transports, produces and consumes over the WebSocket', async (t) => {
    if (!needsWorker(t)) return;
    const [alice, bob] = await Promise.all([register(server.url, 'alice'), register(server.url, 'bob')]);
    const room = await createRoom(server.url, alice);
    const [a, b] = [await member(room, alice, alice), await member(room, alice, bob)];

    const caps = await media(a, room.roomId, 'capabilities');
    assert.ok(caps.rtpCapabilities.codecs.some((c: { mimeType: string }) => c.mimeType === 'audio/opus'));
    const send = await media(a, room.roomId, 'createTransport');
    assert.ok(send.iceCandidates.length > 0);
    assert.ok(send.dtlsParameters.fingerprints.length > 0);
    await media(a, room.roomId, 'connectTransport', { transportId: send.transportId, dtlsParameters: DTLS_PARAMETERS });
    const produced = await media(a, room.roomId, 'produce', { transportId: send.transportId, kind: 'audio', rtpParameters: OPUS_RTP_PARAMETERS });

    const announced = await roomEvent(b, room.roomId, 'room.media.producer');
    assert.equal(announced.producerId, produced.producerId);
    assert.equal(announced.userId, alice.userId);
    const listed = await media(b, room.roomId, 'producers');
    assert.deepEqual(listed.producers.map((p: { producerId: string }) => p.producerId), [produced.producerId]);

    const recv = await media(b, room.roomId, 'createTransport');
    const consumed = await media(b, room.roomId, 'consume', {
      transportId: recv.transportId, producerId: produced.producerId, rtpCapabilities: caps.rtpCapabilities,
    });
    assert.equal(consumed.kind, 'audio');
    await media(b, room.roomId, 'resumeConsumer', { consumerId: consumed.consumerId });

    // Someone else's transport is not yours to use.
    const stolen = await b.request({ type: 'room.media', roomId: room.roomId, op: 'produce', transportId: send.transportId, kind: 'audio', rtpParameters: OPUS_RTP_PARAMETERS });
    assert.equal(stolen.code, 'not_found');

    // Alice leaves: her producer goes, and Bob's consumer of it is closed.
    await a.request({ type: 'room.leave', roomId: room.roomId });
    const closed = await roomEvent(b, room.roomId, 'room.media.consumerClosed');
    assert.equal(closed.consumerId, consumed.consumerId);
  });

  it('refuses media to a non-member and bad parameters as invalid', async (t) => {
    if (!needsWorker(t)) return;
    const [alice, carol] = await Promise.all([register(server.url, 'alice'), register(server.url, 'carol')]);
    const room = await createRoom(server.url, alice);
    const a = await member(room, alice, alice);
    const c = await WsClient.connect(server.wsUrl, carol.token);
    sockets.push(c);
    const outsider = await c.request({ type: 'room.media', roomId: room.roomId, op: 'capabilities' });
    assert.equal(outsider.code, 'permission_denied');
    const send = await media(a, room.roomId, 'createTransport');
    const bad = await a.request({ type: 'room.media', roomId: room.roomId, op: 'produce', transportId: send.transportId, kind: 'audio', rtpParameters: {} });
    assert.equal(bad.code, 'invalid_argument');
  });

  it('closes the rooms of a dead worker and tells their members', async (t) => {
    if (!needsWorker(t)) return;
    const [alice, bob] = await Promise.all([register(server.url, 'alice'), register(server.url, 'bob')]);
    const room = await createRoom(server.url, alice);
    const [a, b] = [await member(room, alice, alice), await member(room, alice, bob)];
    await media(a, room.roomId, 'capabilities'); // the router exists now
    assert.equal((await http(server.url, 'POST', '/_test/kill-media-worker')).status, 202);
    for (const c of [a, b]) {
      const closed = await roomEvent(c, room.roomId, 'room.closed', 10_000);
      assert.equal(closed.reason, 'media_failed');
    }
  });
});
