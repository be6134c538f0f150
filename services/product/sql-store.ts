import { createGroupCommit, queueBatchesOn } from '../shared/sql/group-commit.js';
import type { SqlClient, SqlValue } from '../shared/sql/sql-client.js';
import type { Product, ProductStore } from './store.js';

interface ProductRow {
  id: string;
  name: string;
  owner_id: string;
  price_currency: string;
  price_units: bigint | number | string;
  price_nanos: bigint | number | string;
  create_time: string | Date;
}

const columns = 'id, name, owner_id, price_currency, price_units, price_nanos, create_time';

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    name: row.name,
    ownerId: row.owner_id,
    price: {
      currencyCode: row.price_currency,
      units: BigInt(row.price_units),
      nanos: Number(row.price_nanos),
    },
    createTime: new Date(row.create_time),
  };
}

/** ProductStore on any SqlClient (SQLite or PostgreSQL), with migrations applied by the caller. */
export function createSqlProductStore(db: SqlClient): ProductStore {
  // Creates that arrive together share a commit (group-commit.ts); on
  // PostgreSQL two replicas' batches queue on the products table (without
  // it, a clean-clone run of concurrency.test.ts saw a create wait out the
  // statement timeout behind the other replica's deadlocking batch).
  const writes = createGroupCommit(db, { begin: queueBatchesOn('products') });
  return {
    async insert(product, requestId) {
      await writes.run((tx) =>
        tx.query(
          `INSERT INTO products (id, name, owner_id, price_currency, price_units, price_nanos, request_id, create_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            product.id,
            product.name,
            product.ownerId,
            product.price.currencyCode,
            product.price.units,
            product.price.nanos,
            requestId ?? null,
            product.createTime.toISOString(),
          ],
        ),
      );
    },
    async findByRequestId(requestId) {
      const [row] = await db.query<ProductRow>(
        `SELECT ${columns} FROM products WHERE request_id = ?`,
        [requestId],
      );
      return row && toProduct(row);
    },
    async get(id) {
      const [row] = await db.query<ProductRow>(`SELECT ${columns} FROM products WHERE id = ?`, [
        id,
      ]);
      return row && toProduct(row);
    },
    async list(after, limit, ownerId) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (ownerId !== undefined) {
        where.push('owner_id = ?');
        params.push(ownerId);
      }
      if (after !== undefined) {
        where.push('id > ?');
        params.push(after);
      }
      const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      const rows = await db.query<ProductRow>(
        `SELECT ${columns} FROM products ${filter} ORDER BY id LIMIT ?`,
        [...params, limit],
      );
      return rows.map(toProduct);
    },
  };
}
