// The outbox and the owner read model on a real PostgreSQL: concurrent
// registrations from several replicas' pools, some of them failing, while a
// follower reads the outbox the way StreamUserEvents does. Every user has
// exactly one event; the follower, which never revisits a position below its
// cursor, sees every event once, in increasing order (no event is skipped
// when transactions commit out of order); and replicas applying the same
// events to one read model apply each exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../../scripts/lib/postgres-server.js';
import { productMigrations } from '../../services/product/migrations.js';
import { createSqlOwnerReadModel } from '../../services/product/sql-owner-read-model.js';
import { newId } from '../../services/shared/api/ids.js';
import { UniqueViolationError } from '../../services/shared/errors/unique-violation-error.js';
import { createPostgresClient } from '../../services/shared/sql/postgres-client.js';
import type { SqlClient } from '../../services/shared/sql/sql-client.js';
import { userMigrations } from '../../services/user/migrations.js';
import { createSqlUserStore } from '../../services/user/sql-store.js';
import type { StoredEvent } from '../../services/user/store.js';

const REPLICAS = 4;
const USERS = 300;

let server: PostgresServer;
const clients: SqlClient[] = [];
let usersUrl = '';
let productsUrl = '';
beforeAll(async () => {
  server = await startPostgres();
  usersUrl = (await server.createDatabase('outbox')).url;
  productsUrl = (await server.createDatabase('owners')).url;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.close();
});

const open = (url: string, schema: string) => {
  const client = createPostgresClient({ url, schema, pool: { max: 5 } });
  clients.push(client);
  return client;
};

describe('the user outbox on PostgreSQL', () => {
  it('gives every user exactly one event, and a follower sees every event once, in order', async () => {
    const replicas = Array.from({ length: REPLICAS }, () => open(usersUrl, 'user_service'));
    await Promise.all(replicas.map((db) => db.migrate(userMigrations)));
    const stores = replicas.map(createSqlUserStore);
    const reader = createSqlUserStore(replicas[0] as SqlClient);

    // The follower: what StreamUserEvents does, as fast as it can.
    const seen: StoredEvent[] = [];
    let writing = true;
    const follow = (async () => {
      let cursor = 0n;
      for (;;) {
        const done = !writing;
        const batch = await reader.eventsAfter(cursor, 100);
        seen.push(...batch);
        cursor = batch.at(-1)?.position ?? cursor;
        if (done && batch.length === 0) return;
      }
    })();

    // Every tenth registration reuses a username and rolls back, leaving a
    // gap in the positions; the rest commit in whatever order they finish.
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: USERS }, async (_, i) => {
        const store = stores[i % REPLICAS];
        const username = i % 10 === 9 ? `user${i - 1}` : `user${i}`;
        const user = { id: newId(), username, email: `u${i}@example.com`, createTime: new Date() };
        try {
          await store?.insert(user, undefined);
        } catch (error) {
          if (!(error instanceof UniqueViolationError)) throw error;
          conflicts++;
        }
      }),
    );
    writing = false;
    await follow;

    const db = replicas[0] as SqlClient;
    const [counts] = await db.query<{ users: bigint; events: bigint; matched: bigint }>(
      `SELECT (SELECT COUNT(*) FROM users) AS users,
              (SELECT COUNT(*) FROM user_events) AS events,
              (SELECT COUNT(*) FROM users u WHERE (SELECT COUNT(*) FROM user_events e WHERE e.subject = u.id) = 1) AS matched`,
    );
    expect(conflicts).toBeGreaterThan(0);
    expect(counts?.users).toBe(BigInt(USERS - conflicts));
    expect(counts?.events).toBe(counts?.users);
    expect(counts?.matched).toBe(counts?.users);

    const positions = seen.map((e) => e.position);
    for (let i = 1; i < positions.length; i++) {
      expect(positions[i] as bigint).toBeGreaterThan(positions[i - 1] as bigint);
    }
    expect(seen).toHaveLength(USERS - conflicts);
    console.info(
      `outbox on PostgreSQL: ${USERS} registrations over ${REPLICAS} pools, ${conflicts} refused as duplicates ` +
        `(rolled back), ${seen.length} events followed, 0 skipped, 0 twice; highest position ${positions.at(-1)}`,
    );
  }, 60_000);
});

describe('the owner read model on PostgreSQL', () => {
  it('applies each event once when replicas apply the same batches at the same time', async () => {
    const replicas = Array.from({ length: 3 }, () => open(productsUrl, 'product_service'));
    await Promise.all(replicas.map((db) => db.migrate(productMigrations)));
    const models = replicas.map(createSqlOwnerReadModel);
    const changes = Array.from({ length: 50 }, (_, i) => ({
      position: BigInt(i * 2 + 1),
      owner: { id: newId(), username: `owner${i}` },
    }));
    const batches = Array.from({ length: 10 }, (_, b) => changes.slice(b * 5, b * 5 + 5));
    // Every replica applies every batch, in order, concurrently with the others.
    const results = await Promise.all(
      models.map(async (model) => {
        let applied = 0;
        for (const batch of batches) applied += (await model.apply('grpc:test', batch)).applied;
        return applied;
      }),
    );
    expect(results.reduce((a, b) => a + b, 0)).toBe(changes.length);
    expect(await models[0]?.positionOf('grpc:test')).toBe(99n);
    const owners = await models[1]?.get(changes.map((c) => c.owner.id));
    expect(owners?.size).toBe(changes.length);
  }, 60_000);
});
