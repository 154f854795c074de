// The RoomService provider: each RPC calls the same RoomService the HTTP and WebSocket
// fronts use. Room events reach a gRPC client on MessagingService.SubscribeEvents; sending
// signaling and SFU media requests stay WebSocket-only.
import type * as grpc from '@grpc/grpc-js';
import type { RoomService } from '../../service/RoomService.ts';
import { roomId } from '../../service/validate.ts';
import type { CallGuard } from './CallGuard.ts';
import type { FieldNames } from './fieldNames.ts';
import {
  durationSeconds, room, roomKey, roomMember,
  type Empty, type IssueRoomKeyRequest, type JoinRoomRequest, type ListRoomMembersResponse, type Room,
  type RoomKey, type RoomRequest,
} from './wire.ts';

const EMPTY: Empty = {};
const target = (req: RoomRequest) => roomId(req.roomId, 'room_id');
/**
 * Fields the shared RoomService names otherwise than the contract (fieldNames.ts). `ttl`
 * keeps the name `ttlS` in errors, as room_service.proto documents: its whole seconds are
 * what is checked.
 */
const KEY_FIELDS: FieldNames = { userId: 'user_id' };

export function roomServiceHandlers(rooms: RoomService, guard: CallGuard): grpc.UntypedServiceImplementation {
  return {
    // The owner's own key, which HTTP and WebSocket answer beside the room, is not in the
    // contract's answer (the room): the owner asks IssueRoomKey for one.
    CreateRoom: guard.authed<unknown, Room>('CreateRoom', async (_req, user) => room((await rooms.create(user)).room)),

    GetRoom: guard.authed<RoomRequest, Room>('GetRoom', async (req, user) => room(await rooms.get(user, target(req)))),

    IssueRoomKey: guard.authed<IssueRoomKeyRequest, RoomKey>('IssueRoomKey', async (req, user) =>
      roomKey(await rooms.issueKey(user, target(req), { userId: req.userId, ttlS: durationSeconds(req.ttl) })), KEY_FIELDS),

    JoinRoom: guard.authed<JoinRoomRequest, Room>('JoinRoom', async (req, user) =>
      room(await rooms.join(user, target(req), { key: req.key }))),

    LeaveRoom: guard.authed<RoomRequest, Empty>('LeaveRoom', async (req, user) => {
      await rooms.leave(user, target(req));
      return EMPTY;
    }),

    ListRoomMembers: guard.authed<RoomRequest, ListRoomMembersResponse>('ListRoomMembers', async (req, user) =>
      ({ members: (await rooms.get(user, target(req))).members.map(roomMember) })),

    CloseRoom: guard.authed<RoomRequest, Empty>('CloseRoom', async (req, user) => {
      await rooms.close(user, target(req));
      return EMPTY;
    }),
  };
}
