import { type CallOptions, Metadata, propagate } from '@grpc/grpc-js';
import type { CallContext } from './call-context.js';

/** Headers copied from an inbound call to every call it makes. */
const forwardedHeaders = ['x-request-id'];

/**
 * Call options for an outbound call made while serving `context`.
 *
 * The deadline is the earlier of `timeoutMs` from now and the caller's own
 * deadline less some headroom (a tenth of what is left, at most 100 ms), so a
 * slow dependency times out while there is still time to answer the caller,
 * e.g. with a degraded response. Cancellation by the caller propagates.
 */
export function outboundCallOptions(context: CallContext, timeoutMs: number): CallOptions {
  const now = Date.now();
  let deadline = now + timeoutMs;
  if (context.deadline) {
    const remaining = context.deadline.getTime() - now;
    deadline = Math.min(deadline, now + remaining - Math.min(100, remaining / 10));
  }
  return {
    deadline: new Date(deadline),
    parent: context.call,
    propagate_flags: propagate.CANCELLATION,
  };
}

/** Metadata for an outbound call: the inbound headers that follow a request across services. */
export function outboundMetadata(context: CallContext): Metadata {
  const metadata = new Metadata();
  for (const key of forwardedHeaders) {
    for (const value of context.metadata.get(key)) metadata.add(key, value);
  }
  return metadata;
}
