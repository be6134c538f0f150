import type { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { Metadata, type StatusObject } from '@grpc/grpc-js';
import type { Any } from '../../gen/google/protobuf/any.pb.js';
import {
  BadRequest,
  ErrorInfo,
  PreconditionFailure,
  ResourceInfo,
  RetryInfo,
} from '../../gen/google/rpc/error_details.pb.js';
import { Status } from '../../gen/google/rpc/status.pb.js';
import type { ErrorDetails } from './server-error.js';

/**
 * The trailer that carries a serialized google.rpc.Status: the gRPC rich
 * error model, which grpcurl prints and every gRPC language can decode.
 */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

export interface Codec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array): T;
}

export const typeUrl = (name: string) => `type.googleapis.com/${name}`;

function pack<T>(name: string, codec: Codec<T>, message: T): Any {
  return { typeUrl: typeUrl(name), value: Buffer.from(codec.encode(message).finish()) };
}

/** Builds the status a grpc-js handler passes to its callback. */
export function toStatusObject(
  code: number,
  message: string,
  details: ErrorDetails,
  domain: string,
): Partial<StatusObject> {
  const packed: Any[] = [
    pack('google.rpc.ErrorInfo', ErrorInfo, {
      reason: details.reason,
      domain,
      metadata: { ...details.metadata },
    }),
  ];
  if (details.fieldViolations?.length) {
    packed.push(
      pack('google.rpc.BadRequest', BadRequest, {
        fieldViolations: details.fieldViolations.map((v) => ({
          field: v.field,
          description: v.description,
          reason: '',
          localizedMessage: undefined,
        })),
      }),
    );
  }
  if (details.preconditionViolations?.length) {
    packed.push(
      pack('google.rpc.PreconditionFailure', PreconditionFailure, {
        violations: [...details.preconditionViolations],
      }),
    );
  }
  if (details.resource) {
    packed.push(
      pack('google.rpc.ResourceInfo', ResourceInfo, {
        resourceType: details.resource.type,
        resourceName: details.resource.name,
        owner: '',
        description: '',
      }),
    );
  }
  if (details.retryDelayMs !== undefined) {
    const ms = details.retryDelayMs;
    packed.push(
      pack('google.rpc.RetryInfo', RetryInfo, {
        retryDelay: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 },
      }),
    );
  }
  const metadata = new Metadata();
  metadata.set(
    STATUS_DETAILS_KEY,
    Buffer.from(Status.encode({ code, message, details: packed }).finish()),
  );
  return { code, details: message, metadata };
}
