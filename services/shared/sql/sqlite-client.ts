import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { UniqueViolationError } from '../errors/unique-violation-error.js';
import { inQuerySpan } from '../telemetry/query-span.js';
import { type Migration, migrationSql, type SqlClient, type SqlValue } from './sql-client.js';

/**
 * better-sqlite3 objects of closed clients. On Node 24.19 and later, better-sqlite3 12
 * (which Node 20 needs; 13 fixes this but requires Node 22) aborts the process when the GC
 * finalizes one of its objects outside a JavaScript context (nodejs/node#65446), so none is
 * ever let go. A closed database holds little; services close theirs once, at exit.
 */
const closedForGood: unknown[] = [];

/** The transaction open on a database file, if any (see gateOf). */
interface TransactionGate {
  open: Promise<unknown> | undefined;
}

const gatesByFile = new Map<string, TransactionGate>();

/**
 * While a transaction awaits between its statements, every other query and
 * transaction on its file in this process waits for it to end. On its own
 * connection, another caller's statement would run inside the transaction
 * and be rolled back with it; on another connection to the same file (two
 * "replicas" in one test process), it would wait for SQLite's lock in a
 * blocking busy handler, which stops the one thread that could commit. So
 * the gate is per file, shared by this process's clients of it; other
 * processes wait in the busy handler, as before, for the microseconds a
 * transaction lasts.
 */
function gateOf(path: string): TransactionGate {
  if (path === ':memory:') return { open: undefined };
  const key = resolve(path);
  let gate = gatesByFile.get(key);
  if (!gate) {
    gate = { open: undefined };
    gatesByFile.set(key, gate);
  }
  return gate;
}

/**
 * SQLite through better-sqlite3, for one machine: WAL so reads never wait for
 * the writer, synchronous=FULL so an acknowledged write survives a power cut,
 * and 64-bit integers read as bigint so money amounts stay exact.
 *
 * `path` is a file, or ':memory:' for tests.
 */
export function createSqliteClient(path: string): SqlClient {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // exec, not pragma(): pragma() leaves a Statement behind for the GC (see below).
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  db.defaultSafeIntegers(true);

  // Each distinct statement is prepared once and kept: that saves a parse per
  // query, and no Statement ever becomes garbage (see closedForGood). The
  // statements are the stores' fixed SQL texts (IN lists vary up to 100
  // placeholders), so the cache is bounded.
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  const run = <Row>(sql: string, params: readonly SqlValue[]): Row[] => {
    const statement = prepare(sql);
    // better-sqlite3 binds Buffers, not other Uint8Arrays (a ts-proto encoding).
    const bound = params.map((p) =>
      p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p) : p,
    );
    try {
      if (statement.reader) return statement.all(...bound) as Row[];
      statement.run(...bound);
      return [];
    } catch (error) {
      throw translate(error);
    }
  };

  const gate = gateOf(path);
  const inTransaction = {
    dialect: 'sqlite' as const,
    async query<Row extends object>(sql: string, params: readonly SqlValue[] = []) {
      return inQuerySpan('sqlite', sql, () => run<Row>(sql, params));
    },
  };

  return {
    dialect: 'sqlite',
    async query<Row extends object>(sql: string, params: readonly SqlValue[] = []) {
      // Checked again after each wait: another transaction may have begun.
      while (gate.open) await gate.open.catch(() => {});
      return inQuerySpan('sqlite', sql, () => run<Row>(sql, params));
    },
    async transaction<T>(work: (tx: typeof inTransaction) => Promise<T>): Promise<T> {
      while (gate.open) await gate.open.catch(() => {});
      const running = (async () => {
        // IMMEDIATE takes the write lock now: another process writing the
        // file makes this wait (busy_timeout) here, not fail at the first write.
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(inTransaction);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      })();
      gate.open = running;
      try {
        return await running;
      } finally {
        gate.open = undefined;
      }
    },
    async migrate(migrations: readonly Migration[]) {
      db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      // Each migration in its own IMMEDIATE transaction, which takes the
      // write lock first: a second process starting at the same time waits
      // (busy_timeout), then sees the version applied and skips it.
      const applyOnce = db.transaction((migration: Migration) => {
        const done = run('SELECT 1 FROM schema_migrations WHERE version = ?', [migration.version]);
        if (done.length > 0) return false;
        db.exec(migrationSql(migration, 'sqlite'));
        run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          migration.version,
          migration.name,
          new Date().toISOString(),
        ]);
        return true;
      });
      let count = 0;
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applyOnce.immediate(migration)) count++;
      }
      return count;
    },
    async close() {
      if (!db.open) return;
      db.close();
      // Closed, but never garbage, for the same reason as the statements: a
      // process that opens many databases (a test run) must not crash on Node 24.
      closedForGood.push(db, ...statements.values());
      statements.clear();
    },
  };
}

/** "UNIQUE constraint failed: users.email" → UniqueViolationError('email'). */
function translate(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const column = /failed: \w+\.(\w+)/.exec((error as Error).message)?.[1] ?? 'unknown';
    return new UniqueViolationError(column, { cause: error });
  }
  return error;
}
