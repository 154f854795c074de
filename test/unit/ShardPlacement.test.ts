import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rendezvousOwner, ShardPlacement } from '../../src/transport/bus/ShardPlacement.ts';

describe('ShardPlacement', () => {
  const SHARDS = 64;

  it('gives every node the same owners from the same live set', () => {
    const a = new ShardPlacement('a', SHARDS, 1000);
    const b = new ShardPlacement('b', SHARDS, 1000);
    a.heard('b', 0); b.heard('a', 0);
    const ownedA = a.owned(500);
    const ownedB = b.owned(500);
    assert.equal(ownedA.size + ownedB.size, SHARDS);
    for (const s of ownedA) assert.ok(!ownedB.has(s));
    assert.ok(ownedA.size > 16 && ownedB.size > 16, `a fair share: ${ownedA.size}/${ownedB.size}`);
  });

  it('moves only the dead node\'s shards, and a joining node takes about 1/n', () => {
    const nodes = ['a', 'b', 'c'];
    const before = new Map<number, string>();
    for (let s = 0; s < SHARDS; s++) before.set(s, rendezvousOwner(s, nodes)!);
    let moved = 0;
    for (let s = 0; s < SHARDS; s++) {
      const after = rendezvousOwner(s, ['a', 'b']);
      if (before.get(s) !== 'c') assert.equal(after, before.get(s), 'a survivor keeps its shards');
      else moved++;
    }
    assert.ok(moved > 10);
    const joined = [...Array(SHARDS).keys()].filter((s) => rendezvousOwner(s, ['a', 'b', 'c', 'd']) === 'd').length;
    assert.ok(joined > 8 && joined < 28, `d took ${joined}`);
  });

  it('forgets a node unheard for the timeout, or one that said goodbye', () => {
    const p = new ShardPlacement('a', SHARDS, 1000);
    p.heard('b', 0);
    p.heard('c', 0);
    assert.deepEqual(p.liveNodes(900), ['a', 'b', 'c']);
    p.heard('b', 900);
    assert.deepEqual(p.liveNodes(1500), ['a', 'b']);
    p.left('b');
    assert.deepEqual(p.liveNodes(1500), ['a']);
    assert.equal(p.owned(1500).size, SHARDS);
  });
});
