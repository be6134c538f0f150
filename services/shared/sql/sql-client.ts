/** A value bound to a `?` placeholder; bytes are read back as Buffer (BLOB, BYTEA). */
export type SqlValue = string | number | bigint | Uint8Array | null;

/**
 * One schema change. Statements are portable SQL unless a dialect needs its
 * own text; a migration never changes once released, the next one fixes it.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string | { sqlite: string; postgres: string };
}

/** Statements, on a client or inside one of its transactions. */
export interface SqlQueries {
  readonly dialect: 'sqlite' | 'postgres';
  query<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
}

/**
 * The little a store needs from a SQL database, so one store implementation
 * runs on SQLite (embedded, one machine) and PostgreSQL (a cluster).
 * Statements use `?` placeholders; clients translate for their driver.
 * Unique-constraint failures surface as UniqueViolationError.
 */
export interface SqlClient extends SqlQueries {
  /**
   * Runs `work` in one transaction, whose statements go through `tx`: it
   * commits when `work` resolves and rolls back when it throws, and nothing
   * else on this client sees or interleaves with it before then. The outbox
   * relies on it: a user and its event are stored together or not at all.
   */
  transaction<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T>;
  /** Applies pending migrations, in version order, each in its own transaction. */
  migrate(migrations: readonly Migration[]): Promise<number>;
  close(): Promise<void>;
}

export function migrationSql(migration: Migration, dialect: SqlClient['dialect']): string {
  return typeof migration.sql === 'string' ? migration.sql : migration.sql[dialect];
}

/** `(?, ?, ?)` for an IN list of `count` values. */
export function placeholders(count: number): string {
  return `(${Array.from({ length: count }, () => '?').join(', ')})`;
}
