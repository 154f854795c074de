// The VoIP room routes: create, keys, join, leave, members, close, signal. Handlers return
// data or throw AppErrors; RoomService does the checking.
import { InvalidArgumentError } from '../../errors.ts';
import type { RoomService } from '../../service/RoomService.ts';
import { roomId } from '../../service/validate.ts';
import type { Call, RouteKit } from './HttpFront.ts';

export interface RoomRouteDeps {
  readonly rooms: RoomService;
  /** Test fault switch: kill a mediasoup worker. */
  readonly killMediaWorker?: () => boolean;
}

const room = (c: Call) => roomId(c.x.params[0], 'id');

export function roomRoutes(d: RoomRouteDeps): (kit: RouteKit) => void {
  const { rooms } = d;
  return ({ open, authed }) => {
    authed('post', '/v1/rooms', async (c) => [201, await rooms.create(c.user)]);
    authed('get', '/v1/rooms/:id', async (c) => [200, await rooms.get(c.user, room(c))]);
    authed('get', '/v1/rooms/:id/members', async (c) => {
      const view = await rooms.get(c.user, room(c));
      return [200, { roomId: view.id, members: view.members }];
    });
    authed('post', '/v1/rooms/:id/keys', async (c) => [201, await rooms.issueKey(c.user, room(c), await c.body())]);
    authed('post', '/v1/rooms/:id/join', async (c) => [200, await rooms.join(c.user, room(c), await c.body())]);
    authed('post', '/v1/rooms/:id/leave', async (c) => [200, await rooms.leave(c.user, room(c))]);
    authed('post', '/v1/rooms/:id/signal', async (c) => [200, await rooms.signal(c.user, room(c), await c.body())]);
    authed('del', '/v1/rooms/:id', async (c) => [200, await rooms.close(c.user, room(c))]);

    if (d.killMediaWorker) {
      const kill = d.killMediaWorker;
      open('post', '/_test/kill-media-worker', async () => {
        if (!kill()) throw new InvalidArgumentError('no mediasoup worker is running');
        return [202, { killing: true }];
      });
    }
  };
}
