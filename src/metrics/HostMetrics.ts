// An actor host thread's metrics: actors by kind (active, activated, deactivated and why),
// and the messages they handled. Read from the host when scraped, so the hot path pays for
// a counter increment at most.
import { Counter, Gauge, Registry } from 'prom-client';
import type { ActorHost } from '../actors/ActorHost.ts';
import { ACTOR_KINDS } from '../ids.ts';

export function hostMetrics(host: ActorHost): Registry {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'switchboard_actors_active', help: 'Actors activated and not yet passivated, by kind.', labelNames: ['kind'], registers,
    collect() {
      const byKind = host.activeByKind();
      for (const kind of ACTOR_KINDS) this.set({ kind }, byKind[kind] ?? 0);
    },
  });
  const activations = new Counter({
    name: 'switchboard_actor_activations_total', help: 'Actors activated (first message, or rebuilt from storage), by kind.',
    labelNames: ['kind'], registers,
  });
  const deactivations = new Counter({
    name: 'switchboard_actor_deactivations_total',
    help: 'Actors deactivated, by kind and reason (idle, crash, moved to another node, shutdown).',
    labelNames: ['kind', 'reason'], registers,
  });
  new Counter({
    name: 'switchboard_actor_messages_total', help: 'Messages actors handled, by kind.', labelNames: ['kind'], registers,
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(host.handledByKind())) this.inc({ kind }, n);
    },
  });
  host.observer.on('activated', (kind: string) => activations.inc({ kind }));
  host.observer.on('deactivated', (kind: string, reason: string) => deactivations.inc({ kind, reason }));
  return registry;
}
