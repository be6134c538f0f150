/**
 * A unique constraint rejected a write. Stores raise it with the column the
 * constraint covers, whatever the database, so services can tell a taken
 * username from a reused idempotency key.
 */
export class UniqueViolationError extends Error {
  override name = 'UniqueViolationError';

  constructor(
    readonly column: string,
    options?: { cause?: unknown },
  ) {
    super(`unique constraint on ${column}`, options);
  }
}
