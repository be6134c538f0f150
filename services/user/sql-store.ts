import { createGroupCommit, queueBatchesOn } from '../shared/sql/group-commit.js';
import { placeholders, type SqlClient, type SqlQueries } from '../shared/sql/sql-client.js';
import type { StoredEvent, User, UserStore } from './store.js';
import { userRegisteredEvent } from './user-events.js';

interface UserRow {
  id: string;
  username: string;
  email: string;
  create_time: string | Date;
}

const columns = 'id, username, email, create_time';

interface EventRow {
  position: bigint | number | string;
  id: string;
  type: string;
  subject: string;
  time: string | Date;
  traceparent: string;
  tracestate: string;
  data: Uint8Array;
}

const eventColumns = 'position, id, type, subject, time, traceparent, tracestate, data';

function toEvent(row: EventRow): StoredEvent {
  return {
    position: BigInt(row.position),
    id: row.id,
    type: row.type,
    subject: row.subject,
    time: new Date(row.time),
    traceparent: row.traceparent,
    tracestate: row.tracestate,
    data: new Uint8Array(row.data),
  };
}

/** Up to `limit` events after position `after`, oldest first: what streams and the relay read. */
async function eventsAfter(q: SqlQueries, after: bigint, limit: number): Promise<StoredEvent[]> {
  const rows = await q.query<EventRow>(
    `SELECT ${eventColumns} FROM user_events WHERE position > ? ORDER BY position LIMIT ?`,
    [after, limit],
  );
  return rows.map(toEvent);
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    createTime: new Date(row.create_time),
  };
}

/**
 * UserStore on any SqlClient (SQLite or PostgreSQL), with migrations applied by the caller.
 *
 * Outbox positions follow commit order, so that a reader that has seen
 * position N never later finds a new event below N (the outbox pitfall: on
 * PostgreSQL a sequence number is taken at insert, and transactions commit in
 * any order, so N+1 can be visible while N is still in flight, and a reader
 * that moved past the gap would skip N for good). SQLite has one writer at a
 * time, so it holds by construction. On PostgreSQL each batch of
 * registrations (group-commit.ts: one transaction for those that arrive
 * together) first takes the outbox table's EXCLUSIVE lock (queueBatchesOn),
 * held to commit: batches, and only they, queue behind one another (reads
 * are not blocked), so a transaction takes its positions only after every
 * lower one has committed or rolled back. That serializes
 * registrations across replicas, the price of a reader that never needs to
 * wait out gaps; within a replica, a batch pays for one commit.
 */
export function createSqlUserStore(db: SqlClient): UserStore {
  // Registrations that arrive together share a commit (group-commit.ts).
  const writes = createGroupCommit(db, { begin: queueBatchesOn('user_events') });
  return {
    async insert(user, requestId) {
      const event = userRegisteredEvent(user);
      await writes.run(async (tx) => {
        await tx.query(
          'INSERT INTO users (id, username, email, request_id, create_time) VALUES (?, ?, ?, ?, ?)',
          [user.id, user.username, user.email, requestId ?? null, user.createTime.toISOString()],
        );
        await tx.query(
          'INSERT INTO user_events (id, type, subject, time, traceparent, tracestate, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
          [
            event.id,
            event.type,
            event.subject,
            event.time.toISOString(),
            event.traceparent,
            event.tracestate,
            event.data,
          ],
        );
      });
    },
    eventsAfter: (after, limit) => eventsAfter(db, after, limit),
    async relayEvents(relay, limit, publish) {
      const step = async (q: SqlQueries): Promise<number | undefined> => {
        await q.query(
          'INSERT INTO event_relays (relay, position) VALUES (?, 0) ON CONFLICT (relay) DO NOTHING',
          [relay],
        );
        // One relay at a time on PostgreSQL: the others find the row locked
        // and wait for their next turn instead of publishing every event again.
        const lock = q.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
        const [row] = await q.query<{ position: bigint | number | string }>(
          `SELECT position FROM event_relays WHERE relay = ?${lock}`,
          [relay],
        );
        if (!row) return undefined;
        const events = await eventsAfter(q, BigInt(row.position), limit);
        const last = events.at(-1);
        if (!last) return 0;
        await publish(events);
        await q.query('UPDATE event_relays SET position = ? WHERE relay = ?', [
          last.position,
          relay,
        ]);
        return events.length;
      };
      // On PostgreSQL the row lock lasts while the broker acknowledges. On
      // SQLite a transaction would hold the database's only write lock that
      // long, stalling registrations; it has one process, so needs no turn.
      return db.dialect === 'postgres' ? db.transaction(step) : step(db);
    },
    async latestEventPosition() {
      const [row] = await db.query<{ position: bigint | number | null }>(
        'SELECT MAX(position) AS position FROM user_events',
      );
      return BigInt(row?.position ?? 0);
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
