import pg from 'pg';
import { unavailable } from '../errors/server-error.js';
import { UniqueViolationError } from '../errors/unique-violation-error.js';
import { writeConflict } from '../errors/write-conflict.js';

/** Socket errors that mean the server cannot be reached right now. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOENT', // the unix socket file is gone: the server is not running
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** node-postgres errors without a code: the connection failed or was lost. */
const lostConnection = new Set([
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Query read timeout',
  'timeout expired', // a single Client's connect timeout
]);

/**
 * SQLSTATEs that say the database cannot serve now, not that the request is
 * wrong: connection exceptions (08), insufficient resources (53), shutdown
 * or startup (57P0x), and login failures (28, 3D000), which are an operator's
 * to fix and come right without a change to the request.
 */
function isOutage(sqlState: string): boolean {
  return /^(08|53|28)/.test(sqlState) || /^57P0[1-4]$/.test(sqlState) || sqlState === '3D000';
}

/**
 * The column a unique violation is about: from the constraint name, which
 * migrations spell `<table>_<column>_key`, else from the column list in the
 * detail ("Key (id)=(…) already exists."), whose values are never read.
 */
function uniqueColumn(error: pg.DatabaseError): string {
  const { constraint, table } = error;
  if (constraint && table && constraint.startsWith(`${table}_`) && constraint.endsWith('_key')) {
    return constraint.slice(table.length + 1, -'_key'.length);
  }
  return /^Key \(([^)]+)\)=/.exec(error.detail ?? '')?.[1] ?? 'unknown';
}

/**
 * A node-postgres error as the error the rest of the service understands:
 * UniqueViolationError, an UNAVAILABLE ServerError for outages and timeouts
 * (callers and the mesh may retry those), an ABORTED write conflict
 * (write-conflict.ts), or the error itself, which the error mapper reports as
 * INTERNAL.
 */
export function translatePostgresError(error: unknown): unknown {
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    if (code === '23505') return new UniqueViolationError(uniqueColumn(error), { cause: error });
    // deadlock_detected, serialization_failure: undone for a concurrent write's sake.
    if (code === '40P01' || code === '40001') return writeConflict(error);
    if (code === '57014') {
      return unavailable('the database did not answer in time', 'DATABASE_TIMEOUT', {
        cause: error,
        retryDelayMs: 1000,
      });
    }
    if (isOutage(code)) return databaseUnavailable(error);
    return error;
  }
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if ((typeof code === 'string' && networkCodes.has(code)) || lostConnection.has(error.message)) {
    return databaseUnavailable(error);
  }
  return error;
}

function databaseUnavailable(cause: Error) {
  return unavailable('the database is unavailable', 'DATABASE_UNAVAILABLE', {
    cause,
    retryDelayMs: 1000,
  });
}
