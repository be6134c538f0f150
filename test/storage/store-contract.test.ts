// The storage contract: what both services rely on from their stores, run
// unchanged against SQLite and a real PostgreSQL (see scripts/lib/postgres-server.ts).
// Each test gets an empty database; open() gives another client on the same
// database, as a second replica would have.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../../scripts/lib/postgres-server.js';
import { productMigrations } from '../../services/product/migrations.js';
import { createSqlProductStore } from '../../services/product/sql-store.js';
import type { Product } from '../../services/product/store.js';
import { createOnce } from '../../services/shared/api/create-once.js';
import { newId } from '../../services/shared/api/ids.js';
import { UniqueViolationError } from '../../services/shared/errors/unique-violation-error.js';
import { createPostgresClient } from '../../services/shared/sql/postgres-client.js';
import type { Migration, SqlClient } from '../../services/shared/sql/sql-client.js';
import { createSqliteClient } from '../../services/shared/sql/sqlite-client.js';
import { userMigrations } from '../../services/user/migrations.js';
import { createSqlUserStore } from '../../services/user/sql-store.js';
import type { User } from '../../services/user/store.js';

interface Backend {
  name: 'sqlite' | 'postgres';
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new empty database; each call of `open` is another client on it. */
  fresh(): Promise<() => SqlClient>;
}

const clients: SqlClient[] = [];
const track = (client: SqlClient) => {
  clients.push(client);
  return client;
};
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function sqliteBackend(): Backend {
  let dir = '';
  let n = 0;
  return {
    name: 'sqlite',
    async setup() {
      dir = await mkdtemp(join(tmpdir(), 'contract-sqlite-'));
    },
    async teardown() {
      await rm(dir, { recursive: true, force: true });
    },
    async fresh() {
      const path = join(dir, `db-${++n}.sqlite`);
      return () => track(createSqliteClient(path));
    },
  };
}

function postgresBackend(): Backend {
  let server: PostgresServer;
  let url = '';
  let n = 0;
  return {
    name: 'postgres',
    async setup() {
      server = await startPostgres();
      url = (await server.createDatabase('contract')).url;
    },
    async teardown() {
      await server?.close();
    },
    async fresh() {
      // A schema per test: the same isolation a database gives, much cheaper.
      const schema = `t${++n}_${Math.random().toString(36).slice(2, 8)}`;
      return () => track(createPostgresClient({ url, schema, pool: { max: 4 } }));
    },
  };
}

/** Fresh database with `migrations` applied; `open` gives more clients on it. */
async function migrated(backend: Backend, migrations: readonly Migration[]) {
  const open = await backend.fresh();
  const first = open();
  await first.migrate(migrations);
  return { db: first, open };
}

const at = (iso: string) => new Date(iso);

function user(overrides: Partial<User> = {}, time = new Date()): User {
  const id = newId(time);
  return {
    id,
    username: `u${id.slice(-12)}`,
    email: `${id.slice(-12)}@example.com`,
    createTime: time,
    ...overrides,
  };
}

