// What the PostgreSQL client adds to the storage contract: placeholder
// translation, pool settings from the environment, timeouts and outages as
// UNAVAILABLE, recovery from lost connections, and migrations serialised by
// an advisory lock. Against a real server (scripts/lib/postgres-server.ts).
import { status } from '@grpc/grpc-js';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type PostgresServer,
  type ServiceDatabase,
  startPostgres,
} from '../../scripts/lib/postgres-server.js';
import { ServerError } from '../../services/shared/errors/server-error.js';
import { UniqueViolationError } from '../../services/shared/errors/unique-violation-error.js';
import { ConfigError } from '../../services/shared/process/config.js';
import { readServiceConfig } from '../../services/shared/process/service-config.js';
import {
  createPostgresClient,
  migrationLockKey,
  type PostgresClientOptions,
  toPostgresPlaceholders,
} from '../../services/shared/sql/postgres-client.js';
import type { SqlClient } from '../../services/shared/sql/sql-client.js';
import { userMigrations } from '../../services/user/migrations.js';

describe('toPostgresPlaceholders', () => {
  it.each([
    [
      'SELECT a FROM t WHERE b = ? AND c > ? LIMIT ?',
      'SELECT a FROM t WHERE b = $1 AND c > $2 LIMIT $3',
    ],
    ['SELECT 1', 'SELECT 1'],
    ['SELECT \'?\', "a?b" FROM t WHERE x = ?', 'SELECT \'?\', "a?b" FROM t WHERE x = $1'],
    ["SELECT 'it''s ?' WHERE y IN (?, ?)", "SELECT 'it''s ?' WHERE y IN ($1, $2)"],
    ['SELECT ? -- why?\n, /* or ? */ ?', 'SELECT $1 -- why?\n, /* or ? */ $2'],
  ])('%j', (sql, expected) => {
    expect(toPostgresPlaceholders(sql)).toBe(expected);
  });
});

describe('PostgreSQL settings from the environment', () => {
  const base = { DATABASE_URL: 'postgres://u:p@db:5432/users' };

  it('defaults suit a small pod, and the schema is named after the service', () => {
    expect(readServiceConfig(base, 'user-service', 50051).storage).toEqual({
      kind: 'postgres',
      url: base.DATABASE_URL,
      schema: 'user_service',
      applicationName: 'user-service',
      pool: { max: 5, connectTimeoutMs: 5000, statementTimeoutMs: 5000, idleTimeoutMs: 30_000 },
    });
  });

  it('reads every pool setting', () => {
    const env = {
      ...base,
      DATABASE_SCHEMA: 'shop_users',
      DATABASE_POOL_MAX: '12',
      DATABASE_CONNECT_TIMEOUT: '2s',
      DATABASE_STATEMENT_TIMEOUT: '1500ms',
      DATABASE_IDLE_TIMEOUT: '1m',
    };
    expect(readServiceConfig(env, 'user-service', 50051).storage).toMatchObject({
      schema: 'shop_users',
      pool: { max: 12, connectTimeoutMs: 2000, statementTimeoutMs: 1500, idleTimeoutMs: 60_000 },
    });
  });

  it.each([
    ['DATABASE_POOL_MAX', '0'],
    ['DATABASE_CONNECT_TIMEOUT', '5'],
    ['DATABASE_STATEMENT_TIMEOUT', 'soon'],
    ['DATABASE_SCHEMA', 'Users; DROP'],
  ])('rejects a bad %s, naming it', (name, value) => {
    expect(() => readServiceConfig({ ...base, [name]: value }, 'user-service', 50051)).toThrow(
      new RegExp(`^${name}: `),
    );
    expect(() => readServiceConfig({ ...base, [name]: value }, 'user-service', 50051)).toThrow(
      ConfigError,
    );
  });
});

