import { type Context, context, ROOT_CONTEXT } from '@opentelemetry/api';
import { isWriteConflict } from '../errors/write-conflict.js';
import type { SqlClient, SqlQueries } from './sql-client.js';

export interface GroupCommit {
  /**
   * Runs `work` in a transaction shared with the other writes queued
   * meanwhile, each in its own savepoint: it resolves once that transaction
   * has committed, and rejects with its own error (its statements undone,
   * the others' kept) or, when the commit itself fails, with that error. A
   * write undone in a conflict with a concurrent transaction runs again
   * alone first.
   */
  run<T>(work: (tx: SqlQueries) => Promise<T>): Promise<T>;
}

interface Pending {
  work: (tx: SqlQueries) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The caller's trace context: its statements' spans go into its own trace. */
  context: Context;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * A batch's `begin` that makes batches of different replicas queue on
 * PostgreSQL: it takes `table`'s EXCLUSIVE lock (reads are not blocked),
 * held to commit. Before any row: a batch that held the lock and then waited
 * on another's uncommitted key while that one waited for the lock would
 * deadlock. Without it, two replicas' batches interleave: one waits on the
 * other's uncommitted key until that whole batch commits, while the other,
 * waiting back, loses a write to the deadlock check a second later, again
 * for each such key, and a long enough batch outlasts the statement timeout.
 * SQLite has one writer at a time already.
 */
export const queueBatchesOn =
  (table: string) =>
  async (tx: SqlQueries): Promise<void> => {
    if (tx.dialect === 'postgres') await tx.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
  };

/**
 * Group commit: writes that arrive together share one transaction, and so
 * one commit, the costly part of a durable write (an fsync per commit with
 * SQLite's synchronous=FULL, a WAL flush on PostgreSQL). A write waits at
 * most until the event loop has taken in what else arrived with it
 * (setImmediate), then for the batch before it to commit; it is acknowledged
 * only after its own batch has committed, so nothing acknowledged is lost to
 * a crash. Each write runs in a savepoint, so one that fails (a taken
 * username) is undone alone and its caller gets its error, after the others
 * have committed: a caller that then looks up a concurrent twin
 * (createOnce) finds it.
 */
export function createGroupCommit(
  db: SqlClient,
  options: {
    maxBatch?: number;
    /** Statements each batch's transaction starts with, before any write (a lock). */
    begin?: (tx: SqlQueries) => Promise<unknown>;
  } = {},
): GroupCommit {
  const maxBatch = options.maxBatch ?? 100;
  const queue: Pending[] = [];
  let flushing = false;

  // Savepoint statements are the batch's, not a caller's: no span.
  const untraced = (tx: SqlQueries, sql: string) => context.with(ROOT_CONTEXT, () => tx.query(sql));

  /**
   * One transaction for `batch`. A write the database undid for a concurrent
   * transaction's sake (a deadlock: two replicas' batches each waiting on a
   * key the other inserted) runs again in a transaction of its own, once this
   * one has committed; alone it holds no row another batch waits on.
   */
  const commit = async (batch: Pending[], alone = false): Promise<void> => {
    let outcomes: Outcome[] = [];
    try {
      await db.transaction(async (tx) => {
        if (options.begin) await context.with(ROOT_CONTEXT, () => options.begin?.(tx));
        for (const item of batch) {
          await untraced(tx, 'SAVEPOINT write');
          try {
            const value = await context.with(item.context, () => item.work(tx));
            await untraced(tx, 'RELEASE SAVEPOINT write');
            outcomes.push({ ok: true, value });
          } catch (error) {
            await untraced(tx, 'ROLLBACK TO SAVEPOINT write');
            await untraced(tx, 'RELEASE SAVEPOINT write');
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The transaction failed as a whole (the commit, a lost connection):
      // nothing of the batch is stored, and every write fails with it.
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    const again: Pending[] = [];
    batch.forEach((item, index) => {
      const outcome = outcomes[index] as Outcome;
      if (outcome.ok) item.resolve(outcome.value);
      else if (isWriteConflict(outcome.error) && !alone) again.push(item);
      else item.reject(outcome.error);
    });
    for (const item of again) await commit([item], true);
  };

  const flush = async () => {
    try {
      while (queue.length > 0) await commit(queue.splice(0, maxBatch));
    } finally {
      flushing = false;
    }
  };

  return {
    run<T>(work: (tx: SqlQueries) => Promise<T>) {
      return new Promise<T>((resolve, reject) => {
        queue.push({
          work,
          resolve: resolve as (value: unknown) => void,
          reject,
          context: context.active(),
        });
        if (flushing) return;
        flushing = true;
        setImmediate(() => void flush());
      });
    },
  };
}
