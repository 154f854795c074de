import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  conversationActor, directConversationId, directMembers, newGroupId, newUserId, parseConversationId, parseUserId, shardOf,
} from '../../src/ids.ts';

describe('ids', () => {
  it('gives two users one direct conversation whichever of them asks', () => {
    const a = newUserId();
    const b = newUserId();
    assert.equal(directConversationId(a, b), directConversationId(b, a));
    assert.deepEqual(directMembers(directConversationId(a, b)), [a, b].sort());
    assert.equal(parseConversationId(directConversationId(a, b)), directConversationId(a, b));
  });

  it('refuses non-canonical or malformed ids', () => {
    const [a, b] = [newUserId(), newUserId()].sort();
    assert.equal(parseConversationId(`dm_${b}_${a}`), null);
    assert.equal(parseConversationId(`dm_${a}_${a}`), null);
    assert.equal(parseConversationId('g_short'), null);
    assert.equal(parseConversationId(42), null);
    assert.equal(parseUserId('u_../../etc/passwd'), null);
    assert.ok(parseConversationId(newGroupId()));
  });

  it('hashes an actor to a stable shard, spread over all shards', () => {
    const id = conversationActor(newGroupId());
    assert.equal(shardOf(id, 64), shardOf(id, 64));
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(shardOf(conversationActor(newGroupId()), 64));
    assert.equal(seen.size, 64);
  });
});
