// Real services for integration and contract tests. Outside CI a missing service skips its
// suites loudly; with CI set it fails them, so CI can never pass without them.
import { connect } from 'node:net';

export const MONGO_URL = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

function reachable(url: string, dfltPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || dfltPort) });
    s.setTimeout(1000);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });
}

/**
 * The reason to skip a suite that needs `service`, or undefined when it is up.
 * Throws under CI: a missing service there is a failure, not a skip.
 */
export async function serviceMissing(service: 'mongodb' | 'rabbitmq'): Promise<string | undefined> {
  const [url, port, script] = service === 'mongodb'
    ? [MONGO_URL, 27017, 'scripts/services/mongo.sh start']
    : [AMQP_URL, 5672, 'scripts/services/rabbitmq.sh start'];
  if (await reachable(url, port)) return undefined;
  const reason = `${service} is not reachable at ${new URL(url).host}; start it with \`${script}\``;
  if (process.env.CI) throw new Error(`CI: ${reason}`);
  process.stderr.write(`\n*** SKIPPING ${service} suites: ${reason} ***\n\n`);
  return reason;
}

/** A database of its own for one test file: mongodb://host/db */
export function mongoDatabaseUrl(name: string): string {
  const u = new URL(MONGO_URL);
  u.pathname = `/${name}_${process.pid}_${Date.now().toString(36)}`;
  return u.toString();
}
