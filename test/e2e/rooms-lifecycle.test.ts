// A room's end: closed when it has been empty long enough, closed at the end of its
// lifetime with its members in it, and lost with a crashed actor host (members told, the
// rooms on the other host going on as before).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { roomActor, sessionActor, shardOf, type RoomId, type UserId } from '../../src/ids.ts';
import { DEFAULTS } from '../../src/config.ts';
import { http, register, WsClient, type Registered } from '../helpers/clients.ts';
import { createRoom, joinAll, joinWs, roomEvent, sleep, type CreatedRoom } from '../helpers/rooms.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

const EMPTY_CLOSE_MS = 400;
const LIFETIME_MS = 2_000;
const GRACE_MS = 500;
const HOSTS = 2;
/** Which actor host an actor lives on, as the bus places it (test servers use the default shards). */
const hostOf = (actorId: string): number => shardOf(actorId as never, DEFAULTS.SHARDS) % HOSTS;

describe('rooms close themselves', () => {
  let server: RunningServer;
  const sockets: WsClient[] = [];

  before(async () => {
    server = await startServer({
      MEDIA_WORKERS: '0', ROOM_EMPTY_CLOSE_MS: String(EMPTY_CLOSE_MS), ROOM_MAX_LIFETIME_MS: String(LIFETIME_MS),
    });
  });
  after(async () => {
    for (const c of sockets) c.ws.terminate();
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('closes a room that has been empty for ROOM_EMPTY_CLOSE_MS, and not one that is in use', async () => {
    const alice = await register(server.url, 'alice');
    const unused = await createRoom(server.url, alice);
    const emptied = await createRoom(server.url, alice);
    const busy = await createRoom(server.url, alice);
    const a = await WsClient.connect(server.wsUrl, alice.token);
    sockets.push(a);
    await joinWs(a, emptied.roomId, emptied.key);
    await joinWs(a, busy.roomId, busy.key);
    await a.request({ type: 'room.leave', roomId: emptied.roomId });
    await sleep(EMPTY_CLOSE_MS * 2);
    for (const r of [unused, emptied]) {
      const got = await http(server.url, 'GET', `/v1/rooms/${r.roomId}`, { token: alice.token });
      assert.equal(got.status, 404);
      assert.equal(got.body.error.message, 'room is closed (empty)');
    }
    assert.equal((await http(server.url, 'GET', `/v1/rooms/${busy.roomId}`, { token: alice.token })).status, 200);
  });

  it('closes a room at the end of its lifetime and tells its members', async () => {
    const [alice, bob] = await Promise.all([register(server.url, 'alice'), register(server.url, 'bob')]);
    const created = Date.now();
    const room = await createRoom(server.url, alice);
    const [a, b] = [await WsClient.connect(server.wsUrl, alice.token), await WsClient.connect(server.wsUrl, bob.token)];
    sockets.push(a, b);
    const joined = await a.request({ type: 'room.join', roomId: room.roomId, key: room.key });
    assert.equal(joined.type, 'room.joined', JSON.stringify(joined));
    assert.ok(joined.room.expiresAt - created <= LIFETIME_MS + 100);
    await joinAll(server.url, alice, room, [[bob, b]]);
    for (const c of [a, b]) {
      const closed = await roomEvent(c, room.roomId, 'room.closed', LIFETIME_MS * 3);
      assert.equal(closed.reason, 'lifetime');
    }
    assert.ok(Date.now() - created >= LIFETIME_MS * 0.9);
    const key = await http(server.url, 'POST', `/v1/rooms/${room.roomId}/keys`, { token: alice.token, body: { userId: bob.userId } });
    assert.equal(key.status, 404);
  });
});

describe('rooms and a crashed actor host', () => {
  let server: RunningServer;
  const sockets: WsClient[] = [];

  before(async () => {
    server = await startServer({
      MEDIA_WORKERS: '0', SWITCHBOARD_TEST_FAULTS: '1', ACTOR_HOSTS: String(HOSTS), ROOM_GRACE_MS: String(GRACE_MS),
    });
  });
  after(async () => {
    for (const c of sockets) c.ws.terminate();
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  /** Registers until the user's session actor lives on `host`. */
  async function userOn(host: number, name: string): Promise<Registered> {
    for (;;) {
      const u = await register(server.url, name);
      if (hostOf(sessionActor(u.userId as UserId)) === host) return u;
    }
  }

  /** Creates rooms until one lives on `host`. */
  async function roomOn(host: number, owner: Registered): Promise<CreatedRoom> {
    for (;;) {
      const r = await createRoom(server.url, owner);
      if (hostOf(roomActor(r.roomId as RoomId)) === host) return r;
    }
  }

  it('tells the members of the rooms it held; rooms elsewhere keep their members and notice the next ghost', async () => {
    const crashed = 0;
    const alice = await userOn(1, 'alice');
    const bob = await userOn(crashed, 'bob'); // his session actor dies with the host
    const lost = await roomOn(crashed, alice);
    const kept = await roomOn(1, alice);
    const a = await WsClient.connect(server.wsUrl, alice.token);
    const b = await WsClient.connect(server.wsUrl, bob.token);
    sockets.push(a, b);
    for (const r of [lost, kept]) await joinAll(server.url, alice, r, [[alice, a], [bob, b]]);

    assert.equal((await http(server.url, 'POST', `/_test/crash-host/${crashed}`)).status, 202);
    for (const c of [a, b]) {
      const closed = await roomEvent(c, lost.roomId, 'room.closed', 10_000);
      assert.equal(closed.reason, 'host_failed');
    }
    const gone = await http(server.url, 'GET', `/v1/rooms/${lost.roomId}`, { token: alice.token });
    assert.equal(gone.status, 404);

    const list = await a.request({ type: 'room.members', roomId: kept.roomId });
    assert.deepEqual(list.members.map((m: { userId: string }) => m.userId), [alice.userId, bob.userId]);
    // Bob's session actor was rebuilt; the room registered with it again, so his vanishing is noticed.
    b.ws.terminate();
    const left = await roomEvent(a, kept.roomId, 'room.member.left', GRACE_MS * 10);
    assert.equal(left.userId, bob.userId);
    assert.equal(left.reason, 'disconnected');
  });
});
