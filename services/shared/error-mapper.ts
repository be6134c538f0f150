import { type StatusObject, status } from '@grpc/grpc-js';
import { ServiceError } from './errors.js';
import type { Logger } from './logger.js';
import { toStatusObject } from './status-details.js';

/**
 * The fields of an error that are safe to log. Whole error objects are never
 * logged: driver errors carry extras (PostgreSQL's `detail`, for one) that can
 * quote personal data from the offending row.
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: error.stack,
    ...(error.cause === undefined ? {} : { cause: describeError(error.cause) }),
  };
}

/** `shop.user.v1.UserService` from `/shop.user.v1.UserService/GetUser`. */
export function serviceOfMethod(method: string): string {
  return method.split('/')[1] ?? method;
}

/**
 * The one place where errors become gRPC statuses. A ServiceError keeps its
 * code, message and details; anything else is a bug or an outage we did not
 * classify, so the caller gets a bare INTERNAL and the cause goes to the log.
 */
export function toGrpcStatus(error: unknown, method: string, log: Logger): Partial<StatusObject> {
  const domain = serviceOfMethod(method);
  if (error instanceof ServiceError) {
    if (error.cause !== undefined) {
      log.warn({ method, err: describeError(error.cause) }, error.message);
    }
    return toStatusObject(error.code, error.message, error.details, domain);
  }
  log.error({ method, err: describeError(error) }, 'unexpected error');
  return toStatusObject(status.INTERNAL, 'internal error', { reason: 'INTERNAL' }, domain);
}
