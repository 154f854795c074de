// Room steps shared by the room e2e tests: create, hand out keys, join over WebSocket.
import assert from 'node:assert/strict';
import { http, type Frame, type Registered, type WsClient } from './clients.ts';

export interface CreatedRoom {
  readonly roomId: string;
  /** The owner's own key. */
  readonly key: string;
  readonly mode: string;
}

export async function createRoom(base: string, owner: Registered): Promise<CreatedRoom> {
  const r = await http(base, 'POST', '/v1/rooms', { token: owner.token });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { roomId: r.body.roomId, key: r.body.key, mode: r.body.room.mode };
}

export async function issueKey(base: string, owner: Registered, roomId: string, user: Registered, ttlS?: number): Promise<string> {
  const r = await http(base, 'POST', `/v1/rooms/${roomId}/keys`, { token: owner.token, body: { userId: user.userId, ttlS } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.userId, user.userId);
  return r.body.key;
}

/** Joins over the socket; fails the test unless the join is accepted. */
export async function joinWs(client: WsClient, roomId: string, key: string): Promise<Frame> {
  const f = await client.request({ type: 'room.join', roomId, key });
  assert.equal(f.type, 'room.joined', JSON.stringify(f));
  return f;
}

/** Each user joins over its socket, in order, with the owner's key or one the owner issues. */
export async function joinAll(base: string, owner: Registered, room: CreatedRoom, members: [Registered, WsClient][]): Promise<void> {
  for (const [user, client] of members) {
    await joinWs(client, room.roomId, user === owner ? room.key : await issueKey(base, owner, room.roomId, user));
  }
}

/** The next room event of a type for a room (consumed). */
export function roomEvent(client: WsClient, roomId: string, type: string, timeoutMs?: number): Promise<Frame> {
  return client.next((f) => f.type === type && f.roomId === roomId && f.ref === undefined, timeoutMs);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
