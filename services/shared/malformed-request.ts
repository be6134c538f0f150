import type { ServiceDefinition } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ServiceError } from './errors.js';

/** Stands in for a request whose bytes are not a valid protobuf message. */
class MalformedRequest {}

/**
 * grpc-js answers a request that fails to deserialize with INTERNAL, which
 * blames the server for the caller's bytes, and before any handler runs. This
 * definition lets such a request through as a marker instead, which
 * bindService answers with INVALID_ARGUMENT like any other bad input, access
 * line and metrics included.
 */
export function acceptMalformedRequests(definition: ServiceDefinition): ServiceDefinition {
  const tolerant: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    tolerant[name] = {
      ...method,
      requestDeserialize(bytes: Buffer) {
        try {
          return method.requestDeserialize(bytes);
        } catch {
          return new MalformedRequest();
        }
      },
    };
  }
  return tolerant;
}

/** Throws INVALID_ARGUMENT when `request` is the marker of undecodable bytes. */
export function assertWellFormed(request: unknown): void {
  if (request instanceof MalformedRequest) {
    throw new ServiceError(
      status.INVALID_ARGUMENT,
      'the request is not a valid protobuf message for this method',
      { reason: 'MALFORMED_REQUEST' },
    );
  }
}
