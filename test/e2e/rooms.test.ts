// VoIP rooms over HTTP and WebSocket on a real server: the room's life, its keys, its
// members and their events, signaling rights, the member limit and the grace period.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, register, WsClient, type Registered } from '../helpers/clients.ts';
import { createRoom, issueKey, joinAll, joinWs, roomEvent, sleep } from '../helpers/rooms.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

const GRACE_MS = 600;
const MAX_MEMBERS = 3;

describe('rooms', () => {
  let server: RunningServer;
  const sockets: WsClient[] = [];
  /** Fresh users for each test, so one test's sockets never keep another's members online. */
  const people = <N extends string[]>(...names: N) =>
    Promise.all(names.map((n) => register(server.url, n))) as Promise<{ [K in keyof N]: Registered }>;
  const connect = async (u: Registered): Promise<WsClient> => {
    const c = await WsClient.connect(server.wsUrl, u.token);
    sockets.push(c);
    return c;
  };

  before(async () => {
    server = await startServer({ MEDIA_WORKERS: '0', ROOM_GRACE_MS: String(GRACE_MS), ROOM_MAX_MEMBERS: String(MAX_MEMBERS) });
  });
  after(async () => {
    for (const c of sockets) c.ws.terminate();
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('creates, keys, joins, lists, leaves and closes a room over HTTP, and says it runs p2p', async () => {
    const [alice, bob, carol] = await people('alice', 'bob', 'carol');
    const room = await createRoom(server.url, alice);
    assert.match(room.roomId, /^r_/);
    assert.equal(room.mode, 'p2p');
    const bobKey = await issueKey(server.url, alice, room.roomId, bob);

    const joined = await http(server.url, 'POST', `/v1/rooms/${room.roomId}/join`, { token: alice.token, body: { key: room.key } });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal(joined.body.owner, alice.userId);
    const bobJoin = await http(server.url, 'POST', `/v1/rooms/${room.roomId}/join`, { token: bob.token, body: { key: bobKey } });
    assert.equal(bobJoin.status, 200);

    const list = await http(server.url, 'GET', `/v1/rooms/${room.roomId}/members`, { token: bob.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.members.map((m: { userId: string }) => m.userId), [alice.userId, bob.userId]);
    const outsider = await http(server.url, 'GET', `/v1/rooms/${room.roomId}/members`, { token: carol.token });
    assert.equal(outsider.status, 403);

    const left = await http(server.url, 'POST', `/v1/rooms/${room.roomId}/leave`, { token: bob.token });
    assert.equal(left.status, 200);
    const after = await http(server.url, 'GET', `/v1/rooms/${room.roomId}`, { token: alice.token });
    assert.deepEqual(after.body.members.map((m: { userId: string }) => m.userId), [alice.userId]);

    assert.equal((await http(server.url, 'DELETE', `/v1/rooms/${room.roomId}`, { token: bob.token })).status, 403, 'only the owner closes');
    const closed = await http(server.url, 'DELETE', `/v1/rooms/${room.roomId}`, { token: alice.token });
    assert.equal(closed.status, 200);
    assert.equal(closed.body.reason, 'closed_by_owner');
    assert.equal((await http(server.url, 'GET', `/v1/rooms/${room.roomId}`, { token: alice.token })).status, 404);
  });

  it('works the same over WebSocket, and tells members the room closed', async () => {
    const [alice, bob] = await people('alice', 'bob');
    const a = await connect(alice);
    const b = await connect(bob);
    const created = await a.request({ type: 'room.create' });
    assert.equal(created.type, 'room.created');
    const roomId = created.roomId;
    const key = await a.request({ type: 'room.key', roomId, userId: bob.userId, ttlS: 60 });
    assert.equal(key.type, 'room.key');
    assert.ok(key.expiresAt <= Date.now() + 61_000);
    await joinWs(a, roomId, created.key);
    await joinWs(b, roomId, key.key);
    const members = await b.request({ type: 'room.members', roomId });
    assert.equal(members.mode, 'p2p');
    assert.equal(members.members.length, 2);
    const closed = await a.request({ type: 'room.close', roomId });
    assert.equal(closed.type, 'room.closed');
    const event = await roomEvent(b, roomId, 'room.closed');
    assert.equal(event.reason, 'closed_by_owner');
  });

  it('refuses a key that expired, is for another room or user, is not a room key, or is for a closed room', async () => {
    const [alice, bob, carol] = await people('alice', 'bob', 'carol');
    const room = await createRoom(server.url, alice);
    const other = await createRoom(server.url, alice);
    const join = (user: Registered, roomId: string, key: string) =>
      http(server.url, 'POST', `/v1/rooms/${roomId}/join`, { token: user.token, body: { key } });

    const shortKey = await issueKey(server.url, alice, room.roomId, bob, 1);
    const bobKey = await issueKey(server.url, alice, room.roomId, bob);
    await sleep(2_100);
    const expired = await join(bob, room.roomId, shortKey);
    assert.equal(expired.status, 403);
    assert.equal(expired.body.error.message, 'room key expired');

    const wrongRoom = await join(bob, other.roomId, bobKey);
    assert.equal(wrongRoom.status, 403);
    assert.equal(wrongRoom.body.error.message, 'room key is for another room');

    const wrongUser = await join(carol, room.roomId, bobKey);
    assert.equal(wrongUser.status, 403);
    assert.equal(wrongUser.body.error.message, 'room key is for another user');

    const signInToken = await join(bob, room.roomId, bob.token);
    assert.equal(signInToken.status, 403, 'a sign-in token is no room key');
    const tampered = await join(bob, room.roomId, bobKey.slice(0, -3) + (bobKey.endsWith('AAA') ? 'BBB' : 'AAA'));
    assert.equal(tampered.status, 403);
    const roomKeyAsToken = await http(server.url, 'GET', '/v1/me', { token: bobKey });
    assert.equal(roomKeyAsToken.status, 401, 'a room key is no sign-in token');

    assert.equal((await http(server.url, 'DELETE', `/v1/rooms/${room.roomId}`, { token: alice.token })).status, 200);
    const closed = await join(bob, room.roomId, bobKey);
    assert.equal(closed.status, 404);
    assert.match(closed.body.error.message, /room is closed/);
  });

  it('lets a key be used again by its user to rejoin while it is valid', async () => {
    const [alice, bob] = await people('alice', 'bob');
    const room = await createRoom(server.url, alice);
    const bobKey = await issueKey(server.url, alice, room.roomId, bob);
    const b = await connect(bob);
    await joinWs(b, room.roomId, bobKey);
    assert.equal((await b.request({ type: 'room.leave', roomId: room.roomId })).type, 'room.left');
    const again = await joinWs(b, room.roomId, bobKey);
    assert.deepEqual(again.room.members.map((m: { userId: string }) => m.userId), [bob.userId]);
    // Joining while already in keeps the one seat.
    const twice = await joinWs(b, room.roomId, bobKey);
    assert.equal(twice.room.members.length, 1);
  });

  it('sends join and leave events to the other members, in order', async () => {
    const [alice, bob, carol] = await people('alice', 'bob', 'carol');
    const room = await createRoom(server.url, alice);
    const [a, b, c] = [await connect(alice), await connect(bob), await connect(carol)];
    await joinAll(server.url, alice, room, [[alice, a], [bob, b], [carol, c]]);
    await b.request({ type: 'room.leave', roomId: room.roomId });
    await c.request({ type: 'room.leave', roomId: room.roomId });

    const seen = [];
    for (let i = 0; i < 4; i++) {
      seen.push(await a.next((f) => f.roomId === room.roomId && f.type.startsWith('room.member.')));
    }
    assert.deepEqual(seen.map((f) => [f.type, f.userId]), [
      ['room.member.joined', bob.userId],
      ['room.member.joined', carol.userId],
      ['room.member.left', bob.userId],
      ['room.member.left', carol.userId],
    ]);
    assert.deepEqual(seen.map((f) => f.reason), [undefined, undefined, 'left', 'left']);
    const seqs = seen.map((f) => f.seq as number);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'event numbers rise');
    // Bob saw Carol come in, and no event about himself.
    const bobSaw = await b.next((f) => f.roomId === room.roomId && f.type === 'room.member.joined');
    assert.equal(bobSaw.userId, carol.userId);
  });

  it('lets only members signal, and only to members', async () => {
    const [alice, bob, carol] = await people('alice', 'bob', 'carol');
    const room = await createRoom(server.url, alice);
    const [a, b, c] = [await connect(alice), await connect(bob), await connect(carol)];
    await joinAll(server.url, alice, room, [[alice, a], [bob, b]]);

    const outsider = await c.request({ type: 'room.signal', roomId: room.roomId, to: alice.userId, data: { sdp: 'x' } });
    assert.equal(outsider.type, 'error');
    assert.equal(outsider.code, 'permission_denied');
    const toOutsider = await a.request({ type: 'room.signal', roomId: room.roomId, to: carol.userId, data: { sdp: 'x' } });
    assert.equal(toOutsider.code, 'not_found');
    const overHttp = await http(server.url, 'POST', `/v1/rooms/${room.roomId}/signal`, {
      token: carol.token, body: { to: alice.userId, data: { sdp: 'x' } },
    });
    assert.equal(overHttp.status, 403);

    const ok = await a.request({ type: 'room.signal', roomId: room.roomId, to: bob.userId, data: { kind: 'offer', sdp: 'v=0' } });
    assert.equal(ok.type, 'room.signaled');
    const got = await roomEvent(b, room.roomId, 'room.signal');
    assert.equal(got.from, alice.userId);
    assert.deepEqual(got.data, { kind: 'offer', sdp: 'v=0' });
    await sleep(100);
    assert.equal(c.frames.filter((f) => f.type === 'room.signal').length, 0, 'the outsider heard nothing');
  });

  it(`refuses a member past the limit (${MAX_MEMBERS})`, async () => {
    const [alice, bob, carol, dave] = await people('alice', 'bob', 'carol', 'dave');
    const room = await createRoom(server.url, alice);
    for (const u of [alice, bob, carol]) {
      const key = u === alice ? room.key : await issueKey(server.url, alice, room.roomId, u);
      const r = await http(server.url, 'POST', `/v1/rooms/${room.roomId}/join`, { token: u.token, body: { key } });
      assert.equal(r.status, 200);
    }
    const daveKey = await issueKey(server.url, alice, room.roomId, dave);
    const full = await http(server.url, 'POST', `/v1/rooms/${room.roomId}/join`, { token: dave.token, body: { key: daveKey } });
    assert.equal(full.status, 403);
    assert.match(full.body.error.message, /room is full/);
    // A seat freed is a seat taken.
    assert.equal((await http(server.url, 'POST', `/v1/rooms/${room.roomId}/leave`, { token: carol.token })).status, 200);
    const now = await http(server.url, 'POST', `/v1/rooms/${room.roomId}/join`, { token: dave.token, body: { key: daveKey } });
    assert.equal(now.status, 200);
  });

  it('removes a member whose connection died after the grace period; a reconnect within it keeps the seat', async () => {
    const [alice, bob, carol] = await people('alice', 'bob', 'carol');
    const room = await createRoom(server.url, alice);
    const a = await connect(alice);
    await joinWs(a, room.roomId, room.key);
    const bobKey = await issueKey(server.url, alice, room.roomId, bob);
    const carolKey = await issueKey(server.url, alice, room.roomId, carol);
    const b = await connect(bob);
    let c = await connect(carol);
    await joinWs(b, room.roomId, bobKey);
    await joinWs(c, room.roomId, carolKey);
    await roomEvent(a, room.roomId, 'room.member.joined');
    await roomEvent(a, room.roomId, 'room.member.joined');

    // Both vanish without a goodbye; Carol comes back at once.
    const died = Date.now();
    b.ws.terminate();
    c.ws.terminate();
    await sleep(GRACE_MS / 4);
    c = await connect(carol);

    const gone = await roomEvent(a, room.roomId, 'room.member.left', GRACE_MS * 10);
    assert.equal(gone.userId, bob.userId);
    assert.equal(gone.reason, 'disconnected');
    assert.ok(Date.now() - died >= GRACE_MS * 0.9, `removed after the grace period, not before (${Date.now() - died} ms)`);

    await sleep(GRACE_MS);
    const list = await a.request({ type: 'room.members', roomId: room.roomId });
    assert.deepEqual(list.members.map((m: { userId: string }) => m.userId), [alice.userId, carol.userId]);
    assert.ok(list.members.every((m: { online: boolean }) => m.online));
    assert.equal(a.frames.filter((f) => f.type === 'room.member.left' && f.roomId === room.roomId).length, 0, 'Carol kept her seat');
    // Bob may come back with his key while it is valid.
    const b2 = await connect(bob);
    await joinWs(b2, room.roomId, bobKey);
  });

  it('removes a member who joined over HTTP and never connected, after the grace period', async () => {
    const [alice, dave] = await people('alice', 'dave');
    const room = await createRoom(server.url, alice);
    const a = await connect(alice);
    await joinWs(a, room.roomId, room.key);
    const key = await issueKey(server.url, alice, room.roomId, dave);
    const joined = await http(server.url, 'POST', `/v1/rooms/${room.roomId}/join`, { token: dave.token, body: { key } });
    assert.equal(joined.status, 200);
    // Seated, but not online: no connection of Dave's exists.
    assert.deepEqual(joined.body.members.map((m: { userId: string; online: boolean }) => [m.userId, m.online]),
      [[alice.userId, true], [dave.userId, false]]);
    assert.equal((await roomEvent(a, room.roomId, 'room.member.joined')).userId, dave.userId);
    const gone = await roomEvent(a, room.roomId, 'room.member.left', GRACE_MS * 10);
    assert.equal(gone.userId, dave.userId);
    assert.equal(gone.reason, 'disconnected');
  });

  it('answers bad room requests with clear errors', async () => {
    const [alice, bob] = await people('alice', 'bob');
    const notRoom = await http(server.url, 'GET', '/v1/rooms/nope', { token: alice.token });
    assert.equal(notRoom.status, 400);
    const unknown = await http(server.url, 'GET', '/v1/rooms/r_AAAAAAAAAAAAAAAA', { token: alice.token });
    assert.equal(unknown.status, 404);
    const noKey = await http(server.url, 'POST', '/v1/rooms/r_AAAAAAAAAAAAAAAA/join', { token: alice.token, body: {} });
    assert.equal(noKey.status, 400);
    const a = await connect(alice);
    const badTtl = await a.request({ type: 'room.key', roomId: 'r_AAAAAAAAAAAAAAAA', userId: bob.userId, ttlS: 0 });
    assert.equal(badTtl.code, 'invalid_argument');
    const media = await a.request({ type: 'room.media', roomId: 'r_AAAAAAAAAAAAAAAA', op: 'capabilities' });
    assert.equal(media.code, 'not_found');
  });
});
