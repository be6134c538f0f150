import type { Owner } from '../gen/shop/product/v1/product_service.pb.js';
import { placeholders, type SqlClient } from '../shared/sql/sql-client.js';
import type { OwnerReadModel } from './owner-read-model.js';

const upsertOwner =
  'INSERT INTO owners (id, username) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET username = excluded.username';

/** OwnerReadModel on any SqlClient (SQLite or PostgreSQL), with migrations applied by the caller. */
export function createSqlOwnerReadModel(db: SqlClient): OwnerReadModel {
  return {
    async get(ids) {
      if (ids.length === 0) return new Map();
      const rows = await db.query<Owner>(
        `SELECT id, username FROM owners WHERE id IN ${placeholders(ids.length)}`,
        ids,
      );
      return new Map(rows.map((row) => [row.id, { id: row.id, username: row.username }]));
    },

    async remember(owners) {
      for (const owner of owners) {
        await db.query(
          'INSERT INTO owners (id, username) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
          [owner.id, owner.username],
        );
      }
    },

    async positionOf(stream) {
      const [row] = await db.query<{ position: bigint | number | string }>(
        'SELECT position FROM event_positions WHERE stream = ?',
        [stream],
      );
      return BigInt(row?.position ?? 0);
    },

    apply(stream, changes) {
      return db.transaction(async (tx) => {
        // The row exists before it is locked, so replicas applying the same
        // stream at once queue on it instead of racing to create it.
        await tx.query(
          'INSERT INTO event_positions (stream, position) VALUES (?, 0) ON CONFLICT (stream) DO NOTHING',
          [stream],
        );
        // SQLite's BEGIN IMMEDIATE already holds the database's write lock.
        const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
        const [row] = await tx.query<{ position: bigint | number | string }>(
          `SELECT position FROM event_positions WHERE stream = ?${lock}`,
          [stream],
        );
        let position = BigInt(row?.position ?? 0);
        let applied = 0;
        for (const change of changes) {
          if (change.position <= position) continue;
          if (change.owner) await tx.query(upsertOwner, [change.owner.id, change.owner.username]);
          position = change.position;
          applied++;
        }
        if (applied > 0) {
          await tx.query('UPDATE event_positions SET position = ? WHERE stream = ?', [
            position,
            stream,
          ]);
        }
        return { applied, skipped: changes.length - applied, position };
      });
    },
  };
}
