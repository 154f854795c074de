// The VoIP room frames of the WebSocket protocol: each request and the frame that answers
// it. Events a room pushes (room.member.joined, room.member.left, room.closed, room.signal,
// room.media.*) come from the room actor through the user's session, like messages.
import type { UserId } from '../../ids.ts';
import type { RoomService } from '../../service/RoomService.ts';
import { roomId } from '../../service/validate.ts';
import { replyFrame, ROOM_FRAME_TYPES, type ClientFrame, type RoomFrameType } from './frames.ts';

export function isRoomFrame(f: ClientFrame): f is ClientFrame & { type: RoomFrameType } {
  return (ROOM_FRAME_TYPES as readonly string[]).includes(f.type);
}

export async function handleRoomFrame(rooms: RoomService, user: UserId, f: ClientFrame & { type: RoomFrameType }): Promise<string> {
  if (f.type === 'room.create') {
    const created = await rooms.create(user);
    return replyFrame('room.created', f.ref, created);
  }
  const room = roomId(f.fields.roomId, 'roomId');
  switch (f.type) {
    case 'room.key':
      return replyFrame('room.key', f.ref, await rooms.issueKey(user, room, f.fields));
    case 'room.join':
      return replyFrame('room.joined', f.ref, { room: await rooms.join(user, room, f.fields) });
    case 'room.leave':
      return replyFrame('room.left', f.ref, await rooms.leave(user, room));
    case 'room.members': {
      const view = await rooms.get(user, room);
      return replyFrame('room.members', f.ref, { roomId: view.id, mode: view.mode, members: view.members });
    }
    case 'room.close':
      return replyFrame('room.closed', f.ref, await rooms.close(user, room));
    case 'room.signal':
      return replyFrame('room.signaled', f.ref, await rooms.signal(user, room, f.fields));
    case 'room.media':
      return replyFrame('room.media', f.ref, { roomId: room, op: f.fields.op, ...(await rooms.mediaRequest(user, room, f.fields) as object) });
  }
}
