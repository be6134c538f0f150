// A bad setting stops the real entry point with one clear line naming the
// variable (and never echoing a secret), instead of a stack trace.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from '../support/grpcurl.js';

function start(service: 'user' | 'product', env: Record<string, string>) {
  return spawnSync(process.execPath, [join(repo, `dist/services/${service}/main.js`)], {
    cwd: repo,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('configuration errors', () => {
  it.each([
    ['user', { GRPC_PORT: 'http' }, 'GRPC_PORT'],
    ['user', { SHUTDOWN_GRACE: '30' }, 'SHUTDOWN_GRACE'],
    ['user', { LOG_LEVEL: 'chatty' }, 'LOG_LEVEL'],
    ['product', { USER_SERVICE_ADDRESS: 'user-service' }, 'USER_SERVICE_ADDRESS'],
    ['product', { USER_SERVICE_TIMEOUT: '0ms' }, 'USER_SERVICE_TIMEOUT'],
  ] as const)('%s-service with %o exits 1 with one line naming %s', (service, env, name) => {
    const result = start(service, env);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^${service}-service: invalid configuration: ${name}: expected `),
    );
  });

  it('does not echo a malformed DATABASE_URL, which may hold a password', () => {
    const result = start('user', { DATABASE_URL: 'mysql://admin:hunter2@db/users' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL');
    expect(result.stderr).not.toContain('hunter2');
  });
});
