import { invalidArgument } from '../errors/server-error.js';
import { UniqueViolationError } from '../errors/unique-violation-error.js';

export interface CreateOnce<T> {
  /** The caller's idempotency key; undefined when the request has none. */
  requestId: string | undefined;
  /** The entity an earlier request with this key created, if any. */
  findByRequestId(requestId: string): Promise<T | undefined>;
  /** Stores the new entity; throws UniqueViolationError on any unique conflict. */
  insert(): Promise<T>;
  /** Whether an entity created under the same key came from an identical request. */
  sameRequest(existing: T): boolean;
}

/**
 * Creates an entity at most once per request_id, which makes creates safe to
 * retry: the mesh retries UNAVAILABLE by default, and clients retry timeouts.
 *
 * The database's unique index on request_id is what makes this hold across
 * replicas: when two attempts race, one insert fails and its caller answers
 * with the winner's entity.
 */
export async function createOnce<T>(op: CreateOnce<T>): Promise<{ entity: T; replayed: boolean }> {
  const replay = (existing: T) => {
    if (!op.sameRequest(existing)) {
      throw invalidArgument([
        {
          field: 'request_id',
          description: 'was already used for a different request; use a new request_id',
        },
      ]);
    }
    return { entity: existing, replayed: true };
  };
  if (op.requestId !== undefined) {
    const existing = await op.findByRequestId(op.requestId);
    if (existing !== undefined) return replay(existing);
  }
  try {
    return { entity: await op.insert(), replayed: false };
  } catch (error) {
    // Any unique conflict may hide a concurrent twin of this request: which
    // index reports first is up to the database, so look the key up again.
    if (error instanceof UniqueViolationError && op.requestId !== undefined) {
      const existing = await op.findByRequestId(op.requestId);
      if (existing !== undefined) return replay(existing);
    }
    throw error;
  }
}
