import { type CallOptions, type ServiceError as GrpcServiceError, status } from '@grpc/grpc-js';
import { expect } from 'vitest';
import { type DecodedStatus, decodeStatus } from '../../scripts/lib/decode-status.js';

/** Awaits a call that must fail with `code`; returns its decoded rich status. */
export async function expectStatus(call: Promise<unknown>, code: status): Promise<DecodedStatus> {
  const error = await call.then(
    (response) => {
      throw new Error(
        `expected ${status[code]}, got a response: ${JSON.stringify(response, bigints)}`,
      );
    },
    (e: GrpcServiceError) => e,
  );
  expect(status[error.code], error.details).toBe(status[code]);
  return decodeStatus(error);
}

/** JSON.stringify replacer for messages with int64 fields. */
export function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export const deadlineIn = (ms: number): Partial<CallOptions> => ({ deadline: Date.now() + ms });
