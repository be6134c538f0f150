// Client side of the rich error model: what a caller reads from a failed
// call. Used by tests, scripts and examples; the services only encode
// (services/shared/errors/status-details.ts).
import type { ServiceError } from '@grpc/grpc-js';
import {
  BadRequest,
  ErrorInfo,
  PreconditionFailure,
  ResourceInfo,
  RetryInfo,
} from '../../services/gen/google/rpc/error_details.pb.js';
import { Status } from '../../services/gen/google/rpc/status.pb.js';
import {
  type Codec,
  STATUS_DETAILS_KEY,
  typeUrl,
} from '../../services/shared/errors/status-details.js';

/** The decoded rich error model of a failed call, for clients. */
export interface DecodedStatus {
  code: number;
  message: string;
  errorInfo?: ErrorInfo;
  badRequest?: BadRequest;
  preconditionFailure?: PreconditionFailure;
  resourceInfo?: ResourceInfo;
  retryInfo?: RetryInfo;
}

const detailCodecs = {
  errorInfo: ['google.rpc.ErrorInfo', ErrorInfo],
  badRequest: ['google.rpc.BadRequest', BadRequest],
  preconditionFailure: ['google.rpc.PreconditionFailure', PreconditionFailure],
  resourceInfo: ['google.rpc.ResourceInfo', ResourceInfo],
  retryInfo: ['google.rpc.RetryInfo', RetryInfo],
} as const;

/**
 * Reads google.rpc.Status details from an error thrown by a generated client,
 * e.g. `decodeStatus(err).badRequest?.fieldViolations`.
 */
export function decodeStatus(error: ServiceError): DecodedStatus {
  const decoded: DecodedStatus = { code: error.code, message: error.details };
  const [raw] = error.metadata?.get(STATUS_DETAILS_KEY) ?? [];
  if (!(raw instanceof Buffer)) return decoded;
  const status = Status.decode(raw);
  const byUrl = new Map(status.details.map((any) => [any.typeUrl, any.value]));
  for (const [key, [name, codec]] of Object.entries(detailCodecs)) {
    const value = byUrl.get(typeUrl(name));
    if (value) Object.assign(decoded, { [key]: (codec as Codec<unknown>).decode(value) });
  }
  return decoded;
}
