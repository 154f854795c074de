// Reading a server's /metrics in tests.
import assert from 'node:assert/strict';
import type { RunningServer } from './server.ts';

/** Samples of an exposition text: `name{a="x",b="y"}` (labels as written) -> value. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

export async function scrape(server: RunningServer): Promise<{ contentType: string; text: string }> {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  return { contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}
