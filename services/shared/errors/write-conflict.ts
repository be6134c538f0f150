import { status } from '@grpc/grpc-js';
import { ServerError } from './server-error.js';

const REASON = 'WRITE_CONFLICT';

/**
 * The database undid a write because it conflicted with a concurrent one (a
 * deadlock between two transactions, a serialization failure): ABORTED, as
 * gRPC names a concurrency conflict the caller may retry. Group commit
 * retries such a write alone before any caller sees it.
 */
export function writeConflict(cause: unknown): ServerError {
  return new ServerError(
    status.ABORTED,
    'the write conflicted with a concurrent one; retry it',
    { reason: REASON, retryDelayMs: 100 },
    { cause },
  );
}

export const isWriteConflict = (error: unknown): boolean =>
  error instanceof ServerError && error.code === status.ABORTED && error.details.reason === REASON;