describe('PostgreSQL client', () => {
  let server: PostgresServer;
  let database: ServiceDatabase;
  const clients: SqlClient[] = [];
  let n = 0;

  beforeAll(async () => {
    server = await startPostgres();
    database = await server.createDatabase('client');
  });
  afterAll(() => server?.close());
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  const open = (options: Partial<PostgresClientOptions> = {}) => {
    const client = createPostgresClient({
      url: database.url,
      schema: `s${++n}`,
      ...options,
    });
    clients.push(client);
    return client;
  };

  async function rejection(promise: Promise<unknown>): Promise<ServerError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof ServerError)) throw new Error(`expected a ServerError, got ${error}`);
    return error;
  }

  it('applies pool settings and the schema to every connection', async () => {
    const db = open({
      schema: 'tuned',
      applicationName: 'user-service',
      pool: { statementTimeoutMs: 1234 },
    });
    await db.migrate(userMigrations);
    const [row] = await db.query<Record<string, string>>(
      "SELECT current_setting('statement_timeout') AS st, current_setting('application_name') AS app, current_schema() AS schema",
    );
    expect(row).toEqual({ st: '1234ms', app: 'user-service', schema: 'tuned' });
  });

  it('reads BIGINT as bigint and binds bigint parameters exactly', async () => {
    const db = open();
    const [row] = await db.query<{ big: bigint; small: number }>(
      'SELECT ?::bigint AS big, ?::integer AS small',
      [-9_223_372_036_854_775_808n, 7],
    );
    expect(row).toEqual({ big: -9_223_372_036_854_775_808n, small: 7 });
  });

  it('opens at most DATABASE_POOL_MAX connections however many queries wait', async () => {
    const db = open({ applicationName: 'pool-max-test', pool: { max: 3 } });
    const counts = await Promise.all(
      Array.from({ length: 12 }, () =>
        db.query<{ n: bigint }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pool-max-test' AND pg_sleep(0.05) IS NOT NULL",
        ),
      ),
    );
    expect(Math.max(...counts.map(([r]) => Number(r?.n)))).toBeLessThanOrEqual(3);
  });

  it('keeps its connection after a unique violation', async () => {
    const db = open({ pool: { max: 1 } });
    await db.migrate(userMigrations);
    const insert = (id: string, name: string) =>
      db.query('INSERT INTO users (id, username, email, create_time) VALUES (?, ?, ?, now())', [
        id,
        name,
        `${name}@example.com`,
      ]);
    const [before] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await insert('a', 'ada');
    await expect(insert('b', 'ada')).rejects.toBeInstanceOf(UniqueViolationError);
    await expect(insert('a', 'bob')).rejects.toMatchObject({ column: 'id' });
    const [after] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(after?.pid).toBe(before?.pid);
  });

  it('turns a statement over the timeout into UNAVAILABLE', async () => {
    const db = open({ pool: { statementTimeoutMs: 100 } });
    const error = await rejection(db.query('SELECT pg_sleep(2)'));
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details.reason).toBe('DATABASE_TIMEOUT');
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('turns an unreachable server into UNAVAILABLE, for queries and migrations', async () => {
    const url = 'postgres://nobody:secret@127.0.0.1:1/nowhere';
    const db = open({ url, pool: { connectTimeoutMs: 500 } });
    for (const attempt of [db.query('SELECT 1'), db.migrate(userMigrations)]) {
      const error = await rejection(attempt);
      expect(error.code).toBe(status.UNAVAILABLE);
      expect(error.details.reason).toBe('DATABASE_UNAVAILABLE');
      expect(error.message).not.toContain('secret');
    }
  });

  it('turns rejected credentials into UNAVAILABLE without echoing them', async () => {
    const db = open({ url: server.url(database.database, database.role, 'wrong-password') });
    const error = await rejection(db.query('SELECT 1'));
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.message).not.toContain('wrong-password');
  });

  it('recovers by itself when the server drops its connections', async () => {
    const db = open({ applicationName: 'dropped', pool: { max: 2 } });
    await Promise.all([db.query('SELECT pg_sleep(0.05)'), db.query('SELECT pg_sleep(0.05)')]);
    // Idle connections killed: the next queries open new ones.
    await server.admin(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dropped'",
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    // A connection killed mid-query fails that query as UNAVAILABLE, not the next.
    const running = rejection(db.query('SELECT pg_sleep(5)'));
    await new Promise((r) => setTimeout(r, 200));
    await server.admin(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dropped' AND query LIKE '%pg_sleep(5)%'",
    );
    expect((await running).code).toBe(status.UNAVAILABLE);
    expect(await db.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });

  it('waits for the migration lock another replica holds', async () => {
    const schema = `locked${++n}`;
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [String(migrationLockKey(schema))]);
      const db = open({ schema });
      let done = false;
      const migrating = db.migrate(userMigrations).then((applied) => {
        done = true;
        return applied;
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(done).toBe(false);
      await holder.query('SELECT pg_advisory_unlock($1)', [String(migrationLockKey(schema))]);
      expect(await migrating).toBe(userMigrations.length);
    } finally {
      await holder.end();
    }
  });

  it('gives each schema its own lock and ledger', () => {
    expect(migrationLockKey('user_service')).toBe(migrationLockKey('user_service'));
    expect(migrationLockKey('user_service')).not.toBe(migrationLockKey('product_service'));
  });

  it('uses a schema made ready by an operator, without needing CREATE on the database', async () => {
    const role = `limited_${Math.random().toString(36).slice(2, 8)}`;
    await server.admin(`CREATE ROLE ${role} LOGIN PASSWORD 'limited'`);
    try {
      await server.admin(`GRANT CONNECT ON DATABASE ${database.database} TO ${role}`);
      await server.admin(`CREATE SCHEMA ${role} AUTHORIZATION ${role}`, [], database.database);
      const url = server.url(database.database, role, 'limited');
      const db = open({ url, schema: role });
      expect(await db.migrate(userMigrations)).toBe(userMigrations.length);
      const denied = open({ url, schema: 'other' });
      await expect(denied.migrate(userMigrations)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await server.admin(`DROP OWNED BY ${role}`, [], database.database);
      await server.admin(`DROP ROLE ${role}`);
    }
  });

  it('closes more than once without complaint', async () => {
    const db = open();
    await db.query('SELECT 1');
    await db.close();
    await db.close();
  });
});
