import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, DEFAULTS } from '../../src/config.ts';

describe('config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));

  it('has defaults, and generates and keeps a JWT secret in the data folder', () => {
    const c = loadConfig({ DATA_DIR: dir });
    assert.equal(c.port, DEFAULTS.PORT);
    assert.equal(c.jwtTtl, '5d');
    assert.ok(c.jwtSecret.length >= 32);
    assert.equal(readFileSync(join(dir, 'jwt-secret'), 'utf8').trim(), c.jwtSecret);
    assert.equal(loadConfig({ DATA_DIR: dir }).jwtSecret, c.jwtSecret);
  });

  it('stops on a bad value with a message naming the setting', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ PORT: 'eighty' }, /PORT must be a whole number/],
      [{ PORT: '70000' }, /PORT must be between 0 and 65535/],
      [{ JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32/],
      [{ JWT_TTL: 'forever' }, /JWT_TTL must look like/],
      [{ SWITCHBOARD_TEST_FAULTS: 'maybe' }, /SWITCHBOARD_TEST_FAULTS must be/],
      [{ ACTOR_HOSTS: '0' }, /ACTOR_HOSTS must be between 1/],
      [{ USER_QUOTA_BYTES: '1GiB' }, /USER_QUOTA_BYTES must be a whole number/],
      [{ FILE_CHUNK_BYTES: String(64 * 1024 * 1024) }, /FILE_CHUNK_BYTES must be between 256 and 8388608/],
    ];
    for (const [env, message] of bad) {
      assert.throws(() => loadConfig({ DATA_DIR: dir, ...env }), (e: unknown) => e instanceof ConfigError && message.test(e.message));
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
