// CLI: `switchboard serve` (the default). Settings come from the environment (README).
import { ConfigError, loadConfig } from './config.ts';
import { describe } from './errors.ts';
import { log } from './log.ts';

const USAGE = `usage: switchboard [serve]
  serve   run the server (default). Settings are environment variables: see README.md.`;

async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  // Imported here so a config error is reported before the native module loads.
  const { Server } = await import('./Server.ts');
  const server = new Server(config);
  await server.start();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    server.stop().then(() => process.exit(0), (e) => {
      log.error('shutdown failed', { err: describe(e) });
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const command = process.argv[2] ?? 'serve';
if (command === 'serve') {
  serve().catch((e) => {
    // The reason first and whole (a port or data folder in use, say); the stack for a bug.
    log.error('failed to start', { reason: e instanceof Error ? e.message : String(e), err: describe(e) });
    process.exit(1);
  });
} else {
  process.stderr.write(`${USAGE}\n`);
  process.exit(command === '--help' || command === '-h' ? 0 : 2);
}
