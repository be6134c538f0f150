import { type CallOptions, type ServiceError, status } from '@grpc/grpc-js';
import { type Span, SpanStatusCode } from '@opentelemetry/api';
import type { Owner } from '../gen/shop/product/v1/product_service.pb.js';
import type { UserServiceClient } from '../gen/shop/user/v1/user_service.pb.js';
import { summarizeError } from '../shared/errors/describe-error.js';
import { callerGone, unavailable } from '../shared/errors/server-error.js';
import type { CallContext } from '../shared/grpc/call-context.js';
import { outboundCallOptions, outboundMetadata } from '../shared/grpc/outbound-call-options.js';
import { unaryCall } from '../shared/grpc/unary-call.js';
import { recurringWarning } from '../shared/process/recurring-warning.js';
import {
  clientMetricsInterceptor,
  createClientRpcMetrics,
} from '../shared/telemetry/rpc-metrics.js';
import { inSpan } from '../shared/telemetry/tracer.js';

/**
 * ProductService's view of UserService: owners by id, with the failure
 * policy in one place. Reads degrade when UserService cannot answer; writes
 * fail fast with UNAVAILABLE.
 */
export interface OwnerDirectory {
  /** The owner, or undefined when no such user exists. Throws UNAVAILABLE when UserService cannot answer. */
  find(id: string, context: CallContext): Promise<Owner | undefined>;
  /** The owners of `ids` that exist, from one BatchGetUsers call; undefined when UserService cannot answer. */
  resolve(ids: readonly string[], context: CallContext): Promise<Map<string, Owner> | undefined>;
}

/** How often, at most, an outage writes its `owners unresolved` line (with the count of reads). */
export const ownersUnresolvedIntervalMs = 5000;

export interface OwnerDirectoryOptions {
  /** Deadline for each UserService call when the inbound call has a later one or none. */
  timeoutMs: number;
}

/** Codes that mean "UserService could not answer now", as opposed to a bug on either side. */
const outage = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.CANCELLED,
]);

const isGrpcError = (error: unknown): error is ServiceError =>
  error instanceof Error && typeof (error as ServiceError).code === 'number';

/** A user's public profile: never its email. */
const toOwner = (user: { id: string; username: string }): Owner => ({
  id: user.id,
  username: user.username,
});

/** `UNAVAILABLE`, or the error's type when it is not a gRPC status. */
const failureOf = (error: unknown) =>
  isGrpcError(error) ? (status[error.code] ?? String(error.code)) : (error as Error).name;

/** Marks the owner-resolution span: a reader of the trace sees why the owners are missing. */
function markDegraded(span: Span, error: unknown): void {
  span.setAttribute('shop.owner_resolution', 'unavailable');
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: `user service failed (${failureOf(error)}): products returned without owners`,
  });
}

export function createOwnerDirectory(
  client: UserServiceClient,
  options: OwnerDirectoryOptions,
): OwnerDirectory {
  const interceptors = [clientMetricsInterceptor(createClientRpcMetrics())];
  const unresolved = recurringWarning('owners unresolved', ownersUnresolvedIntervalMs);
  /** Deadline, cancellation and forwarded headers from the call being served. */
  const callOptions = (context: CallContext): Partial<CallOptions> => ({
    ...outboundCallOptions(context, options.timeoutMs),
    interceptors,
  });
  return {
    find: (id, context) =>
      // A span of its own, so the trace shows the owner check as one step.
      inSpan('find owner', {}, async (span) => {
        try {
          const { user } = await unaryCall(
            client,
            'getUser',
            { id },
            callOptions(context),
            outboundMetadata(context),
          );
          span.setAttribute('shop.owner.found', user !== undefined);
          return user && toOwner(user);
        } catch (error) {
          // Our caller gave up and the call was cancelled with it: nothing
          // is wrong with UserService, and nobody will read the answer.
          if (context.signal.aborted) throw callerGone(context);
          if (isGrpcError(error) && error.code === status.NOT_FOUND) {
            span.setAttribute('shop.owner.found', false);
            return undefined;
          }
          if (isGrpcError(error) && outage.has(error.code)) {
            throw unavailable(
              'user service is unavailable, so the owner cannot be checked; retry later',
              'USER_SERVICE_UNAVAILABLE',
              { cause: error, retryDelayMs: 1000 },
            );
          }
          throw error;
        }
      }),

    async resolve(ids, context) {
      if (ids.length === 0) return new Map();
      return inSpan('resolve owners', { 'shop.owners.requested': ids.length }, async (span) => {
        try {
          const { users } = await unaryCall(
            client,
            'batchGetUsers',
            { ids: [...ids] },
            callOptions(context),
            outboundMetadata(context),
          );
          span.setAttributes({
            'shop.owners.resolved': users.length,
            'shop.owner_resolution': 'complete',
          });
          return new Map(users.map((user) => [user.id, toOwner(user)]));
        } catch (error) {
          // Any failure degrades the read rather than failing it: products
          // without owner details beat no products.
          markDegraded(span, error);
          if (!context.signal.aborted) {
            unresolved.record(context.log, { err: summarizeError(error), owners: ids.length });
          }
          return undefined;
        }
      });
    },
  };
}
