// VoIP rooms over gRPC, through a real grpc-js client against a real server process: every
// RoomService RPC, room events on SubscribeEvents, one member list whichever front asks,
// and the errors of the one table (src/errors.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WsClient, type Frame } from '../helpers/clients.ts';
import {
  expectStatus, GrpcClients, registerGrpcUsers, waitFor, type Obj, type Subscription,
} from '../helpers/grpcClients.ts';
import { joinWs, roomEvent } from '../helpers/rooms.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

const ROOM_KEY_TTL_S = 600;
const MAX_MEMBERS = 4;
const UNKNOWN_ROOM = 'r_AAAAAAAAAAAAAAAA';

const ms = (t: Obj): number => t.seconds * 1000 + Math.round(t.nanos / 1e6);

describe('gRPC front: rooms', () => {
  let server: RunningServer;
  let g: GrpcClients;
  const sockets: WsClient[] = [];
  const subscriptions: Subscription[] = [];

  /** Fresh users for each test, so one test's connections never keep another's members online. */
  const people = <N extends string[]>(...names: N) => registerGrpcUsers(g, ...names);
  const connect = async (u: Obj): Promise<WsClient> => {
    const c = await WsClient.connect(server.wsUrl, u.token);
    sockets.push(c);
    return c;
  };
  const subscribe = async (u: Obj): Promise<Subscription> => {
    const s = g.subscribe(u.token);
    subscriptions.push(s);
    await s.ready();
    return s;
  };
  /** A room `owner` created over gRPC, and a key for each of `members` (the owner's own too, if listed). */
  const roomWithKeys = async (owner: Obj, ...members: Obj[]): Promise<{ room: Obj; keys: string[] }> => {
    const room = await g.rooms('CreateRoom', {}, { token: owner.token });
    const keys = [];
    for (const m of members) {
      keys.push((await g.rooms('IssueRoomKey', { roomId: room.roomId, userId: m.userId }, { token: owner.token })).key);
    }
    return { room, keys };
  };

  before(async () => {
    server = await startServer({
      MEDIA_WORKERS: '0', ROOM_KEY_TTL_S: String(ROOM_KEY_TTL_S), ROOM_MAX_MEMBERS: String(MAX_MEMBERS),
    });
    g = new GrpcClients(server.grpcAddress);
  });

  after(async () => {
    await Promise.all(subscriptions.map((s) => s.cancel()));
    for (const c of sockets) c.ws.terminate();
    g?.close();
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('creates, describes, keys, joins, lists, leaves and closes a room', async () => {
    const [alice, bob] = await people('alice', 'bob');
    const as = { token: alice.token };
    const before = Date.now();
    const room = await g.rooms('CreateRoom', {}, as);
    assert.match(room.roomId, /^r_[A-Za-z0-9_-]{16}$/);
    assert.equal(room.ownerId, alice.userId);
    assert.equal(room.mode, 'P2P');
    assert.equal(room.maxMembers, MAX_MEMBERS);
    assert.deepEqual(room.members, [], 'the owner is not in it until she joins');
    assert.ok(ms(room.createTime) >= before - 1000 && ms(room.expireTime) > ms(room.createTime));

    // A key of the default length for herself, a minute's for Bob.
    const own = await g.rooms('IssueRoomKey', { roomId: room.roomId, userId: alice.userId }, as);
    assert.deepEqual([own.roomId, own.userId], [room.roomId, alice.userId]);
    assert.ok(Math.abs(ms(own.expireTime) - (Date.now() + ROOM_KEY_TTL_S * 1000)) < 5_000, 'unset ttl: ROOM_KEY_TTL_S');
    const bobKey = await g.rooms('IssueRoomKey', { roomId: room.roomId, userId: bob.userId, ttl: { seconds: 60 } }, as);
    assert.ok(ms(bobKey.expireTime) <= Date.now() + 61_000);

    const joined = await g.rooms('JoinRoom', { roomId: room.roomId, key: own.key }, as);
    assert.deepEqual(joined.members.map((m: Obj) => m.userId), [alice.userId]);
    const bobJoined = await g.rooms('JoinRoom', { roomId: room.roomId, key: bobKey.key }, { token: bob.token });
    assert.deepEqual(bobJoined.members.map((m: Obj) => m.userId), [alice.userId, bob.userId]);
    assert.ok(ms(bobJoined.members[1].joinTime) >= ms(bobJoined.members[0].joinTime));

    const described = await g.rooms('GetRoom', { roomId: room.roomId }, { token: bob.token });
    assert.equal(described.roomId, room.roomId);
    assert.equal(described.ownerId, alice.userId);
    assert.deepEqual(described.createTime, room.createTime);
    const listed = await g.rooms('ListRoomMembers', { roomId: room.roomId }, as);
    assert.deepEqual(listed.members.map((m: Obj) => m.userId), [alice.userId, bob.userId]);

    assert.deepEqual(await g.rooms('LeaveRoom', { roomId: room.roomId }, { token: bob.token }), {});
    assert.deepEqual((await g.rooms('ListRoomMembers', { roomId: room.roomId }, as)).members.map((m: Obj) => m.userId), [alice.userId]);

    assert.deepEqual(await g.rooms('CloseRoom', { roomId: room.roomId }, as), {});
    await expectStatus(g.rooms('GetRoom', { roomId: room.roomId }, as), 'NOT_FOUND', /room is closed \(closed_by_owner\)/);
  });

  it('streams room events to a gRPC subscriber: a member joins, signals, leaves, and the room closes', async () => {
    const [alice, bob] = await people('alice', 'bob');
    const { room, keys: [aliceKey, bobKey] } = await roomWithKeys(alice, alice, bob);
    const events = await subscribe(alice);
    await g.rooms('JoinRoom', { roomId: room.roomId, key: aliceKey }, { token: alice.token });

    const b = await connect(bob);
    await joinWs(b, room.roomId, bobKey!);
    const joined = await events.roomEvent(room.roomId, 'memberJoined');
    assert.deepEqual(joined.memberJoined, { userId: bob.userId });

    const data = { kind: 'offer', sdp: 'v=0', mline: 0, trickle: true, candidate: null, ice: [{ port: 9 }] };
    assert.equal((await b.request({ type: 'room.signal', roomId: room.roomId, to: alice.userId, data })).type, 'room.signaled');
    const signal = await events.roomEvent(room.roomId, 'signal');
    assert.equal(signal.signal.fromUserId, bob.userId);
    assert.equal(signal.seq, 0, 'signals are not counted');
    const f = signal.signal.data.fields;
    assert.deepEqual([f.kind.stringValue, f.sdp.stringValue, f.mline.numberValue, f.trickle.boolValue, f.candidate.nullValue],
      ['offer', 'v=0', 0, true, 'NULL_VALUE']);
    assert.equal(f.ice.listValue.values[0].structValue.fields.port.numberValue, 9);

    await b.request({ type: 'room.leave', roomId: room.roomId });
    const left = await events.roomEvent(room.roomId, 'memberLeft');
    assert.deepEqual(left.memberLeft, { userId: bob.userId, reason: 'LEFT' });

    await g.rooms('CloseRoom', { roomId: room.roomId }, { token: alice.token });
    const closed = await events.roomEvent(room.roomId, 'closed');
    assert.deepEqual(closed.closed, { reason: 'CLOSED_BY_OWNER' });
    assert.ok(joined.seq > 0 && joined.seq < left.seq && left.seq < closed.seq, 'the room counts its events in order');
  });

  it('shows a WebSocket member and a gRPC caller the same member list; an open stream keeps a member online', async () => {
    const [alice, bob, carol] = await people('alice', 'bob', 'carol');
    const { room, keys: [aliceKey, bobKey, carolKey] } = await roomWithKeys(alice, alice, bob, carol);
    const aliceEvents = await subscribe(alice);
    const b = await connect(bob);
    await g.rooms('JoinRoom', { roomId: room.roomId, key: aliceKey }, { token: alice.token });
    await joinWs(b, room.roomId, bobKey!);
    await g.rooms('JoinRoom', { roomId: room.roomId, key: carolKey }, { token: carol.token });
    await aliceEvents.roomEvent(room.roomId, 'memberJoined');
    await aliceEvents.roomEvent(room.roomId, 'memberJoined');

    const overWs = (): Promise<Frame> => b.request({ type: 'room.members', roomId: room.roomId });
    // Carol has no connection: her seat waits out the grace period, offline.
    await waitFor('Carol to be offline', async () => (await overWs()).members[2]?.online === false);
    const [grpcList, wsList] = [await g.rooms('ListRoomMembers', { roomId: room.roomId }, { token: alice.token }), await overWs()];
    const asWs = grpcList.members.map((m: Obj) => ({ userId: m.userId, joinedAt: ms(m.joinTime), online: m.online }));
    assert.deepEqual(asWs, wsList.members);
    assert.deepEqual(asWs.map((m: Obj) => [m.userId, m.online]), [[alice.userId, true], [bob.userId, true], [carol.userId, false]]);

    // Alice's only connection is her event stream: without it she is offline.
    await aliceEvents.cancel();
    await waitFor('Alice to be offline', async () => (await overWs()).members[0].online === false);
    const bobSaw = await roomEvent(b, room.roomId, 'room.member.joined');
    assert.equal(bobSaw.userId, carol.userId);
  });

  it('PERMISSION_DENIED: a non-owner issuing a key or closing, an outsider reading, a key for someone else', async () => {
    const [alice, bob, carol] = await people('alice', 'bob', 'carol');
    const { room, keys: [bobKey] } = await roomWithKeys(alice, bob);
    const roomId = room.roomId;
    await g.rooms('JoinRoom', { roomId, key: bobKey }, { token: bob.token });
    await expectStatus(g.rooms('IssueRoomKey', { roomId, userId: carol.userId }, { token: bob.token }), 'PERMISSION_DENIED', /only the owner/);
    await expectStatus(g.rooms('CloseRoom', { roomId }, { token: bob.token }), 'PERMISSION_DENIED', /only the owner/);
    await expectStatus(g.rooms('GetRoom', { roomId }, { token: carol.token }), 'PERMISSION_DENIED', /not a member/);
    await expectStatus(g.rooms('ListRoomMembers', { roomId }, { token: carol.token }), 'PERMISSION_DENIED', /not a member/);
    await expectStatus(g.rooms('LeaveRoom', { roomId }, { token: carol.token }), 'PERMISSION_DENIED', /not a member/);
    await expectStatus(g.rooms('JoinRoom', { roomId, key: bobKey }, { token: carol.token }), 'PERMISSION_DENIED', /room key is for another user/);
    await expectStatus(g.rooms('JoinRoom', { roomId, key: bob.token }, { token: bob.token }), 'PERMISSION_DENIED');
  });

  it('NOT_FOUND: a room that never was, or is closed', async () => {
    const [alice, bob] = await people('alice', 'bob');
    const as = { token: alice.token };
    for (const [method, req] of [
      ['GetRoom', {}], ['ListRoomMembers', {}], ['LeaveRoom', {}], ['CloseRoom', {}], ['IssueRoomKey', { userId: bob.userId }],
    ] as const) {
      await expectStatus(g.rooms(method, { roomId: UNKNOWN_ROOM, ...req }, as), 'NOT_FOUND', /room not found/);
    }
    const { room, keys: [bobKey] } = await roomWithKeys(alice, bob);
    await g.rooms('CloseRoom', { roomId: room.roomId }, as);
    await expectStatus(g.rooms('JoinRoom', { roomId: room.roomId, key: bobKey }, { token: bob.token }), 'NOT_FOUND', /room is closed/);
  });

  it('INVALID_ARGUMENT: bad ids, keys and key lifetimes, named as the proto names them (ttl in whole seconds as "ttlS")', async () => {
    const [alice, bob] = await people('alice', 'bob');
    const as = { token: alice.token };
    for (const method of ['GetRoom', 'ListRoomMembers', 'LeaveRoom', 'CloseRoom', 'JoinRoom', 'IssueRoomKey']) {
      await expectStatus(g.rooms(method, { roomId: 'nope', userId: bob.userId, key: 'k' }, as), 'INVALID_ARGUMENT', /"room_id" is not a room id/);
    }
    const { room } = await roomWithKeys(alice);
    const key = (req: Obj) => g.rooms('IssueRoomKey', { roomId: room.roomId, userId: bob.userId, ...req }, as);
    await expectStatus(key({ userId: '' }), 'INVALID_ARGUMENT', /"user_id" is not a user id/);
    await expectStatus(key({ ttl: { seconds: 0 } }), 'INVALID_ARGUMENT', new RegExp(`"ttlS" must be between 1 and ${ROOM_KEY_TTL_S}`));
    await expectStatus(key({ ttl: { seconds: ROOM_KEY_TTL_S + 1 } }), 'INVALID_ARGUMENT', /"ttlS" must be between/);
    await expectStatus(key({ ttl: { seconds: 1, nanos: 500_000_000 } }), 'INVALID_ARGUMENT', /"ttlS" must be an integer/);
    await expectStatus(g.rooms('JoinRoom', { roomId: room.roomId }, { token: bob.token }), 'INVALID_ARGUMENT', /"key" must be 1 to/);
  });

  it('UNAUTHENTICATED: every RPC without a token', async () => {
    for (const method of ['CreateRoom', 'GetRoom', 'IssueRoomKey', 'JoinRoom', 'LeaveRoom', 'ListRoomMembers', 'CloseRoom']) {
      await expectStatus(g.rooms(method, { roomId: UNKNOWN_ROOM }), 'UNAUTHENTICATED', /missing or malformed Authorization: Bearer/);
    }
  });
});
