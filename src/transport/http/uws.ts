// uWebSockets.js, native only. The package silently falls back to a slow JS server when
// its binary does not match this Node (its builds stop at ABI 115, Node 20): we load the
// binary ourselves and refuse to start without it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as UWS from 'uWebSockets.js';

const require = createRequire(import.meta.url);

function loadNative(): typeof UWS {
  const pkg = dirname(require.resolve('uWebSockets.js/package.json'));
  const binary = join(pkg, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    return require(binary) as typeof UWS;
  } catch (e) {
    throw new Error(
      `uWebSockets.js has no native build for Node ${process.version} (ABI ${process.versions.modules}) on ` +
      `${process.platform}-${process.arch}; run Switchboard on Node 20. (${(e as Error).message.split('\n')[0]})`,
    );
  }
}

export const uWS = loadNative();

/** libusockets' LIBUS_LISTEN_EXCLUSIVE_PORT: bind without SO_REUSEPORT. */
export const LISTEN_EXCLUSIVE_PORT = 1;

/**
 * Listens without SO_REUSEPORT (uWS sets it by default): a second process on the same port
 * then fails to start instead of silently sharing the port's connections with the first,
 * and a port 0 never comes back as a port another server holds.
 */
export function listenExclusive(
  app: UWS.TemplatedApp, host: string, port: number, cb: (socket: UWS.us_listen_socket | false) => void,
): void {
  // The typings lack the (host, port, options, cb) form the native build has.
  (app.listen as unknown as (h: string, p: number, o: number, c: typeof cb) => void)(host, port, LISTEN_EXCLUSIVE_PORT, cb);
}
export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
