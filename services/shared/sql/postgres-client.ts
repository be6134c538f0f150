import { createHash } from 'node:crypto';
import pg from 'pg';
import { ServerError } from '../errors/server-error.js';
import type { Logger } from '../process/logger.js';
import { defaultPostgresPool, type PostgresPoolConfig } from '../process/service-config.js';
import {
  type Migration,
  migrationSql,
  type SqlClient,
  type SqlQueries,
  type SqlValue,
} from './sql-client.js';
import { translatePostgresError } from './translate-postgres-error.js';

export interface PostgresClientOptions {
  /** postgres:// URL with credentials; PG* environment variables fill what it leaves out. */
  url: string;
  /**
   * Schema for the tables and the migration ledger, first on every
   * connection's search_path; migrate() creates it when missing.
   * Default: the server's search_path (usually `public`).
   */
  schema?: string;
  /** Default: defaultPostgresPool. */
  pool?: Partial<PostgresPoolConfig>;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Where lost idle connections are reported. Default: nowhere. */
  log?: Logger;
}

const INT8_OID = 20;
/** BIGINT as bigint, as SQLite gives it, so money amounts stay exact. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => BigInt(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * `?` placeholders as PostgreSQL's `$1, $2, …`. Quoted strings, quoted
 * identifiers and comments are copied as they are; dollar-quoted bodies are
 * not recognised, and statements with parameters never contain them.
 */
export function toPostgresPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\?/g, (token) =>
    token === '?' ? `$${++n}` : token,
  );
}

/** The session advisory lock that serialises migrations of one schema across replicas. */
export function migrationLockKey(schema: string): bigint {
  return createHash('sha256').update(`schema_migrations:${schema}`).digest().readBigInt64BE(0);
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * PostgreSQL through a node-postgres pool. Connections open lazily, so
 * creating the client never fails on an unreachable server; a connection the
 * server drops (restart, failover, idle kill) is discarded and the next query
 * opens a new one, so the client recovers without a process restart.
 * Connection failures and timeouts surface as UNAVAILABLE ServiceErrors,
 * unique violations as UniqueViolationError.
 */
export function createPostgresClient(options: PostgresClientOptions): SqlClient {
  const settings = { ...defaultPostgresPool, ...options.pool };
  const { schema, log } = options;
  const connection: pg.ClientConfig = {
    connectionString: options.url,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // Finds a peer that vanished without closing the socket (node crash, network cut).
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    types,
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName }),
  };
  const pool = new pg.Pool({
    ...connection,
    max: settings.max,
    idleTimeoutMillis: settings.idleTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    // Backstop for a server that stopped answering without closing the
    // socket: the statement timeout cannot fire there. A timed-out
    // connection is discarded, never reused.
    query_timeout: settings.statementTimeoutMs + settings.connectTimeoutMs,
    ...(schema === undefined
      ? {}
      : { onConnect: (client) => client.query(`SET search_path TO ${quoteIdent(schema)}`) }),
  });
  // The pool drops an idle connection that failed; without a listener that
  // 'error' would end the process.
  pool.on('error', (error) => {
    log?.warn(
      { err: { message: error.message, code: (error as { code?: unknown }).code } },
      'idle database connection lost; the next query opens a new one',
    );
  });
  // A checked-out client that fails rejects its query; this listener only
  // keeps the same failure, emitted as an event, from being uncaught.
  pool.on('connect', (client) => client.on('error', () => {}));
  let closed: Promise<void> | undefined;

  const connect = async () => {
    try {
      return await pool.connect();
    } catch (error) {
      throw translatePostgresError(error);
    }
  };
  /** Gives a connection back, or discards it when `error` may have left it unusable. */
  const release = (client: pg.PoolClient, error?: unknown) => {
    // A statement the server rejected leaves the connection usable; a
    // lost socket, a read timeout or a server shutting down do not.
    const reusable =
      error === undefined ||
      (error instanceof pg.DatabaseError &&
        !(translatePostgresError(error) instanceof ServerError));
    client.release(reusable ? undefined : true);
  };
  const run = async <Row extends object>(
    client: pg.PoolClient,
    sql: string,
    params: readonly SqlValue[],
  ) => (await client.query<Row>(toPostgresPlaceholders(sql), [...params])).rows;

  return {
    dialect: 'postgres',
    async query<Row extends object>(sql: string, params: readonly SqlValue[] = []) {
      const client = await connect();
      try {
        const rows = await run<Row>(client, sql, params);
        release(client);
        return rows;
      } catch (error) {
        release(client, error);
        throw translatePostgresError(error);
      }
    },

    async transaction<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T> {
      const client = await connect();
      const tx: SqlQueries = {
        dialect: 'postgres',
        async query<Row extends object>(sql: string, params: readonly SqlValue[] = []) {
          try {
            return await run<Row>(client, sql, params);
          } catch (error) {
            throw translatePostgresError(error);
          }
        },
      };
      try {
        await client.query('BEGIN');
        const result = await work(tx);
        await client.query('COMMIT');
        release(client);
        return result;
      } catch (error) {
        // A connection that rolled back is clean whatever failed; one that
        // cannot roll back is lost, and discarded.
        await client.query('ROLLBACK').then(
          () => release(client),
          () => client.release(true),
        );
        throw translatePostgresError(error);
      }
    },

    async migrate(migrations: readonly Migration[]) {
      // Its own connection, without statement timeout: waiting for another
      // replica's lock, or building an index, may take longer than a query.
      const client = new pg.Client(connection);
      client.on('error', () => {});
      try {
        await client.connect();
        return await migrateOn(client, schema, migrations);
      } catch (error) {
        throw translatePostgresError(error);
      } finally {
        // Ending the session also releases the advisory lock if a step failed.
        await client.end().catch(() => {});
      }
    },

    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}

async function migrateOn(
  client: pg.Client,
  schema: string | undefined,
  migrations: readonly Migration[],
): Promise<number> {
  const lockSchema =
    schema ?? (await client.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s;
  await client.query('SELECT pg_advisory_lock($1)', [String(migrationLockKey(lockSchema ?? ''))]);
  if (schema !== undefined) {
    // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the
    // schema exists, and a role given a ready-made schema may lack it.
    const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(`SET search_path TO ${quoteIdent(schema)}`);
  }
  await client.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())',
  );
  const applied = new Set(
    (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
      (r) => r.version,
    ),
  );
  let count = 0;
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    await client.query('BEGIN');
    try {
      await client.query(migrationSql(migration, 'postgres'));
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    count++;
  }
  return count;
}
