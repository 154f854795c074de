// Two real WebRTC peers (@roamhq/wrtc, libwebrtc in Node) meet in a room: they exchange
// offer, answer and ICE candidates only through our WebSocket signaling, open a
// peer-to-peer connection, and a data channel message crosses it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import wrtc from '@roamhq/wrtc';
import { register, WsClient, type Frame } from '../helpers/clients.ts';
import { createRoom, joinAll } from '../helpers/rooms.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';

const CONNECT_TIMEOUT_MS = 15_000;

type Signal =
  | { kind: 'offer' | 'answer'; sdp: string }
  | { kind: 'candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };

/** A peer whose signaling goes through the room: everything it must tell the other is a room.signal. */
class Peer {
  readonly pc = new wrtc.RTCPeerConnection();
  readonly #pending: Signal[] = [];
  #remoteSet = false;

  constructor(readonly ws: WsClient, readonly roomId: string, readonly to: string) {
    this.pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      const { candidate, sdpMid, sdpMLineIndex } = e.candidate;
      void this.#send({ kind: 'candidate', candidate, sdpMid: sdpMid ?? null, sdpMLineIndex: sdpMLineIndex ?? null });
    };
    ws.ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString()) as Frame;
      if (f.type === 'room.signal' && f.roomId === roomId && f.from === to) void this.#receive(f.data as Signal);
    });
  }

  async #send(data: Signal): Promise<void> {
    const reply = await this.ws.request({ type: 'room.signal', roomId: this.roomId, to: this.to, data });
    assert.equal(reply.type, 'room.signaled', JSON.stringify(reply));
  }

  async offer(): Promise<void> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.#send({ kind: 'offer', sdp: this.pc.localDescription!.sdp });
  }

  async #receive(s: Signal): Promise<void> {
    if (s.kind === 'candidate') {
      // Candidates may overtake the description they belong to: hold them until it is set.
      if (!this.#remoteSet) return void this.#pending.push(s);
      return this.pc.addIceCandidate(s);
    }
    await this.pc.setRemoteDescription({ type: s.kind, sdp: s.sdp });
    this.#remoteSet = true;
    for (const c of this.#pending.splice(0)) await this.pc.addIceCandidate(c as RTCIceCandidateInit);
    if (s.kind === 'offer') {
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      await this.#send({ kind: 'answer', sdp: this.pc.localDescription!.sdp });
    }
  }
}

describe('rooms: a real WebRTC connection through our signaling', () => {
  let server: RunningServer;
  const peers: Peer[] = [];

  before(async () => {
    server = await startServer({ MEDIA_WORKERS: '0' });
  });
  after(async () => {
    for (const p of peers) {
      p.pc.close();
      p.ws.ws.terminate();
    }
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('connects two peers with room keys, and a data channel message crosses', async () => {
    const [alice, bob] = await Promise.all([register(server.url, 'alice'), register(server.url, 'bob')]);
    const room = await createRoom(server.url, alice);
    assert.equal(room.mode, 'p2p');
    const [a, b] = await Promise.all([WsClient.connect(server.wsUrl, alice.token), WsClient.connect(server.wsUrl, bob.token)]);
    await joinAll(server.url, alice, room, [[alice, a], [bob, b]]);

    const caller = new Peer(a, room.roomId, bob.userId);
    const callee = new Peer(b, room.roomId, alice.userId);
    peers.push(caller, callee);

    const received = new Promise<string>((resolve) => {
      callee.pc.ondatachannel = (e) => {
        e.channel.onmessage = (m) => resolve(String(m.data));
      };
    });
    const channel = caller.pc.createDataChannel('chat');
    channel.onopen = () => channel.send('hello over a peer-to-peer channel');
    await caller.offer();

    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`no message within ${CONNECT_TIMEOUT_MS} ms (ice: ${caller.pc.iceConnectionState})`)), CONNECT_TIMEOUT_MS).unref();
    });
    assert.equal(await Promise.race([received, timeout]), 'hello over a peer-to-peer channel');
    assert.equal(caller.pc.connectionState, 'connected');
  });
});
