import { type StatusObject, status } from '@grpc/grpc-js';
import type { Logger } from '../process/logger.js';
import { describeError, summarizeError } from './describe-error.js';
import { ServerError } from './server-error.js';
import { toStatusObject } from './status-details.js';

/** `shop.user.v1.UserService` from `/shop.user.v1.UserService/GetUser`. */
export function serviceOfMethod(method: string): string {
  return method.split('/')[1] ?? method;
}

/**
 * The one place where errors become gRPC statuses. A ServerError keeps its
 * code, message and details; anything else is a bug or an outage we did not
 * classify, so the caller gets a bare INTERNAL and the cause goes to the log.
 */
export function toGrpcStatus(error: unknown, method: string, log: Logger): Partial<StatusObject> {
  const domain = serviceOfMethod(method);
  if (error instanceof ServerError) {
    // An expected failure (a dependency down): one line with its cause, no stack.
    if (error.cause !== undefined) {
      log.warn({ method, err: summarizeError(error.cause) }, error.message);
    }
    return toStatusObject(error.code, error.message, error.details, domain);
  }
  log.error({ method, err: describeError(error) }, 'unexpected error');
  return toStatusObject(status.INTERNAL, 'internal error', { reason: 'INTERNAL' }, domain);
}
