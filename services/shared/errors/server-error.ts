import { status } from '@grpc/grpc-js';
import { errorLimits, listWithCount } from './error-limits.js';

/** One invalid request field, as google.rpc.BadRequest.FieldViolation. */
export interface FieldViolation {
  /** Path to the field in the request, e.g. `price.currency_code` or `ids[3]`. */
  field: string;
  /** What is wrong and what is accepted, in words a caller can act on. */
  description: string;
}

/** One unmet precondition, as google.rpc.PreconditionFailure.Violation. */
export interface PreconditionViolation {
  /** Kind of precondition, e.g. `OWNER_EXISTS`. */
  type: string;
  /** What it applies to, e.g. `users/0190…`. */
  subject: string;
  description: string;
}

/** The resource an error is about, as google.rpc.ResourceInfo. */
export interface ResourceRef {
  /** Fully qualified message name, e.g. `shop.user.v1.User`. */
  type: string;
  /** Identifier of the resource; never personal data. */
  name: string;
}

/** The structured part of an error, sent to callers in the status details. */
export interface ErrorDetails {
  /** Stable UPPER_SNAKE_CASE reason (google.rpc.ErrorInfo.reason). */
  reason: string;
  fieldViolations?: readonly FieldViolation[];
  preconditionViolations?: readonly PreconditionViolation[];
  resource?: ResourceRef;
  /** Extra facts for ErrorInfo.metadata, e.g. `{ field: 'email' }`; never personal data. */
  metadata?: Readonly<Record<string, string>>;
  /** Suggested wait before retrying (google.rpc.RetryInfo). */
  retryDelayMs?: number;
}

/**
 * An expected failure: a canonical gRPC code, a message safe to show callers,
 * and structured details. `cause` is kept for logs and never sent.
 * Everything that is not a ServerError reaches callers as INTERNAL.
 */
export class ServerError extends Error {
  override name = 'ServerError';

  constructor(
    readonly code: status,
    message: string,
    readonly details: ErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * INVALID_ARGUMENT with every violation; the message names the first few
 * fields and counts the rest, and the status sent lists as many (see
 * errorLimits), so any number of violations makes a small answer.
 */
export function invalidArgument(violations: readonly FieldViolation[]): ServerError {
  const fields = listWithCount(
    violations.map((v) => v.field),
    errorLimits.listedViolations,
  );
  return new ServerError(status.INVALID_ARGUMENT, `invalid request: ${fields}`, {
    reason: 'INVALID_FIELDS',
    fieldViolations: violations,
  });
}

export function notFound(resource: ResourceRef): ServerError {
  return new ServerError(status.NOT_FOUND, `${resource.type} ${resource.name} not found`, {
    reason: 'NOT_FOUND',
    resource,
  });
}

/** ALREADY_EXISTS for a unique `field`; the message must not quote the value. */
export function alreadyExists(message: string, reason: string, field: string): ServerError {
  return new ServerError(status.ALREADY_EXISTS, message, { reason, metadata: { field } });
}

/** PERMISSION_DENIED: the caller is known but may not do this. */
export function permissionDenied(message: string, reason: string): ServerError {
  return new ServerError(status.PERMISSION_DENIED, message, { reason });
}

export function failedPrecondition(
  message: string,
  reason: string,
  violations: readonly PreconditionViolation[],
): ServerError {
  return new ServerError(status.FAILED_PRECONDITION, message, {
    reason,
    preconditionViolations: violations,
  });
}

export function unavailable(
  message: string,
  reason: string,
  options: { cause?: unknown; retryDelayMs?: number } = {},
): ServerError {
  return new ServerError(
    status.UNAVAILABLE,
    message,
    {
      reason,
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
    },
    { cause: options.cause },
  );
}

/** The call's deadline passed (the caller's, or the server's cap on call duration). */
export function deadlineExceeded(): ServerError {
  return new ServerError(status.DEADLINE_EXCEEDED, 'the deadline passed', {
    reason: 'DEADLINE_EXCEEDED',
  });
}

/**
 * How long before our copy of the deadline a cancellation still counts as
 * the deadline passing: a tenth of the call's time budget, from 100 ms to 1 s.
 */
function deadlineSlackMs(deadline: Date, receivedAt: number): number {
  return Math.max(100, Math.min(1000, (deadline.getTime() - receivedAt) / 10));
}

/**
 * The caller cancelled the call or its deadline passed while we waited on a
 * dependency. grpc-js has already answered it; this only ends the handler
 * quietly, without blaming the dependency, and says which of the two the
 * caller saw, for the access log and the metrics.
 *
 * A caller whose deadline passes reports DEADLINE_EXCEEDED to itself and
 * only sends us a cancellation (RST_STREAM), exactly as an explicit cancel
 * does. Our deadline is the caller's timeout counted from when we read the
 * headers, so it falls later than the caller's by the transit time and any
 * event-loop delay, and the cancellation usually arrives before it. So a
 * cancellation that arrives within the slack of our deadline is taken as
 * the caller's deadline passing; an explicit cancel that late in a call's
 * budget is counted as DEADLINE_EXCEEDED too, which is the lesser error.
 */
export function callerGone(context: { deadline: Date; receivedAt: number }): ServerError {
  const { deadline } = context;
  const expired = Date.now() >= deadline.getTime() - deadlineSlackMs(deadline, context.receivedAt);
  return expired
    ? deadlineExceeded()
    : new ServerError(status.CANCELLED, 'the caller cancelled the call', { reason: 'CANCELLED' });
}
