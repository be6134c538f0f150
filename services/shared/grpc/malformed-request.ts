import { BinaryReader } from '@bufbuild/protobuf/wire';
import { status } from '@grpc/grpc-js';
import { ServerError } from '../errors/server-error.js';

/** Stands in for a request whose bytes are not a valid protobuf message. */
class MalformedRequest {}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Decodes a string field's bytes, throwing on invalid UTF-8 instead of writing U+FFFD. */
const decodeUtf8Strictly = (bytes: Uint8Array) => strictUtf8.decode(bytes);

/**
 * grpc-js answers a request that fails to deserialize with INTERNAL, which
 * blames the server for the caller's bytes, and before any handler runs. The
 * deserializer returned here lets such a request through as a marker
 * instead, which the handler wrapper (bind-service.ts, bind-server-stream.ts)
 * answers with INVALID_ARGUMENT like any other bad input, access line and
 * metrics included.
 *
 * A string field must hold valid UTF-8 (proto3; Go and C++ parsers reject
 * it too), where the default decoder would quietly store U+FFFD. ts-proto's
 * `decode` reads from a BinaryReader as readily as from bytes, so it gets
 * one whose UTF-8 decoding is strict, and nested messages share it.
 */
export function tolerantDeserializer<Req>(
  requestDeserialize: (bytes: Buffer) => Req,
): (bytes: Buffer) => Req | MalformedRequest {
  return (bytes) => {
    try {
      const reader = new BinaryReader(bytes, decodeUtf8Strictly);
      return requestDeserialize(reader as unknown as Buffer);
    } catch {
      return new MalformedRequest();
    }
  };
}

/** The INVALID_ARGUMENT a malformed request gets, or undefined for a well-formed one. */
export function malformedRequestError(request: unknown): ServerError | undefined {
  if (!(request instanceof MalformedRequest)) return undefined;
  return new ServerError(
    status.INVALID_ARGUMENT,
    'the request is not a valid protobuf message for this method (strings must be valid UTF-8)',
    { reason: 'MALFORMED_REQUEST' },
  );
}
