// Group commit (services/shared/sql/group-commit.ts) on a real SQLite file
// and a real PostgreSQL: writes that arrive together share one transaction,
// a failing one is undone alone and answered only after the others have
// committed, and batches keep to their size. The transactions are counted by
// wrapping the real client (test side only).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../../scripts/lib/postgres-server.js';
import { UniqueViolationError } from '../../services/shared/errors/unique-violation-error.js';
import { createGroupCommit } from '../../services/shared/sql/group-commit.js';
import { createPostgresClient } from '../../services/shared/sql/postgres-client.js';
import type { SqlClient } from '../../services/shared/sql/sql-client.js';
import { createSqliteClient } from '../../services/shared/sql/sqlite-client.js';

let dir = '';
let postgres: PostgresServer;
let postgresUrl = '';
const clients: SqlClient[] = [];
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'group-commit-'));
  postgres = await startPostgres();
  postgresUrl = (await postgres.createDatabase('group_commit')).url;
}, 120_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await postgres?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Two clients on one fresh database with a table `items`, as two replicas would have. */
async function fresh(backend: 'sqlite' | 'postgres'): Promise<[SqlClient, SqlClient]> {
  n += 1;
  const open = () => {
    const client =
      backend === 'sqlite'
        ? createSqliteClient(join(dir, `db-${n}.sqlite`))
        : createPostgresClient({ url: postgresUrl, schema: `gc${n}`, pool: { max: 4 } });
    clients.push(client);
    return client;
  };
  const [a, b] = [open(), open()];
  await a.migrate([
    { version: 1, name: 'items', sql: 'CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER)' },
  ]);
  return [a, b];
}

/** The client, counting the transactions it begins. */
function counting(client: SqlClient) {
  const counted = { transactions: 0 };
  const wrapped: SqlClient = {
    ...client,
    transaction(work) {
      counted.transactions += 1;
      return client.transaction(work);
    },
  };
  return Object.assign(counted, { client: wrapped });
}

const count = async (client: SqlClient) =>
  Number((await client.query<{ c: bigint | string }>('SELECT COUNT(*) AS c FROM items'))[0]?.c);

describe.each(['sqlite', 'postgres'] as const)('group commit on %s', (backend) => {
  it('commits writes that arrive together in one transaction, and only then answers them', async () => {
    const [db, other] = await fresh(backend);
    const counted = counting(db);
    const writes = createGroupCommit(counted.client);
    const stored: number[] = [];
    const answers = Array.from({ length: 50 }, (_, i) =>
      writes
        .run((tx) => tx.query('INSERT INTO items (id, n) VALUES (?, ?)', [`item${i}`, i]))
        .then(async () => stored.push(await count(other))),
    );
    await Promise.all(answers);
    expect(counted.transactions).toBe(1);
    expect(await count(other)).toBe(50);
    // Every answer came after the commit: another client already saw all 50.
    expect(Math.min(...stored)).toBe(50);
  });

  it('undoes a failing write alone, and rejects it after the others have committed', async () => {
    const [db, other] = await fresh(backend);
    await db.query('INSERT INTO items (id, n) VALUES (?, ?)', ['taken', 0]);
    const writes = createGroupCommit(db);
    // Two statements in the failing write: the first must be undone with it.
    const failing = writes.run(async (tx) => {
      await tx.query('INSERT INTO items (id, n) VALUES (?, ?)', ['half', 1]);
      await tx.query('INSERT INTO items (id, n) VALUES (?, ?)', ['taken', 1]);
    });
    const seenAtRejection = failing.then(
      () => undefined,
      async (error: unknown) => ({ error, rows: await count(other) }),
    );
    const fine = ['a', 'b'].map((id) =>
      writes.run((tx) => tx.query('INSERT INTO items (id, n) VALUES (?, ?)', [id, 2])),
    );
    await Promise.all(fine);
    const rejected = await seenAtRejection;
    expect(rejected?.error).toBeInstanceOf(UniqueViolationError);
    expect(rejected?.rows).toBe(3); // taken, a, b
    const ids = await other.query<{ id: string }>('SELECT id FROM items ORDER BY id');
    expect(ids.map((r) => r.id)).toEqual(['a', 'b', 'taken']);
  });

  it('keeps batches to maxBatch and starts each with begin', async () => {
    const [db] = await fresh(backend);
    const counted = counting(db);
    let begun = 0;
    const writes = createGroupCommit(counted.client, {
      maxBatch: 10,
      begin: async () => {
        begun += 1;
      },
    });
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        writes.run((tx) => tx.query('INSERT INTO items (id, n) VALUES (?, ?)', [`x${i}`, i])),
      ),
    );
    expect(counted.transactions).toBe(3);
    expect(begun).toBe(3);
    expect(await count(db)).toBe(25);
  });

  it('rejects the whole batch when its transaction fails, storing none of it', async () => {
    const [db, other] = await fresh(backend);
    const writes = createGroupCommit(db, {
      // A batch that cannot even start: every write in it fails with it.
      begin: (tx) => tx.query('SELECT * FROM no_such_table'),
    });
    const results = await Promise.allSettled(
      ['p', 'q'].map((id) =>
        writes.run((tx) => tx.query('INSERT INTO items (id, n) VALUES (?, ?)', [id, 0])),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await count(other)).toBe(0);
  });
});

describe('group commit on two replicas of one PostgreSQL', () => {
  it('runs a write again alone when its batch deadlocked with the other replica’s, so callers see no deadlock', async () => {
    const [a, b] = await fresh('postgres');
    const [onA, onB] = [createGroupCommit(a), createGroupCommit(b)];
    // Each replica's batch inserts one key, waits until the other has inserted
    // its own, then inserts the other's key: each waits on the other's
    // uncommitted row, and PostgreSQL undoes one of the two writes (40P01).
    let inserted = 0;
    let bothInserted: () => void = () => {};
    const barrier = new Promise<void>((resolve) => {
      bothInserted = resolve;
    });
    const first = (writes: typeof onA, key: string) =>
      writes.run(async (tx) => {
        await tx.query('INSERT INTO items (id, n) VALUES (?, ?)', [key, 1]);
        inserted += 1;
        if (inserted === 2) bothInserted();
        await barrier;
      });
    const second = (writes: typeof onA, key: string) =>
      writes.run((tx) => tx.query('INSERT INTO items (id, n) VALUES (?, ?)', [key, 2]));
    const results = await Promise.allSettled([
      first(onA, 'k1'),
      second(onA, 'k2'),
      first(onB, 'k2'),
      second(onB, 'k1'),
    ]);
    // Each key is stored once; every other write is told its key is taken.
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    for (const failure of failures) expect(failure).toBeInstanceOf(UniqueViolationError);
    expect(failures).toHaveLength(2);
    const ids = await a.query<{ id: string }>('SELECT id FROM items ORDER BY id');
    expect(ids.map((r) => r.id)).toEqual(['k1', 'k2']);
  }, 30_000);
});
