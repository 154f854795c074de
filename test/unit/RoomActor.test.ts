// The room actor alone, with a context that records what it tells and holds its timers
// until the test fires them: the races between a timer and a message, pinned exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActorContext, ActorSettings } from '../../src/actors/Actor.ts';
import type { ActorMessage, FrontEvent, RoomMessage, RoomView } from '../../src/actors/messages.ts';
import { RoomActor } from '../../src/actors/RoomActor.ts';
import type { ActorId, UserId } from '../../src/ids.ts';
import type { Storage } from '../../src/storage/Storage.ts';

const SETTINGS: ActorSettings = {
  historyPageMax: 10, historyPageMaxBytes: 1024, groupMaxMembers: 10,
  roomGraceMs: 1000, roomEmptyCloseMs: 5000, roomMaxLifetimeMs: 60_000, roomMaxMembers: 2,
};
const OWNER = 'u_owner000000000000' as UserId;
const BOB = 'u_bob0000000000000' as UserId;
const CAROL = 'u_carol00000000000' as UserId;

class Harness {
  readonly told: { to: ActorId; msg: ActorMessage }[] = [];
  readonly home: FrontEvent[] = [];
  readonly timers: { ms: number; msg: ActorMessage; cancelled: boolean }[] = [];
  readonly room: RoomActor;

  constructor() {
    const ctx: ActorContext = {
      self: 'room:r_AAAAAAAAAAAAAAAA' as ActorId,
      storage: {} as Storage,
      settings: SETTINGS,
      tell: (to, msg) => this.told.push({ to, msg }),
      push: () => {},
      notify: (_front, event) => this.home.push(event),
      schedule: (ms, msg) => {
        const t = { ms, msg, cancelled: false };
        this.timers.push(t);
        return () => { t.cancelled = true; };
      },
    };
    this.room = new RoomActor(ctx);
  }

  send(msg: RoomMessage): unknown {
    return this.room.receive(msg);
  }

  /** The last timer of a kind, as its message (fired or not: the room must judge). */
  timer(kind: string): RoomMessage {
    const t = [...this.timers].reverse().find((x) => (x.msg as RoomMessage).type === 'timer' && (x.msg as { timer: string }).timer === kind);
    assert.ok(t, `a ${kind} timer was scheduled`);
    return t.msg as RoomMessage;
  }

  frames(type: string): Record<string, unknown>[] {
    return this.told
      .filter((t) => t.msg.type === 'deliver')
      .map((t) => JSON.parse((t.msg as { frame: string }).frame) as Record<string, unknown>)
      .filter((f) => f.type === type);
  }

  members(): UserId[] {
    return (this.send({ type: 'members', user: OWNER }) as RoomView).members.map((m) => m.userId);
  }
}

function openRoom(): Harness {
  const h = new Harness();
  h.send({ type: 'create', owner: OWNER, mode: 'p2p', home: 'local' });
  h.send({ type: 'join', user: OWNER });
  h.send({ type: 'join', user: BOB });
  return h;
}

describe('RoomActor', () => {
  it('seats a member the front knows no connection of as offline, and arms the grace period when the session agrees', () => {
    const h = new Harness();
    h.send({ type: 'create', owner: OWNER, mode: 'p2p', home: 'local' });
    h.send({ type: 'join', user: OWNER });
    const view = h.send({ type: 'join', user: BOB, online: false }) as RoomView;
    assert.deepEqual(view.members.map((m) => [m.userId, m.online]), [[OWNER, true], [BOB, false]]);
    assert.equal(h.timers.filter((t) => (t.msg as { timer?: string }).timer === 'grace').length, 0, 'no timer before the session says');
    h.send({ type: 'memberPresence', user: BOB, online: false });
    h.send(h.timer('grace'));
    assert.deepEqual(h.members(), [OWNER]);
  });

  it('ignores a grace timer that fired but was overtaken by the member coming back', () => {
    const h = openRoom();
    h.send({ type: 'memberPresence', user: BOB, online: false });
    const fired = h.timer('grace');
    h.send({ type: 'memberPresence', user: BOB, online: true }); // handled before the timer's message
    h.send(fired);
    assert.deepEqual(h.members(), [OWNER, BOB]);
    assert.equal(h.frames('room.member.left').length, 0);
  });

  it('removes a member still offline when the grace timer comes, and tells the others', () => {
    const h = openRoom();
    h.send({ type: 'memberPresence', user: BOB, online: false });
    assert.equal(h.timers.at(-1)!.ms, SETTINGS.roomGraceMs);
    h.send(h.timer('grace'));
    assert.deepEqual(h.members(), [OWNER]);
    const [left] = h.frames('room.member.left');
    assert.equal(left!.userId, BOB);
    assert.equal(left!.reason, 'disconnected');
    assert.ok(h.told.some((t) => t.msg.type === 'unwatchRoom'), 'the session stops watching the room');
  });

  it('does not close for emptiness once someone joined, and closes when empty again', () => {
    const h = new Harness();
    h.send({ type: 'create', owner: OWNER, mode: 'p2p', home: 'local' });
    const firstEmpty = h.timer('empty');
    h.send({ type: 'join', user: OWNER });
    h.send(firstEmpty); // stale: someone joined since
    assert.deepEqual(h.members(), [OWNER]);
    h.send({ type: 'leave', user: OWNER });
    h.send(h.timer('empty'));
    assert.equal(h.home.at(-1)!.closed, true);
    assert.throws(() => h.send({ type: 'join', user: OWNER }), /room is closed \(empty\)/);
  });

  it('keeps to its member limit, and a rejoin takes no second seat', () => {
    const h = openRoom();
    assert.throws(() => h.send({ type: 'join', user: CAROL }), /room is full/);
    h.send({ type: 'join', user: BOB });
    assert.deepEqual(h.members(), [OWNER, BOB]);
  });

  it('closes on a failed handler and tells the members why', () => {
    const h = openRoom();
    h.room.deactivate('crash');
    const closed = h.frames('room.closed');
    assert.deepEqual(h.told.filter((t) => t.msg.type === 'deliver' && t.msg.frame.includes('room.closed')).map((t) => t.to),
      [`session:${OWNER}`, `session:${BOB}`], 'each member is told');
    assert.equal(closed[0]!.reason, 'host_failed');
    assert.equal(h.room.canPassivate(), true);
  });

  it('answers presence for a room it does not hold by asking the session to stop watching', () => {
    const h = new Harness();
    h.send({ type: 'memberPresence', user: BOB, online: true });
    assert.deepEqual(h.told.map((t) => t.msg.type), ['unwatchRoom']);
  });
});
