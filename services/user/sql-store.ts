import { placeholders, type SqlClient } from '../shared/sql/sql-client.js';
import type { User, UserStore } from './store.js';

interface UserRow {
  id: string;
  username: string;
  email: string;
  create_time: string | Date;
}

const columns = 'id, username, email, create_time';

function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    createTime: new Date(row.create_time),
  };
}

/** UserStore on any SqlClient (SQLite or PostgreSQL), with migrations applied by the caller. */
export function createSqlUserStore(db: SqlClient): UserStore {
  return {
    async insert(user, requestId) {
      await db.query(
        'INSERT INTO users (id, username, email, request_id, create_time) VALUES (?, ?, ?, ?, ?)',
        [user.id, user.username, user.email, requestId ?? null, user.createTime.toISOString()],
      );
    },
    async findByRequestId(requestId) {
      const [row] = await db.query<UserRow>(`SELECT ${columns} FROM users WHERE request_id = ?`, [
        requestId,
      ]);
      return row && toUser(row);
    },
    async get(id) {
      const [row] = await db.query<UserRow>(`SELECT ${columns} FROM users WHERE id = ?`, [id]);
      return row && toUser(row);
    },
    async getMany(ids) {
      if (ids.length === 0) return [];
      const rows = await db.query<UserRow>(
        `SELECT ${columns} FROM users WHERE id IN ${placeholders(ids.length)}`,
        ids,
      );
      return rows.map(toUser);
    },
    async list(after, limit) {
      const rows = after
        ? await db.query<UserRow>(`SELECT ${columns} FROM users WHERE id > ? ORDER BY id LIMIT ?`, [
            after,
            limit,
          ])
        : await db.query<UserRow>(`SELECT ${columns} FROM users ORDER BY id LIMIT ?`, [limit]);
      return rows.map(toUser);
    },
  };
}
