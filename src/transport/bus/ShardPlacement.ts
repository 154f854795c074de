// Which node owns which shard, in cluster mode. Nodes announce themselves with heartbeats;
// a node unheard for `nodeTimeoutMs` is dead. Every node computes the same owners from the
// same live set by rendezvous (highest random weight) hashing, so a node that dies loses
// only its own shards, and a node that joins takes about 1/n of them.
export function rendezvousOwner(shard: number, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const node of nodes) {
    const w = weight(`${shard}/${node}`);
    if (w > bestWeight || (w === bestWeight && best !== undefined && node < best)) {
      best = node;
      bestWeight = w;
    }
  }
  return best;
}

function weight(key: string): number {
  // FNV-1a then a murmur3 finalizer, for a well-spread 32-bit weight.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class ShardPlacement {
  readonly #self: string;
  readonly #shards: number;
  readonly #timeoutMs: number;
  readonly #lastSeen = new Map<string, number>();

  constructor(self: string, shards: number, nodeTimeoutMs: number) {
    this.#self = self;
    this.#shards = shards;
    this.#timeoutMs = nodeTimeoutMs;
  }

  /** A heartbeat from `node` (our own included). */
  heard(node: string, now = Date.now()): void {
    this.#lastSeen.set(node, now);
  }

  /** A node said goodbye (clean shutdown). */
  left(node: string): void {
    this.#lastSeen.delete(node);
  }

  liveNodes(now = Date.now()): string[] {
    const live = [this.#self];
    for (const [node, seen] of this.#lastSeen) {
      if (node !== this.#self && now - seen <= this.#timeoutMs) live.push(node);
    }
    return live.sort();
  }

  /** The shards this node owns among the live nodes. */
  owned(now = Date.now()): Set<number> {
    const nodes = this.liveNodes(now);
    const mine = new Set<number>();
    for (let s = 0; s < this.#shards; s++) if (rendezvousOwner(s, nodes) === this.#self) mine.add(s);
    return mine;
  }
}
