// The migrate commands, for teams that migrate before deploying: the real
// compiled entry points against a real PostgreSQL and SQLite.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import {
  type PostgresServer,
  type ServiceDatabase,
  startPostgres,
} from '../../scripts/lib/postgres-server.js';
import { productMigrations } from '../../services/product/migrations.js';
import { createSqliteClient } from '../../services/shared/sql/sqlite-client.js';
import { userMigrations } from '../../services/user/migrations.js';
import { repo } from '../support/grpcurl.js';

let server: PostgresServer;
let users: ServiceDatabase;
beforeAll(async () => {
  server = await startPostgres();
  users = await server.createDatabase('migrate');
});
afterAll(() => server.close());

function migrate(service: 'user' | 'product', env: Record<string, string>) {
  const result = spawnSync(process.execPath, [join(repo, `dist/services/${service}/migrate.js`)], {
    cwd: repo,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const lines = `${result.stdout}${result.stderr}`.trim().split('\n').filter(Boolean);
  return {
    status: result.status,
    lines,
    get json() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

describe('migrate command', () => {
  it('applies pending migrations once, then finds nothing to do', async () => {
    const first = migrate('user', { DATABASE_URL: users.url });
    expect(first.status).toBe(0);
    expect(first.json).toEqual([
      expect.objectContaining({
        msg: 'schema up to date',
        applied: userMigrations.length,
        dialect: 'postgres',
      }),
    ]);
    const tables = await server.admin<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'user_service' ORDER BY 1",
      [],
      users.database,
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      'event_relays',
      'schema_migrations',
      'user_events',
      'users',
    ]);
    const again = migrate('user', { DATABASE_URL: users.url });
    expect(again.status).toBe(0);
    expect(again.json).toEqual([expect.objectContaining({ applied: 0 })]);
  });

  it('works on SQLite too', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shop-migrate-'));
    try {
      const result = migrate('product', { DATA_DIR: dataDir });
      expect(result.status).toBe(0);
      expect(result.json).toEqual([
        expect.objectContaining({ applied: productMigrations.length, dialect: 'sqlite' }),
      ]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('lets two processes migrate one SQLite file at once: one applies, the other finds it done', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'shop-migrate-race-'));
    try {
      const run = () =>
        new Promise<{ status: number | null; out: string }>((resolve) => {
          const child = spawn(process.execPath, [join(repo, 'dist/services/user/migrate.js')], {
            cwd: repo,
            env: { PATH: process.env.PATH, DATA_DIR: dataDir },
          });
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk;
          });
          child.on('exit', (status) => resolve({ status, out }));
        });
      // Hold the write lock while both start, so they reach the migration
      // together instead of one after the other.
      const file = join(dataDir, 'user-service.sqlite');
      const holder = createSqliteClient(file);
      await holder.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      await holder.query('BEGIN IMMEDIATE');
      const running = [run(), run()];
      await new Promise((r) => setTimeout(r, 1500));
      await holder.query('COMMIT');
      await holder.close();
      const results = await Promise.all(running);
      expect(
        results.map((r) => r.status),
        results.map((r) => r.out).join('\n'),
      ).toEqual([0, 0]);
      const applied = results.map((r) => (JSON.parse(r.out.trim()) as { applied: number }).applied);
      expect(applied.reduce((a, b) => a + b, 0)).toBe(userMigrations.length);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('exits 1 with one line when the database cannot be reached', async () => {
    const port = await freePort();
    const result = migrate('product', {
      DATABASE_URL: `postgres://nobody:secret@127.0.0.1:${port}/products`,
      DATABASE_CONNECT_TIMEOUT: '2s',
    });
    expect(result.status).toBe(1);
    expect(result.json).toEqual([
      expect.objectContaining({ level: 'fatal', msg: 'migration failed' }),
    ]);
    expect(result.lines.join('\n')).not.toContain('secret');
  });

  it('exits 1 with one line naming a bad variable', () => {
    const result = migrate('user', { DATABASE_URL: users.url, DATABASE_POOL_MAX: 'lots' });
    expect(result.status).toBe(1);
    expect(result.lines).toEqual([
      expect.stringMatching(
        /^user-service migrate: invalid configuration: DATABASE_POOL_MAX: expected /,
      ),
    ]);
  });
});
