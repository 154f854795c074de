// Third-party tools a test runs against our servers (grpcurl, promtool), installed by the
// project's own scripts under scripts/tools/. Outside CI a tool that cannot be installed
// skips its tests loudly; with CI set it fails them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;

/** The tool's path, or why it is not there (already reported). Throws under CI. */
export async function installTool(name: string, script: string, timeoutMs: number): Promise<{ path: string } | { reason: string }> {
  let reason: string;
  try {
    const { stdout } = await run('bash', [script], { cwd: ROOT, timeout: timeoutMs });
    return { path: stdout.trim().split('\n').pop()! };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    reason = `${script} failed: ${(err.stderr || err.message).trim().split('\n').slice(-3).join(' | ')}`;
  }
  if (process.env.CI) throw new Error(`CI needs ${name}: ${reason}`);
  process.stderr.write(`\n*** SKIPPING the ${name} tests: ${reason}\n\n`);
  return { reason };
}

/** `describe`'s skip option for a tool: false, or the reason. */
export const skipUnless = (name: string, tool: { path: string } | { reason: string }): string | false =>
  'reason' in tool ? `${name} unavailable: ${tool.reason}` : false;
