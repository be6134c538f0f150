// Each service has its own database and login role, set up as
// docs/postgres.md tells operators to: ProductService's role cannot reach the
// users' tables, neither by connecting to the users' database nor, should an
// operator grant CONNECT by mistake, by reading the tables inside it.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PostgresServer,
  type ServiceDatabase,
  startPostgres,
} from '../../scripts/lib/postgres-server.js';
import { productMigrations } from '../../services/product/migrations.js';
import { readServiceConfig } from '../../services/shared/process/service-config.js';
import { openSqlClient } from '../../services/shared/sql/open-sql-client.js';
import { userMigrations } from '../../services/user/migrations.js';

async function queryAs(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('a database and credentials per service', () => {
  let server: PostgresServer;
  let users: ServiceDatabase;
  let products: ServiceDatabase;

  beforeAll(async () => {
    server = await startPostgres();
    users = await server.createDatabase('users');
    products = await server.createDatabase('products');
    // Migrated as each service does it: its config read from the environment.
    for (const [db, service, migrations] of [
      [users, 'user-service', userMigrations],
      [products, 'product-service', productMigrations],
    ] as const) {
      const config = readServiceConfig({ DATABASE_URL: db.url }, service, 0);
      const client = await openSqlClient(config.storage);
      try {
        expect(await client.migrate(migrations)).toBe(migrations.length);
      } finally {
        await client.close();
      }
    }
  });
  afterAll(() => server?.close());

  it('lets each role use its own tables', async () => {
    expect(await queryAs(users.url, 'SELECT count(*)::int AS n FROM user_service.users')).toEqual([
      { n: 0 },
    ]);
    expect(
      await queryAs(products.url, 'SELECT count(*)::int AS n FROM product_service.products'),
    ).toEqual([{ n: 0 }]);
  });

  it("refuses ProductService's role a connection to the users' database", async () => {
    const url = server.url(users.database, products.role, products.password);
    await expect(queryAs(url, 'SELECT 1')).rejects.toMatchObject({ code: '42501' });
  });

  it("refuses ProductService's role the users' tables even with CONNECT granted", async () => {
    await server.admin(`GRANT CONNECT ON DATABASE ${users.database} TO ${products.role}`);
    try {
      const url = server.url(users.database, products.role, products.password);
      await expect(queryAs(url, 'SELECT id FROM user_service.users')).rejects.toMatchObject({
        code: '42501',
      });
      await expect(queryAs(url, 'SELECT id FROM public.users')).rejects.toMatchObject({
        code: '42P01',
      });
    } finally {
      await server.admin(`REVOKE CONNECT ON DATABASE ${users.database} FROM ${products.role}`);
    }
  });

  it("refuses UserService's role the products' database too", async () => {
    const url = server.url(products.database, users.role, users.password);
    await expect(queryAs(url, 'SELECT 1')).rejects.toMatchObject({ code: '42501' });
  });
});
