import {
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { serviceOfMethod } from './error-mapper.js';
import { toStatusObject } from './status-details.js';

/** Stands in for a request whose bytes are not a valid protobuf message. */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

/**
 * grpc-js answers a request that fails to deserialize with INTERNAL, which
 * blames the server for the caller's bytes. This keeps the registration's
 * types but lets such a request through as a marker, which the wrapped
 * handler answers with INVALID_ARGUMENT.
 */
export function rejectMalformedRequests(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const safeDefinition: Record<string, ServiceDefinition[string]> = {};
  const safeImplementation: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    safeDefinition[name] = {
      ...method,
      requestDeserialize(bytes: Buffer) {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return new MalformedRequest(error instanceof Error ? error.message : 'undecodable');
        }
      },
    };
    const handler = implementation[name] as (
      call: ServerUnaryCall<unknown, unknown>,
      callback: sendUnaryData<unknown>,
    ) => void;
    safeImplementation[name] = (
      call: ServerUnaryCall<unknown, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      if (!(call.request instanceof MalformedRequest)) return handler(call, callback);
      callback(
        toStatusObject(
          status.INVALID_ARGUMENT,
          'the request is not a valid protobuf message for this method',
          { reason: 'MALFORMED_REQUEST' },
          serviceOfMethod(method.path),
        ),
      );
    };
  }
  return { definition: safeDefinition, implementation: safeImplementation };
}
