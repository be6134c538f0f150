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
import { errorLimits, truncate } from './error-limits.js';
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

const cut = (text: string) => truncate(text, errorLimits.textChars);

/** ErrorInfo.metadata within errorLimits, plus the violation counts when some were left out. */
function boundedMetadata(
  details: ErrorDetails,
  listed: { field: number; precondition: number },
): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(details.metadata ?? {}).slice(
    0,
    errorLimits.metadataEntries,
  )) {
    metadata[cut(key)] = cut(value);
  }
  const fields = details.fieldViolations?.length ?? 0;
  const preconditions = details.preconditionViolations?.length ?? 0;
  if (listed.field < fields) {
    metadata.violations = String(fields);
    metadata.violations_listed = String(listed.field);
  }
  if (listed.precondition < preconditions) {
    metadata.precondition_violations = String(preconditions);
    metadata.precondition_violations_listed = String(listed.precondition);
  }
  return metadata;
}

function encodeStatus(
  code: number,
  message: string,
  details: ErrorDetails,
  domain: string,
  listed: { field: number; precondition: number },
): Buffer {
  const packed: Any[] = [
    pack('google.rpc.ErrorInfo', ErrorInfo, {
      reason: cut(details.reason),
      domain,
      metadata: boundedMetadata(details, listed),
    }),
  ];
  const fieldViolations = details.fieldViolations?.slice(0, listed.field) ?? [];
  if (fieldViolations.length > 0) {
    packed.push(
      pack('google.rpc.BadRequest', BadRequest, {
        fieldViolations: fieldViolations.map((v) => ({
          field: cut(v.field),
          description: cut(v.description),
          reason: '',
          localizedMessage: undefined,
        })),
      }),
    );
  }
  const preconditions = details.preconditionViolations?.slice(0, listed.precondition) ?? [];
  if (preconditions.length > 0) {
    packed.push(
      pack('google.rpc.PreconditionFailure', PreconditionFailure, {
        violations: preconditions.map((v) => ({
          type: cut(v.type),
          subject: cut(v.subject),
          description: cut(v.description),
        })),
      }),
    );
  }
  if (details.resource) {
    packed.push(
      pack('google.rpc.ResourceInfo', ResourceInfo, {
        resourceType: cut(details.resource.type),
        resourceName: cut(details.resource.name),
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
  return Buffer.from(Status.encode({ code, message, details: packed }).finish());
}

/**
 * Builds the status a grpc-js handler passes to its callback, within
 * errorLimits whatever the error holds: the message and every text cut to
 * length, at most a few violations listed (ErrorInfo.metadata then says how
 * many there were), and violations dropped from the end until the encoded
 * google.rpc.Status fits its byte budget.
 */
export function toStatusObject(
  code: number,
  message: string,
  details: ErrorDetails,
  domain: string,
): Partial<StatusObject> {
  const bounded = truncate(message, errorLimits.messageChars);
  const listed = {
    field: Math.min(details.fieldViolations?.length ?? 0, errorLimits.listedViolations),
    precondition: Math.min(
      details.preconditionViolations?.length ?? 0,
      errorLimits.listedViolations,
    ),
  };
  let encoded = encodeStatus(code, bounded, details, domain, listed);
  while (encoded.length > errorLimits.statusBytes && listed.field + listed.precondition > 0) {
    if (listed.field > 0) listed.field--;
    else listed.precondition--;
    encoded = encodeStatus(code, bounded, details, domain, listed);
  }
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encoded);
  return { code, details: bounded, metadata };
}