function product(ownerId: string, overrides: Partial<Product> = {}, time = new Date()): Product {
  return {
    id: newId(time),
    name: 'Lamp',
    ownerId,
    price: { currencyCode: 'EUR', units: 25n, nanos: 500_000_000 },
    createTime: time,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe.each([sqliteBackend(), postgresBackend()])('storage contract on $name', (backend) => {
  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());

  describe('migrations', () => {
    it('apply once, then report nothing to do', async () => {
      const open = await backend.fresh();
      const db = open();
      expect(await db.migrate(userMigrations)).toBe(userMigrations.length);
      expect(await db.migrate(userMigrations)).toBe(0);
      expect(await open().migrate(userMigrations)).toBe(0);
    });

    it('replicas migrating at the same moment apply each migration exactly once', async () => {
      const open = await backend.fresh();
      const replicas = Array.from({ length: 5 }, () => open());
      const applied = await Promise.all(replicas.map((db) => db.migrate(productMigrations)));
      expect(applied.reduce((a, b) => a + b, 0)).toBe(productMigrations.length);
      const store = createSqlProductStore(open());
      await store.insert(product(newId()), undefined);
    });

    it('apply only the new ones when a later release adds some', async () => {
      const open = await backend.fresh();
      const db = open();
      await db.migrate(userMigrations);
      const next: Migration = {
        version: userMigrations.length + 1,
        name: 'index create_time',
        sql: 'CREATE INDEX users_create_time_idx ON users (create_time)',
      };
      expect(await db.migrate([...userMigrations, next])).toBe(1);
      expect(await open().migrate([...userMigrations, next])).toBe(0);
    });
  });

  describe('users', () => {
    it('stores a user and reads it back exactly', async () => {
      const { db } = await migrated(backend, userMigrations);
      const store = createSqlUserStore(db);
      const ada = user(
        { username: 'ada', email: 'ada@example.com' },
        at('2025-03-04T05:06:07.089Z'),
      );
      await store.insert(ada, undefined);
      expect(await store.get(ada.id)).toEqual(ada);
      expect(await store.get(newId())).toBeUndefined();
    });

    it.each([
      ['username', (u: User) => user({ username: u.username })],
      ['email', (u: User) => user({ email: u.email })],
      ['id', (u: User) => user({ id: u.id })],
    ])('reports a taken %s as UniqueViolationError naming the column', async (column, twin) => {
      const { db } = await migrated(backend, userMigrations);
      const store = createSqlUserStore(db);
      const first = user();
      await store.insert(first, undefined);
      const error = await rejection(store.insert(twin(first), undefined));
      expect(error).toBeInstanceOf(UniqueViolationError);
      expect((error as UniqueViolationError).column).toBe(column);
      // The failed write left nothing behind and the store keeps working.
      expect(await store.list(undefined, 10)).toEqual([first]);
      await store.insert(user(), undefined);
    });

    it('remembers the idempotency key a user was created under', async () => {
      const { db } = await migrated(backend, userMigrations);
      const store = createSqlUserStore(db);
      const ada = user();
      await store.insert(ada, 'req-1');
      expect(await store.findByRequestId('req-1')).toEqual(ada);
      expect(await store.findByRequestId('req-2')).toBeUndefined();
      const error = await rejection(store.insert(user(), 'req-1'));
      expect((error as UniqueViolationError).column).toBe('request_id');
      // Users created without a key do not collide with each other.
      await store.insert(user(), undefined);
      await store.insert(user(), undefined);
    });

    it('getMany returns the users that exist, ignoring the rest', async () => {
      const { db } = await migrated(backend, userMigrations);
      const store = createSqlUserStore(db);
      const users = [user(), user(), user()];
      for (const u of users) await store.insert(u, undefined);
      const found = await store.getMany([users[0]?.id ?? '', newId(), users[2]?.id ?? '']);
      expect(found.map((u) => u.id).sort()).toEqual([users[0]?.id, users[2]?.id].sort());
      expect(await store.getMany([])).toEqual([]);
    });

    it('lists in id order, one keyset page after another', async () => {
      const { db } = await migrated(backend, userMigrations);
      const store = createSqlUserStore(db);
      // Ids from many different moments, inserted out of order.
      const users = Array.from({ length: 23 }, (_, i) =>
        user({}, new Date(Date.UTC(2025, 0, 1) + ((i * 7919) % 23) * 3_600_000 + i)),
      );
      for (const u of users) await store.insert(u, undefined);
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.list(after, 5);
        seen.push(...page.map((u) => u.id));
        if (page.length < 5) break;
        after = page[page.length - 1]?.id;
      }
      expect(seen).toEqual(users.map((u) => u.id).sort());
    });

    it('pages stay stable while other replicas insert', async () => {
      const { db, open } = await migrated(backend, userMigrations);
      const reader = createSqlUserStore(db);
      const writer = createSqlUserStore(open());
      const before = Array.from({ length: 12 }, (_, i) =>
        user({}, new Date(Date.UTC(2025, 0, 1, 12) + i * 1000)),
      );
      for (const u of before) await writer.insert(u, undefined);
      const seen: string[] = [];
      let after: string | undefined;
      for (let i = 0; ; i++) {
        const page = await reader.list(after, 4);
        seen.push(...page.map((u) => u.id));
        if (page.length < 4) break;
        after = page[page.length - 1]?.id;
        // Rows land before and after the cursor (a replica's clock may lag).
        await writer.insert(user({}, new Date(Date.UTC(2025, 0, 1, 11) + i)), undefined);
        await writer.insert(user({}, new Date(Date.UTC(2025, 0, 1, 13) + i)), undefined);
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual(seen);
      for (const u of before) expect(seen).toContain(u.id);
    });

    it('lets exactly one of two replicas racing for a username win', async () => {
      const { open } = await migrated(backend, userMigrations);
      const replicas = [createSqlUserStore(open()), createSqlUserStore(open())];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, round) =>
          replicas.map((store, r) =>
            store.insert(
              user({ username: `racer${round}`, email: `r${round}.${r}@example.com` }),
              undefined,
            ),
          ),
        ).flat(),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o) => o.status === 'rejected');
      expect(won).toHaveLength(10);
      for (const o of lost) {
        expect(o.reason).toBeInstanceOf(UniqueViolationError);
        expect((o.reason as UniqueViolationError).column).toBe('username');
      }
      expect(await replicas[0]?.list(undefined, 100)).toHaveLength(10);
    });

    it('answers an idempotent retry on another replica with the original user', async () => {
      const { open } = await migrated(backend, userMigrations);
      const replicas = [createSqlUserStore(open()), createSqlUserStore(open())];
      const attempt = (requestId: string, r: number) => {
        const store = replicas[r % 2];
        if (!store) throw new Error('no replica');
        const candidate = user({ username: `idem${requestId}`, email: `${requestId}@example.com` });
        return createOnce({
          requestId,
          findByRequestId: (id) => store.findByRequestId(id),
          insert: async () => {
            await store.insert(candidate, requestId);
            return candidate;
          },
          sameRequest: (u) => u.username === candidate.username && u.email === candidate.email,
        });
      };
      const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
      const results = await Promise.all(
        keys.map((k) => Promise.all([attempt(k, 0), attempt(k, 1), attempt(k, 0)])),
      );
      for (const tries of results) {
        const ids = new Set(tries.map((t) => t.entity.id));
        expect(ids.size).toBe(1);
        expect(tries.filter((t) => !t.replayed)).toHaveLength(1);
      }
      expect(await replicas[1]?.list(undefined, 100)).toHaveLength(keys.length);
    });
  });

  describe('products', () => {
    it('keeps prices exact at the ends of the int64 and nanos ranges', async () => {
      const { db } = await migrated(backend, productMigrations);
      const store = createSqlProductStore(db);
      const owner = newId();
      const prices = [
        { currencyCode: 'EUR', units: 9_223_372_036_854_775_807n, nanos: 999_999_999 },
        { currencyCode: 'USD', units: -9_223_372_036_854_775_808n, nanos: -999_999_999 },
        { currencyCode: 'JPY', units: 0n, nanos: 0 },
      ];
      for (const price of prices) {
        const p = product(owner, { price, name: 'Ünïcødé 💡 lamp' });
        await store.insert(p, undefined);
        expect(await store.get(p.id)).toEqual(p);
      }
    });

    it('lists one owner’s products in id order, page by page', async () => {
      const { db } = await migrated(backend, productMigrations);
      const store = createSqlProductStore(db);
      const [alice, bob] = [newId(), newId()];
      const mine: string[] = [];
      for (let i = 0; i < 14; i++) {
        const p = product(i % 3 === 0 ? bob : alice, {}, new Date(Date.UTC(2025, 5, 1) + i * 1000));
        await store.insert(p, undefined);
        if (p.ownerId === alice) mine.push(p.id);
      }
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.list(after, 3, alice);
        expect(page.every((p) => p.ownerId === alice)).toBe(true);
        seen.push(...page.map((p) => p.id));
        if (page.length < 3) break;
        after = page[page.length - 1]?.id;
      }
      expect(seen).toEqual(mine.sort());
      expect(await store.list(undefined, 100, undefined)).toHaveLength(14);
    });

    it('stores the idempotency key and rejects its reuse as request_id', async () => {
      const { db, open } = await migrated(backend, productMigrations);
      const store = createSqlProductStore(db);
      const p = product(newId());
      await store.insert(p, 'order-42');
      expect(await createSqlProductStore(open()).findByRequestId('order-42')).toEqual(p);
      const error = await rejection(store.insert(product(newId()), 'order-42'));
      expect((error as UniqueViolationError).column).toBe('request_id');
    });
  });
});
