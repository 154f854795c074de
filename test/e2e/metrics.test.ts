// /metrics: one scrape sums every thread (the fronts on the main thread, the actor hosts,
// the embedded storage thread), counts what clients did over HTTP, WebSocket and gRPC,
// keeps its labels bounded (no user id anywhere), and is valid exposition format as
// Prometheus' own promtool reads it (our metrics lint clean).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { http, register, WsClient, type Registered } from '../helpers/clients.ts';
import { expectStatus, GrpcClients } from '../helpers/grpcClients.ts';
import { removeDataDir, startServer, type RunningServer } from '../helpers/server.ts';
import { samples, scrape } from '../helpers/metrics.ts';
import { installTool, skipUnless } from '../helpers/tools.ts';

const promtool = await installTool('promtool', 'scripts/tools/promtool.sh', 3 * 60_000);

describe('metrics', () => {
  let server: RunningServer;
  let g: GrpcClients;
  let alice: Registered, bob: Registered;
  let ws: WsClient;

  before(async () => {
    server = await startServer({ ACTOR_HOSTS: '2' });
    g = new GrpcClients(server.grpcAddress);
    [alice, bob] = await Promise.all([register(server.url, 'alice'), register(server.url, 'bob')]);
    ws = await WsClient.connect(server.wsUrl, alice.token);
  });
  after(async () => {
    ws?.ws.terminate();
    g?.close();
    await server?.stop();
    removeDataDir(server.dataDir);
  });

  it('counts what clients did on every front, summed over every thread, with no user id in a label', async () => {
    const first = await ws.request({ type: 'send', to: bob.userId, clientMsgId: 'm1', body: 'hi' });
    assert.equal(first.type, 'ack');
    const again = await ws.request({ type: 'send', to: bob.userId, clientMsgId: 'm1', body: 'hi' });
    assert.equal(again.duplicate, true);
    ws.sendRaw('{"type":"launch-missiles"}');
    await ws.next((f) => f.type === 'error');
    assert.equal((await http(server.url, 'GET', '/no/such/route')).status, 404);
    await g.auth('GetCurrentUser', {}, { token: alice.token });
    await expectStatus(g.auth('GetCurrentUser', {}), 'UNAUTHENTICATED');

    const { contentType, text } = await scrape(server);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const m = samples(text);
    const value = (key: string): number | undefined => m.get(key);

    // Main thread: the fronts and the message path.
    assert.equal(value('switchboard_messages_total{kind="direct",result="stored"}'), 1);
    assert.equal(value('switchboard_messages_total{kind="direct",result="duplicate"}'), 1);
    assert.equal(value('switchboard_message_ack_seconds_count{kind="direct"}'), 2);
    assert.equal(value('switchboard_ws_frames_total{type="send"}'), 2);
    assert.equal(value('switchboard_ws_errors_total{code="invalid_argument"}'), 1);
    assert.equal(value('switchboard_http_requests_total{route="GET /*",status="404"}'), 1);
    assert.equal(value('switchboard_http_requests_total{route="POST /v1/auth/register",status="201"}'), 2);
    assert.equal(value('switchboard_grpc_calls_total{method="GetCurrentUser",code="OK"}'), 1);
    assert.equal(value('switchboard_grpc_calls_total{method="GetCurrentUser",code="UNAUTHENTICATED"}'), 1);
    assert.equal(value('switchboard_connections'), 1);
    assert.equal(value('switchboard_connected_users'), 1);
    // Actor hosts (two threads, summed): alice's and bob's sessions, their conversation.
    assert.equal(value('switchboard_actors_active{kind="session"}'), 2);
    assert.equal(value('switchboard_actors_active{kind="conv"}'), 1);
    assert.ok((value('switchboard_actor_messages_total{kind="conv"}') ?? 0) >= 2);
    // The storage thread: group commits, each with at least one request.
    const commits = value('switchboard_storage_commit_requests_count') ?? 0;
    assert.ok(commits >= 1, 'the storage thread reports its commits');
    assert.equal(value('switchboard_storage_commit_seconds_count'), commits);
    assert.ok((value('switchboard_storage_commit_requests_sum') ?? 0) >= commits);
    // The process's own metrics come from one thread, not summed over all of them: its RSS is the process's.
    const rss = value('process_resident_memory_bytes') ?? 0;
    const vmRss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))![1]) * 1024;
    assert.ok(rss > vmRss * 0.5 && rss < vmRss * 1.5, `process_resident_memory_bytes ${rss} vs VmRSS ${vmRss}`);

    for (const id of [alice.userId, bob.userId, first.conversationId as string]) assert.ok(!text.includes(id), `${id} in /metrics`);
  });

  it('keeps counting across scrapes', async () => {
    const before = samples((await scrape(server)).text).get('switchboard_messages_total{kind="direct",result="stored"}') ?? 0;
    await ws.request({ type: 'send', to: bob.userId, clientMsgId: 'm2', body: 'again' });
    const after = samples((await scrape(server)).text).get('switchboard_messages_total{kind="direct",result="stored"}');
    assert.equal(after, before + 1);
  });

  it('is read by promtool, and our own metrics lint clean', { skip: skipUnless('promtool', promtool) }, async () => {
    const { text } = await scrape(server);
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn((promtool as { path: string }).path, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
      child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
      child.on('close', (c) => resolve({ code: c, output }));
      child.stdin.end(text);
    });
    // 0: clean; 3: lint findings (prom-client's own nodejs_* gauges end in _total); 1: it could not parse the text.
    assert.ok(code === 0 || code === 3, `promtool check metrics exited ${code}:\n${output}`);
    const ours = output.split('\n').filter((l) => l.startsWith('switchboard_'));
    assert.deepEqual(ours, [], `lint findings on our metrics:\n${output}`);
  });

  it('is off with METRICS=0', async () => {
    const off = await startServer({ METRICS: '0' });
    try {
      assert.equal((await http(off.url, 'GET', '/metrics')).status, 404);
    } finally {
      await off.stop();
      removeDataDir(off.dataDir);
    }
  });
});
